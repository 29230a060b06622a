//! Opening the root file system of an image for `verify`, `ls` and `cat`:
//! qcow2 or raw, a GPT disk (its first FFS/UFS partition) or a bare file
//! system. See [`crate::verify::open_root_fs`].

pub use crate::verify::open_root_fs;
