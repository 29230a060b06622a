//! mkimage: bootable NetBSD and FreeBSD VM images written in user space.
//!
//! Data flow (DESIGN.md): recipe → fetch (verified, cached) → sources
//! (archives, packages, generated files) as [`entry::Entry`] streams → FFS
//! writer → partition window → [`disk::BlockDevice`] (raw or qcow2).

pub mod accounts;
pub mod boot;
pub mod build;
pub mod cli;
pub mod commands;
pub mod db185;
pub mod disk;
pub mod entry;
pub mod fetch;
pub mod fs;
pub mod mtree;
pub mod os;
pub mod pkg_freebsd;
pub mod pkgsrc;
pub mod progress;
pub mod publish;
pub mod recipe;
pub mod run;
pub mod size;
pub mod source;
pub mod sshkeys;
pub mod testkit;
pub mod verify;
