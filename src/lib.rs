//! mkimage: bootable NetBSD and FreeBSD VM images written in user space.
//!
//! Data flow (DESIGN.md): recipe → fetch (verified, cached) → sources
//! (archives, packages, generated files) as [`entry::Entry`] streams → FFS
//! writer → partition window → [`disk::BlockDevice`] (raw or qcow2).

pub mod cli;
pub mod commands;
pub mod disk;
pub mod entry;
pub mod fs;
pub mod progress;
pub mod testkit;
