//! NetBSD's personality: configuration files as NetBSD spells them, the
//! `/dev` nodes `MAKEDEV all` creates, and the builds service's
//! `functions` file. Pure functions from small inputs to file contents.

pub mod boot;
pub mod config;
pub mod devices;
pub mod functions;
pub mod system;
