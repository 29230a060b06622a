//! Test and benchmark support, compiled into the library so that tests,
//! `scripts/bench` and the `mkimage-testkit` binary share it: synthetic
//! mirrors, a faulty HTTP server, and firmware-boot helpers. Nothing in the
//! product's build path uses this module.

pub mod disk;
pub mod efi;
pub mod freebsd_pkgrepo;
pub mod mirror;
pub mod ovmf;
pub mod pkgrepo;
pub mod server;
