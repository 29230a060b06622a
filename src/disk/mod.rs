//! Disks: the [`BlockDevice`] abstraction, output formats (raw, qcow2) and
//! partition layouts (GPT with a protective MBR).

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
