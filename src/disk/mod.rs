//! Disks: the [`BlockDevice`] abstraction, output formats (raw, qcow2) and
//! partition layouts (GPT with a protective MBR).

pub mod block;
pub mod raw;

pub use block::{BlockDevice, MemDevice, Window};
pub use raw::RawFile;
