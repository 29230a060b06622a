//! What every personality shares: the guest's network settings, words
//! safe in a configuration file, shell variable names and values, and
//! `~/.gitconfig`.

use anyhow::{Result, bail};

/// Network of the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    /// Static IPv4, e.g. QEMU user networking: 10.0.2.15/24 via 10.0.2.2
    /// (no DHCP exchange at boot).
    Static {
        iface: String,
        addr: String,
        prefix: u8,
        gateway: String,
    },
    /// DHCP on one interface.
    Dhcp { iface: String },
}

/// A word safe in a config file: non-empty, printable ASCII, no space,
/// no shell or fstab metacharacters.
pub fn check_word(what: &str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:/@%+,".contains(&b));
    if !ok {
        bail!("{what} {s:?} must be non-empty and use only letters, digits and -._:/@%+,");
    }
    Ok(())
}

/// An rc.conf variable name: a shell variable name.
pub fn check_rc_name(name: &str) -> Result<()> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    if !first_ok || !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        bail!("rc.conf variable name {name:?} is not a shell variable name");
    }
    Ok(())
}

/// Refuse a value the shell would expand inside double quotes (quote, `$`,
/// backquote, backslash) or a control character.
pub fn check_rc_value(name: &str, value: &str) -> Result<()> {
    if value.bytes().any(|b| b"\"$`\\\n".contains(&b) || b < 0x20) {
        bail!(
            "rc.conf value for {name} ({value:?}) contains a quote, $, backquote, backslash or control character"
        );
    }
    Ok(())
}

/// `~/.gitconfig` with the user's name and e-mail address.
pub fn gitconfig(name: &str, email: &str) -> Result<String> {
    for (what, v) in [("git user name", name), ("git e-mail", email)] {
        if v.is_empty() || v.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
            bail!(
                "{what} {v:?} must be non-empty without quotes, backslashes or control characters"
            );
        }
    }
    Ok(format!("[user]\n\tname = {name}\n\temail = {email}\n"))
}
