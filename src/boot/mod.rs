//! Boot code placed outside any file system: the x86 partition boot
//! sectors (`bootxx_*` with their `x86_boot_params` patch area) and the
//! protective-MBR boot code. Byte-level rules only; which files to use
//! and with which settings is the OS personality's business.

pub mod x86_bootxx;
