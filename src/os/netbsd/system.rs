//! The NetBSD system a recipe describes, written as entries after the sets:
//! accounts and their databases, rc.conf and friends, `/boot` and
//! `/boot.cfg`, `/dev`, SSH host keys, the entropy file, users' homes and
//! the recipe's extra files. Every file the sets already ship is edited,
//! not replaced, and every path written here is listed in
//! `/var/db/mkimage/generated` so that `verify --mtree` can tell a
//! deliberate change from damage.

use anyhow::{Context, Result};

use super::config::{self, Console, NetbsdConfig, Network};
use super::{boot, devices};
use crate::accounts::{self, ByteOrder};
use crate::build::capture::CaptureSink;
use crate::build::recipe_files;
use crate::build::users::ImageAccounts;
use crate::entry::{Entry, EntryKind, EntrySink, Timestamp, add_bytes};
use crate::recipe::{self, NetworkMode, Recipe};

/// Where the list of generated paths goes.
pub const GENERATED_LIST: &str = "var/db/mkimage/generated";

/// Map the recipe onto the settings the NetBSD generators take.
pub fn netbsd_config(recipe: &Recipe) -> Result<NetbsdConfig> {
    let iface = recipe
        .network
        .interface
        .clone()
        .unwrap_or_else(|| "vioif0".to_string());
    let network = match recipe.network.mode {
        NetworkMode::Static => {
            let (addr, prefix) = recipe.network.address_and_prefix()?;
            Network::Static {
                iface,
                addr: addr.to_string(),
                prefix,
                gateway: recipe.network.gateway.clone(),
            }
        }
        NetworkMode::Dhcp => Network::Dhcp { iface },
    };
    let console = match recipe.boot.console {
        recipe::Console::Pc => Console::Pc,
        recipe::Console::Com0 => Console::Com0 {
            speed: recipe.boot.speed,
        },
    };
    Ok(NetbsdConfig {
        hostname: recipe.network.hostname.clone(),
        network,
        nameservers: recipe.network.nameservers.clone(),
        console,
        boot_timeout: recipe.boot.timeout,
        root_label: recipe.disk.root_label.clone(),
        services: Vec::new(),
        rc_conf: recipe
            .rc_conf
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}

/// Secrets and times the system files need.
pub struct SystemInputs<'a> {
    pub recipe: &'a Recipe,
    pub time: Timestamp,
    /// The SSH host key files (private and public).
    pub host_keys: Vec<crate::sshkeys::KeyFile>,
    /// 512 bytes for the entropy file.
    pub entropy: [u8; 512],
    /// Shells packages registered (absolute paths).
    pub extra_shells: Vec<String>,
}

/// Records paths as they are written, so the list can go into the image.
struct Writer<'s, 'c> {
    sink: &'s mut CaptureSink<'c>,
    written: Vec<String>,
    time: Timestamp,
}

impl Writer<'_, '_> {
    fn file(&mut self, path: &str, mode: u16, uid: u32, gid: u32, data: &[u8]) -> Result<()> {
        add_bytes(
            self.sink,
            Entry::file(path, mode, 0, self.time).owned(uid, gid),
            data,
        )
        .with_context(|| format!("writing /{path}"))?;
        self.written.push(path.to_string());
        Ok(())
    }

    fn root_file(&mut self, path: &str, mode: u16, data: &[u8]) -> Result<()> {
        self.file(path, mode, 0, 0, data)
    }

    fn dir(&mut self, path: &str, mode: u16, uid: u32, gid: u32) -> Result<()> {
        if matches!(self.sink.kind(path), Some(EntryKind::Dir)) {
            return Ok(());
        }
        self.sink
            .add(
                &Entry::dir(path, mode, self.time).owned(uid, gid),
                &mut std::io::empty(),
            )
            .with_context(|| format!("creating /{path}"))?;
        self.written.push(path.to_string());
        Ok(())
    }
}

/// Write the configured system into `sink` (after the sets and packages).
pub fn write_system(
    sink: &mut CaptureSink<'_>,
    users: &ImageAccounts,
    inputs: &SystemInputs<'_>,
) -> Result<()> {
    let recipe = inputs.recipe;
    let cfg = netbsd_config(recipe)?;
    let set_text = |cap: &CaptureSink<'_>, p: &str| cap.text(p, "sets");
    let rc_conf = set_text(sink, "etc/rc.conf")?;
    let ttys = set_text(sink, "etc/ttys")?;
    let sshd = set_text(sink, "etc/ssh/sshd_config")?;
    let login_conf = set_text(sink, "etc/login.conf")?;
    let shells = sink.text("etc/shells", "sets").unwrap_or_default();
    let boot_loader = sink
        .get(boot::BOOT)
        .with_context(|| format!("/{} is missing from the sets (base set)", boot::BOOT))?
        .data
        .clone();

    let mut w = Writer {
        sink,
        written: Vec::new(),
        time: inputs.time,
    };

    // Accounts: master.passwd, passwd, group, pwd.db, spwd.db.
    for (spec, bytes) in accounts::account_files(
        &users.accounts,
        accounts::netbsd::pwd_dbs,
        ByteOrder::Little,
    )
    .context("writing the account databases")?
    {
        w.file(spec.path, spec.mode as u16, spec.uid, spec.gid, &bytes)?;
    }

    // System configuration.
    w.root_file("etc/fstab", 0o644, config::fstab(&cfg)?.as_bytes())?;
    w.root_file(
        "etc/rc.conf",
        0o644,
        config::rc_conf(&rc_conf, &cfg)?.as_bytes(),
    )?;
    if let Some((path, text)) = config::ifconfig_file(&cfg)? {
        w.root_file(&path, 0o644, text.as_bytes())?;
    }
    w.root_file(
        "etc/resolv.conf",
        0o644,
        config::resolv_conf(&cfg)?.as_bytes(),
    )?;
    w.root_file(
        "etc/ttys",
        0o644,
        config::ttys(&ttys, cfg.console)?.as_bytes(),
    )?;
    let sshd_settings: Vec<(&str, &str)> = recipe
        .sshd_config
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    w.root_file(
        "etc/ssh/sshd_config",
        0o644,
        crate::os::sshd::edit_sshd_config(&sshd, &sshd_settings).as_bytes(),
    )?;
    w.root_file(
        "etc/login.conf",
        0o644,
        config::login_conf(&login_conf).as_bytes(),
    )?;
    if !inputs.extra_shells.is_empty() {
        w.root_file(
            "etc/shells",
            0o644,
            crate::pkgsrc::install::add_shells(&shells, &inputs.extra_shells).as_bytes(),
        )?;
    }

    // Boot: /boot and /boot.cfg.
    w.root_file(boot::BOOT_ON_ROOT, 0o444, &boot_loader)?;
    w.root_file("boot.cfg", 0o644, config::boot_cfg(&cfg).as_bytes())?;

    // Entropy and host keys: nothing left for first boot.
    w.dir("var/db", 0o755, 0, 0)?;
    w.root_file(
        config::ENTROPY_FILE,
        config::ENTROPY_FILE_MODE,
        &config::entropy_file(&inputs.entropy, 512 * 8),
    )?;
    for key in &inputs.host_keys {
        w.root_file(&key.path, key.mode, &key.contents)?;
    }

    // /dev as `MAKEDEV all` makes it.
    let acc = &users.accounts;
    let uid_of = |n: &str| acc.uid_of(n);
    let gid_of = |n: &str| acc.gid_of(n);
    for e in devices::dev_entries(inputs.time, &uid_of, &gid_of)? {
        w.sink
            .add(&e, &mut std::io::empty())
            .with_context(|| format!("creating /{}", e.path))?;
    }

    // Users' home directories and ~/.gitconfig, then the recipe's own files.
    let items = [
        recipe_files::homes(recipe, acc, inputs.time)?,
        recipe_files::extra_files(recipe, acc, inputs.time)?,
    ];
    for item in items.into_iter().flatten() {
        if item.entry.kind == EntryKind::Dir {
            let e = &item.entry;
            w.dir(&e.path, e.mode, e.uid, e.gid)?;
        } else {
            let e = &item.entry;
            w.file(&e.path, e.mode, e.uid, e.gid, &item.data)?;
        }
    }

    // What we wrote, for `verify --mtree`.
    w.dir("var/db/mkimage", 0o755, 0, 0)?;
    let mut list = w.written.clone();
    list.push(GENERATED_LIST.to_string());
    list.sort();
    list.dedup();
    let mut text = String::from("# Paths mkimage generated or edited after extracting the sets.\n");
    for p in &list {
        text.push_str(p);
        text.push('\n');
    }
    w.root_file(GENERATED_LIST, 0o444, text.as_bytes())?;
    Ok(())
}
