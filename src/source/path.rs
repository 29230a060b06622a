//! Safe names for archive members: turn a stored name into the normalised
//! form of [`crate::entry::Entry::path`] (relative, `/`-separated, no `.`
//! or empty components) and refuse anything that could land outside the
//! file system being built (`..`, absolute paths), empty names and NULs.

/// Why a stored name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("empty name")]
    Empty,
    #[error("name contains a NUL byte")]
    Nul,
    #[error("name is not valid UTF-8")]
    NotUtf8,
    #[error("absolute name (archives must be relative to /)")]
    Absolute,
    #[error("name has a `..` component (it would escape the file system)")]
    DotDot,
}

/// Normalise a stored name: strip `./` and repeated or trailing `/`.
/// `.` and `./` become `""` (the root directory).
pub fn normalise(raw: &[u8]) -> Result<String, PathError> {
    if raw.is_empty() {
        return Err(PathError::Empty);
    }
    if raw.contains(&0) {
        return Err(PathError::Nul);
    }
    let s = std::str::from_utf8(raw).map_err(|_| PathError::NotUtf8)?;
    if s.starts_with('/') {
        return Err(PathError::Absolute);
    }
    let mut out: Vec<&str> = Vec::new();
    for comp in s.split('/') {
        match comp {
            "" | "." => {}
            ".." => return Err(PathError::DotDot),
            c => out.push(c),
        }
    }
    Ok(out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_slash_is_stripped_and_traversal_refused() {
        assert_eq!(normalise(b"./bin/sh").unwrap(), "bin/sh");
        assert_eq!(normalise(b"./usr//lib/").unwrap(), "usr/lib");
        assert_eq!(normalise(b"./").unwrap(), "");
        assert_eq!(normalise(b"../x"), Err(PathError::DotDot));
        assert_eq!(normalise(b"a/../../x"), Err(PathError::DotDot));
        assert_eq!(normalise(b"/etc/x"), Err(PathError::Absolute));
        assert_eq!(normalise(b""), Err(PathError::Empty));
        assert_eq!(normalise(b"a\0b"), Err(PathError::Nul));
    }
}
