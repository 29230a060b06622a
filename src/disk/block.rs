//! The byte-addressed device every file-system writer targets, and the
//! partition window over it. Only the output formats (raw, qcow2) know how
//! bytes reach the host file; nothing above this trait does.

use std::io;

/// A fixed-size, byte-addressed device. Reads of never-written ranges return
/// zeros. Offsets and lengths need not be aligned, but writers should issue
/// large aligned writes where they can: formats may be much faster then.
pub trait BlockDevice {
    /// Fill `buf` from `offset`; reading past `len()` is an error.
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Write `buf` at `offset`; writing past `len()` is an error.
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// The virtual size in bytes.
    fn len(&self) -> u64;
    /// Push buffered data to the host file (formats may also finish their
    /// metadata only at [`crate::disk::Format`]-specific finish time).
    fn flush(&mut self) -> io::Result<()>;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: BlockDevice + ?Sized> BlockDevice for &mut T {
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        (**self).read_at(buf, offset)
    }
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        (**self).write_at(buf, offset)
    }
    fn len(&self) -> u64 {
        (**self).len()
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
}

impl<T: BlockDevice + ?Sized> BlockDevice for Box<T> {
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        (**self).read_at(buf, offset)
    }
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        (**self).write_at(buf, offset)
    }
    fn len(&self) -> u64 {
        (**self).len()
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
}

fn out_of_range(what: &str, offset: u64, len: usize, size: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{what} of {len} bytes at offset {offset} is beyond the end of a {size}-byte device"
        ),
    )
}

/// Check that `len` bytes at `offset` lie within a device of `size` bytes.
pub fn check_range(what: &str, offset: u64, len: usize, size: u64) -> io::Result<()> {
    match offset.checked_add(len as u64) {
        Some(end) if end <= size => Ok(()),
        _ => Err(out_of_range(what, offset, len, size)),
    }
}

/// A partition: the range `offset .. offset + len` of an underlying device,
/// addressed from 0.
pub struct Window<D: BlockDevice> {
    inner: D,
    offset: u64,
    len: u64,
}

impl<D: BlockDevice> Window<D> {
    /// A window over `inner`; fails when the range does not fit.
    pub fn new(inner: D, offset: u64, len: u64) -> io::Result<Self> {
        match offset.checked_add(len) {
            Some(end) if end <= inner.len() => Ok(Window { inner, offset, len }),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "partition of {len} bytes at offset {offset} does not fit a {}-byte disk",
                    inner.len()
                ),
            )),
        }
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn into_inner(self) -> D {
        self.inner
    }
}

impl<D: BlockDevice> BlockDevice for Window<D> {
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        check_range("read", offset, buf.len(), self.len)?;
        self.inner.read_at(buf, self.offset + offset)
    }
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        check_range("write", offset, buf.len(), self.len)?;
        self.inner.write_at(buf, self.offset + offset)
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// An in-memory device, for tests and for small file systems (an ESP) that
/// are built in memory and then copied in.
#[derive(Debug, Clone)]
pub struct MemDevice {
    bytes: Vec<u8>,
}

impl MemDevice {
    pub fn new(len: usize) -> Self {
        MemDevice {
            bytes: vec![0; len],
        }
    }
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        MemDevice { bytes }
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
    pub fn into_vec(self) -> Vec<u8> {
        self.bytes
    }
}

impl BlockDevice for MemDevice {
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        check_range("read", offset, buf.len(), self.len())?;
        let start = offset as usize;
        buf.copy_from_slice(&self.bytes[start..start + buf.len()]);
        Ok(())
    }
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        check_range("write", offset, buf.len(), self.len())?;
        let start = offset as usize;
        self.bytes[start..start + buf.len()].copy_from_slice(buf);
        Ok(())
    }
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_translates_offsets_and_refuses_overruns() {
        let mut dev = MemDevice::new(4096);
        {
            let mut w = Window::new(&mut dev, 1024, 1024).unwrap();
            w.write_at(b"abc", 10).unwrap();
            assert!(w.write_at(b"abc", 1022).is_err());
            let mut back = [0u8; 3];
            w.read_at(&mut back, 10).unwrap();
            assert_eq!(&back, b"abc");
        }
        assert_eq!(&dev.as_bytes()[1034..1037], b"abc");
        assert!(Window::new(&mut dev, 4000, 100).is_err());
    }
}
