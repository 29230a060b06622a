//! Small but complete disk images for tests that need a valid image
//! without building a whole OS: a GPT with an ESP and an FFS root holding
//! one file, written with the product's own disk and file-system code, so
//! that `mkimage verify` accepts it.

use std::path::Path;

use anyhow::{Context, Result};

use crate::disk::format::{Format, create_device};
use crate::disk::gpt;
use crate::disk::guid::derive_guid;
use crate::disk::layout::{DiskLayout, PartSize, PartitionSpec};
use crate::disk::{BlockDevice, Window};
use crate::entry::{Entry, Timestamp, add_bytes};
use crate::fs::ffs::{FfsWriter, Flavour, FsOptions};

/// Write a 64 MiB qcow2 (or raw) disk to `path` whose root file system
/// holds `/tag` with `tag` as its content: different tags give images with
/// different bytes.
pub fn tiny_disk(path: &Path, format: Format, tag: &str) -> Result<()> {
    let size = 64 << 20;
    let layout = DiskLayout {
        disk_guid: derive_guid(tag, "disk"),
        partitions: vec![
            PartitionSpec {
                label: "EFI".into(),
                type_guid: gpt::types::EFI_SYSTEM,
                size: PartSize::Bytes(8 << 20),
                attributes: 0,
                guid: derive_guid(tag, "esp"),
            },
            PartitionSpec {
                label: "root".into(),
                type_guid: gpt::types::NETBSD_FFS,
                size: PartSize::Rest,
                attributes: gpt::attr::BOOTME,
                guid: derive_guid(tag, "root"),
            },
        ],
    };
    let placement = layout.place(size).context("placing the tiny disk")?;
    let mut dev = create_device(path, format, size, false)
        .with_context(|| format!("creating {}", path.display()))?;
    let time = Timestamp::from_secs(1_700_000_000);
    {
        let esp = &placement.partitions[0];
        let mut w = Window::new(
            &mut *dev as &mut dyn BlockDevice,
            esp.first_byte,
            esp.len_bytes,
        )?;
        crate::fs::fat::build_esp(&mut w, &[], "EFI", 1, time)?;
    }
    {
        let root = &placement.partitions[1];
        let w = Window::new(
            &mut *dev as &mut dyn BlockDevice,
            root.first_byte,
            root.len_bytes,
        )?;
        let mut opts = FsOptions::new(root.len_bytes, Flavour::NetBsd);
        opts.time = time;
        let mut ffs = FfsWriter::new(w, opts)?;
        add_bytes(&mut ffs, Entry::file("tag", 0o644, 0, time), tag.as_bytes())?;
        ffs.finish()?;
    }
    gpt::write_gpt(&mut *dev, &placement, None)?;
    dev.finish()?;
    Ok(())
}
