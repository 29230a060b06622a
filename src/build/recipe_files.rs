//! What the recipe itself adds to any image, whatever the OS: the users'
//! home directories (with `~/.gitconfig`) and the recipe's extra files,
//! owners resolved in the image's own accounts.

use anyhow::{Context, Result, bail};

use crate::accounts::Accounts;
use crate::entry::{Entry, Timestamp};
use crate::recipe::Recipe;

/// One object to add: an entry and, for files, its bytes (the entry's
/// `size` is their length).
pub struct Item {
    pub entry: Entry,
    pub data: Vec<u8>,
}

/// Home directories (parents 0755 root, the home owned by its user) and
/// `~/.gitconfig` where the recipe gives a name and email.
pub fn homes(recipe: &Recipe, acc: &Accounts, time: Timestamp) -> Result<Vec<Item>> {
    let mut out = Vec::new();
    for u in &recipe.users {
        let uid = acc
            .uid_of(&u.name)
            .with_context(|| format!("user {} is not in the image's master.passwd", u.name))?;
        let gid = acc
            .gid_of(&u.group)
            .with_context(|| format!("group {} is not in the image's group file", u.group))?;
        let home = u.home_dir();
        let home = home.trim_start_matches('/').to_string();
        if home.is_empty() {
            bail!("user {}: home directory cannot be /", u.name);
        }
        if let Some((parent, _)) = home.rsplit_once('/') {
            out.push(Item {
                entry: Entry::dir(parent, 0o755, time),
                data: Vec::new(),
            });
        }
        out.push(Item {
            entry: Entry::dir(home.clone(), 0o755, time).owned(uid, gid),
            data: Vec::new(),
        });
        if let (Some(name), Some(email)) = (&u.git_name, &u.git_email) {
            let text = crate::os::common::gitconfig(name, email)?;
            let len = text.len() as u64;
            out.push(Item {
                entry: Entry::file(format!("{home}/.gitconfig"), 0o644, len, time).owned(uid, gid),
                data: text.into_bytes(),
            });
        }
    }
    Ok(out)
}

/// The recipe's `[[files]]`, in order.
pub fn extra_files(recipe: &Recipe, acc: &Accounts, time: Timestamp) -> Result<Vec<Item>> {
    let mut out = Vec::new();
    for f in &recipe.files {
        let data = match (&f.content, &f.source) {
            (Some(c), _) => c.as_bytes().to_vec(),
            (None, Some(src)) => recipe.read_relative(src)?,
            (None, None) => bail!("files: {} has neither content nor source", f.path),
        };
        let uid = acc
            .uid_of(&f.owner)
            .with_context(|| format!("files: {}: no user {} in the image", f.path, f.owner))?;
        let gid = acc
            .gid_of(&f.group)
            .with_context(|| format!("files: {}: no group {} in the image", f.path, f.group))?;
        let path = crate::pkgsrc::entry_path(&f.path)?;
        out.push(Item {
            entry: Entry::file(path, f.mode_bits()?, data.len() as u64, time).owned(uid, gid),
            data,
        });
    }
    Ok(out)
}
