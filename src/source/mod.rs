//! Producers of [`crate::entry::Entry`] streams.

pub mod dir;
//! Producers of [`crate::entry::Entry`] streams from archives: tar over
//! xz/gzip/zstd, name safety, and reading a release's sets in order while
//! they decompress in parallel.
pub mod archive;
pub mod path;
pub mod sets;
