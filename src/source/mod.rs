//! Producers of [`crate::entry::Entry`] streams: host directories, and
//! archives (tar over xz/gzip/zstd) with name safety, reading a release's
//! sets in order while they decompress in parallel.

pub mod archive;
pub mod dir;
pub mod path;
pub mod sets;
