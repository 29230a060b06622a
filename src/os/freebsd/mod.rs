//! FreeBSD's personality: configuration files as FreeBSD spells them, the
//! boot chain and disk layout of the release's VM images, and the builds
//! service's `functions` file. Pure functions from small inputs to file
//! contents and layouts.

pub mod boot;
pub mod config;
pub mod files;
pub mod functions;
