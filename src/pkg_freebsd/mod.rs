//! FreeBSD binary packages (`pkg(8)`'s `.pkg` files and repository
//! catalogues), installed at build time: read a package's manifest, check
//! and stream its payload into the image, and resolve a package list with
//! its dependencies from a repository catalogue, and register them in
//! pkg's `local.sqlite` (see docs/freebsd.md for the choice).

pub mod archive;
pub mod catalogue;
pub mod manifest;
pub mod pkgdb;

pub use archive::{InstalledPackage, SampleConfig, read_package};
pub use catalogue::{Catalogue, Planned, resolve};
pub use manifest::Manifest;
