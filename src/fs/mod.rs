//! File-system formats written and read by mkimage.

pub mod ffs;
//! File systems written into a partition window.
pub mod fat;
