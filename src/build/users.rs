//! The image's accounts during a build: the `master.passwd` and `group`
//! the sets shipped, plus the recipe's users and the users and groups
//! packages ask for. Ids for package accounts without a fixed id are
//! chosen deterministically, the way `useradd`/`groupadd` would (the next
//! free id from 1000).

use anyhow::{Context, Result, bail};

use crate::accounts::{Accounts, Group, User};
use crate::pkgsrc::install::{Accounts as PackageAccounts, Owners};
use crate::pkgsrc::install_script::AccountRequest;
use crate::recipe;

/// First id `useradd`/`groupadd` hand out.
const FIRST_FREE_ID: u32 = 1000;
/// Ids below this are `nobody`-style reserved ids at the top of the range.
const LAST_FREE_ID: u32 = 60000;

/// Accounts being edited for one image.
pub struct ImageAccounts {
    pub accounts: Accounts,
}

impl ImageAccounts {
    /// Parse the shipped files (their texts as the sets hold them).
    pub fn parse(master_passwd: &str, group: &str) -> Result<Self> {
        Ok(ImageAccounts {
            accounts: Accounts::parse(master_passwd, group)
                .context("reading /etc/master.passwd and /etc/group from the sets")?,
        })
    }

    /// The accounts the sets shipped (captured `etc/master.passwd` and
    /// `etc/group`) with the recipe's users added.
    pub fn from_sets(
        cap: &crate::build::capture::CaptureSink<'_>,
        users: &[recipe::User],
    ) -> Result<Self> {
        let mut acc = ImageAccounts::parse(
            &cap.text("etc/master.passwd", "sets")?,
            &cap.text("etc/group", "sets")?,
        )?;
        acc.add_recipe_users(users)?;
        Ok(acc)
    }

    /// Add the recipe's users: primary group must exist, supplementary
    /// groups get the user as a member.
    pub fn add_recipe_users(&mut self, users: &[recipe::User]) -> Result<()> {
        for u in users {
            let gid = self.accounts.gid_of(&u.group).with_context(|| {
                format!(
                    "recipe user {}: group {} does not exist in the image's /etc/group",
                    u.name, u.group
                )
            })?;
            let mut user = User::new(&u.name, u.uid, gid, &u.gecos, &u.home_dir(), &u.shell);
            user.password = u.password.clone();
            if self.accounts.user(&u.name).is_some() {
                self.accounts
                    .update_user(user)
                    .with_context(|| format!("recipe user {}", u.name))?;
            } else {
                self.accounts
                    .add_user(user)
                    .with_context(|| format!("recipe user {}", u.name))?;
            }
            for g in &u.groups {
                if self.accounts.find_group(g).is_none() {
                    bail!(
                        "recipe user {}: supplementary group {g} does not exist in the image's /etc/group",
                        u.name
                    );
                }
                self.accounts
                    .add_member(g, &u.name)
                    .with_context(|| format!("adding {} to group {g}", u.name))?;
            }
        }
        Ok(())
    }

    fn free_uid(&self) -> Result<u32> {
        (FIRST_FREE_ID..LAST_FREE_ID)
            .find(|id| !self.accounts.users().any(|u| u.uid == *id))
            .context("no free user id between 1000 and 60000")
    }

    fn free_gid(&self) -> Result<u32> {
        (FIRST_FREE_ID..LAST_FREE_ID)
            .find(|id| !self.accounts.groups().any(|g| g.gid == *id))
            .context("no free group id between 1000 and 60000")
    }
}

impl Owners for ImageAccounts {
    fn uid(&self, user: &str) -> Option<u32> {
        self.accounts.uid_of(user)
    }
    fn gid(&self, group: &str) -> Option<u32> {
        self.accounts.gid_of(group)
    }
}

impl PackageAccounts for ImageAccounts {
    fn apply(&mut self, request: &AccountRequest) -> Result<()> {
        match request {
            AccountRequest::Group { name, gid } => {
                if self.accounts.find_group(name).is_some() {
                    return Ok(());
                }
                let gid = match gid {
                    Some(g) => *g,
                    None => self.free_gid()?,
                };
                self.accounts.add_group(Group::new(name, gid))?;
            }
            AccountRequest::User {
                name,
                group,
                uid,
                descr,
                home,
                shell,
            } => {
                if self.accounts.user(name).is_some() {
                    return Ok(());
                }
                let gid = self.accounts.gid_of(group).with_context(|| {
                    format!("user {name} needs group {group}, which does not exist")
                })?;
                let uid = match uid {
                    Some(u) => *u,
                    None => self.free_uid()?,
                };
                let home = if home.is_empty() {
                    "/nonexistent"
                } else {
                    home
                };
                let shell = if shell.is_empty() {
                    "/sbin/nologin"
                } else {
                    shell
                };
                self.accounts
                    .add_user(User::new(name, uid, gid, descr, home, shell))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &str = "root:*:0:0::0:0:Charlie &:/root:/bin/sh\n";
    const GROUP: &str = "wheel:*:0:root\nusers:*:100:\n";

    #[test]
    fn package_accounts_get_the_next_free_ids_after_recipe_users() {
        let mut a = ImageAccounts::parse(MASTER, GROUP).unwrap();
        let r: recipe::Recipe = toml::from_str(
            "os='netbsd'\nrelease='10.1'\nsets=['base']\n[[users]]\nname='build'\nuid=1000\ngroup='users'\ngroups=['wheel']\n",
        )
        .unwrap();
        a.add_recipe_users(&r.users).unwrap();
        a.apply(&AccountRequest::Group {
            name: "daemonx".into(),
            gid: None,
        })
        .unwrap();
        a.apply(&AccountRequest::User {
            name: "daemonx".into(),
            group: "daemonx".into(),
            uid: None,
            descr: "d".into(),
            home: String::new(),
            shell: String::new(),
        })
        .unwrap();
        assert_eq!(a.uid("build"), Some(1000));
        assert_eq!(a.uid("daemonx"), Some(1001));
        assert_eq!(a.gid("daemonx"), Some(1000));
        assert!(a.accounts.group().contains("wheel:*:0:root,build"));
        assert!(a.accounts.master_passwd().contains("build::1000:100:"));
        let err = a
            .apply(&AccountRequest::User {
                name: "x".into(),
                group: "nogroup".into(),
                uid: None,
                descr: String::new(),
                home: String::new(),
                shell: String::new(),
            })
            .unwrap_err();
        assert!(err.to_string().contains("nogroup"));
    }
}
