//! Disks: the [`BlockDevice`] abstraction, output formats (raw, qcow2) and
//! partition layouts (GPT with a protective MBR).
//!
//! Assembling an image:
//! 1. describe the partitions as a [`layout::DiskLayout`] (GUIDs from
//!    [`guid::derive_guid`]) and [`layout::DiskLayout::place`] it;
//! 2. reserve the output with [`output::AtomicOutput::new`] and open a
//!    device on its temporary path with [`format::create_device`];
//! 3. [`gpt::write_gpt`], then write each file system through a
//!    [`Window`] over its partition (`first_byte`, `len_bytes`);
//! 4. [`format::OutputDevice::finish`], then
//!    [`output::AtomicOutput::commit`].
//!
//! [`image::open_image`] opens a finished image of either format read-only.

pub mod block;
pub mod format;
pub mod gpt;
pub mod guid;
pub mod image;
pub mod layout;
pub mod output;
pub mod qcow2;
pub mod raw;
pub mod stream;

pub use block::{BlockDevice, MemDevice, Window};
pub use format::{Format, OutputDevice, create_device};
pub use raw::RawFile;
