//! `Read + Write + Seek` over a [`BlockDevice`], for crates that want a
//! stream (the `gpt` and `fatfs` crates).

use std::io::{self, Read, Seek, SeekFrom, Write};

use super::block::BlockDevice;

/// A cursor over a device.
pub struct DeviceStream<'a> {
    dev: &'a mut dyn BlockDevice,
    pos: u64,
}

impl<'a> DeviceStream<'a> {
    pub fn new(dev: &'a mut dyn BlockDevice) -> Self {
        DeviceStream { dev, pos: 0 }
    }
}

impl std::fmt::Debug for DeviceStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceStream({} bytes, at {})", self.dev.len(), self.pos)
    }
}

impl Read for DeviceStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self
            .dev
            .len()
            .saturating_sub(self.pos)
            .min(buf.len() as u64) as usize;
        self.dev.read_at(&mut buf[..n], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Write for DeviceStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.dev.write_at(buf, self.pos)?;
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.dev.flush()
    }
}

impl Seek for DeviceStream<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.dev.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = new.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the device",
            )
        })?;
        Ok(self.pos)
    }
}
