//! Berkeley DB 1.85 on-disk formats that the target systems read through
//! `dbopen(3)`. Only the **hash** access method lives here (`pwd.db`,
//! `spwd.db`); btree files (`pkgdb.byfile.db`) come from the external `db185`
//! crate. Format code: it knows nothing about passwords or operating systems.

pub mod hash;
