//! Producers of [`crate::entry::Entry`] streams.

pub mod dir;
