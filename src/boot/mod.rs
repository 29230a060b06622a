//! Boot code placed outside any file system: the x86 partition boot
//! sectors (`bootxx_*` with their `x86_boot_params` patch area) and the
//! protective-MBR boot code, both the 440-byte kind and the sector-sized
//! kind that loads a whole boot partition. Byte-level rules only; which files to use
//! and with which settings is the OS personality's business.

pub mod gpt_pmbr;
pub mod x86_bootxx;
