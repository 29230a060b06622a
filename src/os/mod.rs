//! Operating-system personalities: how each OS spells what a recipe asks
//! for (configuration files, device nodes, boot settings). No byte layouts
//! here; those live in the format modules.

pub mod common;
pub mod freebsd;
pub mod functions;
pub mod netbsd;
pub mod sshd;
