//! File-system formats written and read by mkimage.

pub mod ffs;
