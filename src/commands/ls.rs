//! `mkimage ls IMAGE [PATH]`: list a directory (or one file) of the
//! image's root file system like `ls -l`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::fs::ffs::dinode::*;
use crate::fs::ffs::reader::Stat;
use crate::fs::ffs::{FfsReader, Flavour};

/// `drwxr-xr-x`-style mode string.
pub fn mode_string(mode: u16) -> String {
    let t = match mode & IFMT {
        IFDIR => 'd',
        IFLNK => 'l',
        IFCHR => 'c',
        IFBLK => 'b',
        IFIFO => 'p',
        IFSOCK => 's',
        _ => '-',
    };
    let mut s = String::with_capacity(10);
    s.push(t);
    let bits = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    for (i, (b, c)) in bits.iter().enumerate() {
        let on = mode & b != 0;
        let special = match i {
            2 => Some((0o4000, 's', 'S')),
            5 => Some((0o2000, 's', 'S')),
            8 => Some((0o1000, 't', 'T')),
            _ => None,
        };
        match special {
            Some((sb, lower, upper)) if mode & sb != 0 => s.push(if on { lower } else { upper }),
            _ => s.push(if on { *c } else { '-' }),
        }
    }
    s
}

fn time_string(secs: i64) -> String {
    match u64::try_from(secs) {
        Ok(s) => {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(s);
            humantime::format_rfc3339_seconds(t).to_string()
        }
        Err(_) => secs.to_string(),
    }
}

fn line<D: crate::disk::BlockDevice>(
    r: &mut FfsReader<D>,
    st: &Stat,
    name: &str,
    flavour: Flavour,
) -> String {
    let size = match st.mode & IFMT {
        IFCHR | IFBLK => {
            let (major, minor) = flavour.decode_rdev(st.rdev);
            format!("{major}, {minor}")
        }
        _ => st.size.to_string(),
    };
    let mut l = format!(
        "{} {:>3} {:>5} {:>5} {:>10} {} {}",
        mode_string(st.mode),
        st.nlink,
        st.uid,
        st.gid,
        size,
        time_string(st.mtime.secs),
        name
    );
    if st.mode & IFMT == IFLNK
        && let Ok(t) = r.readlink(st.ino)
    {
        l.push_str(" -> ");
        l.push_str(&String::from_utf8_lossy(&t));
    }
    l
}

pub fn run(image: &Path, path: &str) -> Result<ExitCode> {
    let (dev, flavour) = crate::verify::open_root_fs_with_flavour(image)?;
    let mut r = FfsReader::open(dev).with_context(|| format!("reading {}", image.display()))?;
    let st = r
        .stat(path)
        .with_context(|| format!("{} in {}", path, image.display()))?;
    let mut out = std::io::stdout().lock();
    if st.mode & IFMT != IFDIR {
        writeln!(out, "{}", line(&mut r, &st, path, flavour))?;
        return Ok(ExitCode::SUCCESS);
    }
    let entries = r
        .read_dir(st.ino)
        .with_context(|| format!("listing {path} in {}", image.display()))?;
    for e in entries {
        let name = String::from_utf8_lossy(&e.name).into_owned();
        match r.stat_ino(e.ino) {
            Ok(s) => writeln!(out, "{}", line(&mut r, &s, &name, flavour))?,
            Err(err) => writeln!(out, "?????????? {name} ({err})")?,
        }
    }
    Ok(ExitCode::SUCCESS)
}
