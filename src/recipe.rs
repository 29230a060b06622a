//! The recipe: what an image holds (OS, release, sets, disk layout, boot,
//! network, users, rc.conf, extra files, packages), loaded from TOML with
//! errors that name the file, the line and the key. Defaults live in
//! `recipes/*.toml`, not in code; the OS modules decide how each item is
//! spelled on the target.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use toml::Spanned;

use crate::size::Size;

/// Which system a recipe builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Netbsd,
    Freebsd,
}

impl Os {
    pub fn name(self) -> &'static str {
        match self {
            Os::Netbsd => "netbsd",
            Os::Freebsd => "freebsd",
        }
    }

    /// The release sets this OS publishes (for validation).
    pub fn known_sets(self) -> &'static [&'static str] {
        match self {
            Os::Netbsd => &[
                "kern-GENERIC",
                "base",
                "comp",
                "debug",
                "etc",
                "games",
                "gpufw",
                "man",
                "manhtml",
                "misc",
                "modules",
                "rescue",
                "tests",
                "text",
                "xbase",
                "xcomp",
                "xdebug",
                "xetc",
                "xfont",
                "xserver",
            ],
            Os::Freebsd => &[
                "base",
                "kernel",
                "lib32",
                "ports",
                "src",
                "tests",
                "base-dbg",
                "kernel-dbg",
                "lib32-dbg",
            ],
        }
    }
}

/// A recipe as written in the TOML file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Recipe {
    pub os: Os,
    /// e.g. "10.1" (NetBSD) or "14.3" / "14.3-RELEASE" (FreeBSD).
    pub release: String,
    /// Port / machine name, e.g. "amd64".
    #[serde(default = "default_arch")]
    pub arch: String,
    /// Mirrors in order of preference (directories holding the release dirs).
    #[serde(default)]
    pub mirrors: Vec<String>,
    /// Sets in extraction order; later sets replace earlier files.
    pub sets: Vec<Spanned<SetSpec>>,
    #[serde(default)]
    pub disk: Disk,
    #[serde(default)]
    pub boot: Boot,
    #[serde(default)]
    pub network: Network,
    #[serde(default)]
    pub users: Vec<User>,
    /// rc.conf settings (NetBSD `name=value`, FreeBSD `name="value"`).
    #[serde(default)]
    pub rc_conf: BTreeMap<String, String>,
    /// sshd_config settings that replace or extend the shipped file.
    #[serde(default)]
    pub sshd_config: BTreeMap<String, String>,
    #[serde(default)]
    pub files: Vec<ExtraFile>,
    #[serde(default)]
    pub packages: Packages,

    /// Where the recipe was read from (relative paths resolve against its directory).
    #[serde(skip)]
    pub path: PathBuf,
    /// Built into the binary: relative files come from [`BUILTIN_FILES`].
    #[serde(skip)]
    pub builtin: bool,
}

/// The default recipes and package lists, built into the binary so that an
/// installed `mkimage` works from any directory. Paths as in the source tree.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "recipes/netbsd-10.toml",
        include_str!("../recipes/netbsd-10.toml"),
    ),
    (
        "pkg-lists/netbsd-builds.txt",
        include_str!("../pkg-lists/netbsd-builds.txt"),
    ),
    (
        "recipes/freebsd-14.toml",
        include_str!("../recipes/freebsd-14.toml"),
    ),
    (
        "pkg-lists/freebsd-builds.txt",
        include_str!("../pkg-lists/freebsd-builds.txt"),
    ),
];

/// The default recipe of each OS.
pub fn default_recipe_path(os: Os) -> &'static str {
    match os {
        Os::Netbsd => "recipes/netbsd-10.toml",
        Os::Freebsd => "recipes/freebsd-14.toml",
    }
}

/// Lexically join `rel` onto the directory of `base` ("recipes/x.toml" +
/// "../pkg-lists/y" = "pkg-lists/y").
fn join_builtin(base: &str, rel: &Path) -> String {
    let mut parts: Vec<&str> = base.split('/').collect();
    parts.pop();
    for c in rel.to_str().unwrap_or("").split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

fn default_arch() -> String {
    "amd64".to_string()
}

/// A set name, optionally marked optional (skipped when the release lacks it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum SetSpec {
    Name(String),
    Detailed {
        name: String,
        #[serde(default)]
        optional: bool,
    },
}

impl SetSpec {
    pub fn name(&self) -> &str {
        match self {
            SetSpec::Name(n) | SetSpec::Detailed { name: n, .. } => n,
        }
    }
    pub fn optional(&self) -> bool {
        matches!(self, SetSpec::Detailed { optional: true, .. })
    }
}

/// Disk layout.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Disk {
    /// Virtual size of the whole disk.
    #[serde(default = "default_disk_size")]
    pub size: Size,
    /// EFI system partition size.
    #[serde(default = "default_esp_size")]
    pub esp_size: Size,
    /// GPT label of the root partition (fstab names the root by it).
    #[serde(default = "default_root_label")]
    pub root_label: String,
    /// Swap partition size; none when absent.
    #[serde(default)]
    pub swap: Option<Size>,
    /// FreeBSD: soft updates on the root file system.
    #[serde(default)]
    pub soft_updates: bool,
}

fn default_disk_size() -> Size {
    Size(16 << 30)
}
fn default_esp_size() -> Size {
    Size(crate::fs::fat::DEFAULT_ESP_SIZE)
}
fn default_root_label() -> String {
    "root".to_string()
}

impl Default for Disk {
    fn default() -> Self {
        Disk {
            size: default_disk_size(),
            esp_size: default_esp_size(),
            root_label: default_root_label(),
            swap: None,
            soft_updates: false,
        }
    }
}

/// Serial or video console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Console {
    Pc,
    Com0,
}

/// Boot loader settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Boot {
    #[serde(default = "default_console")]
    pub console: Console,
    #[serde(default = "default_speed")]
    pub speed: u32,
    /// Seconds the boot menu waits.
    #[serde(default = "default_timeout")]
    pub timeout: u32,
}

fn default_console() -> Console {
    Console::Com0
}
fn default_speed() -> u32 {
    115200
}
fn default_timeout() -> u32 {
    1
}

impl Default for Boot {
    fn default() -> Self {
        Boot {
            console: default_console(),
            speed: default_speed(),
            timeout: default_timeout(),
        }
    }
}

/// How the guest gets its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    Static,
    Dhcp,
}

/// Network for QEMU user networking by default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Network {
    #[serde(default = "default_hostname")]
    pub hostname: String,
    #[serde(default = "default_net_mode")]
    pub mode: NetworkMode,
    /// Interface name on the target (NetBSD virtio: vioif0; FreeBSD: vtnet0).
    #[serde(default)]
    pub interface: Option<String>,
    /// Address with prefix length, for static mode.
    #[serde(default = "default_address")]
    pub address: String,
    #[serde(default = "default_gateway")]
    pub gateway: String,
    #[serde(default = "default_nameservers")]
    pub nameservers: Vec<String>,
}

fn default_hostname() -> String {
    "build".to_string()
}
fn default_net_mode() -> NetworkMode {
    NetworkMode::Static
}
fn default_address() -> String {
    "10.0.2.15/24".to_string()
}
fn default_gateway() -> String {
    "10.0.2.2".to_string()
}
fn default_nameservers() -> Vec<String> {
    vec!["10.0.2.3".to_string()]
}

impl Default for Network {
    fn default() -> Self {
        Network {
            hostname: default_hostname(),
            mode: default_net_mode(),
            interface: None,
            address: default_address(),
            gateway: default_gateway(),
            nameservers: default_nameservers(),
        }
    }
}

impl Network {
    /// The address and prefix length of a static configuration.
    pub fn address_and_prefix(&self) -> Result<(std::net::Ipv4Addr, u8)> {
        let (addr, prefix) = self.address.split_once('/').with_context(|| {
            format!(
                "network.address `{}` needs a prefix length, e.g. 10.0.2.15/24",
                self.address
            )
        })?;
        let addr: std::net::Ipv4Addr = addr
            .parse()
            .with_context(|| format!("network.address `{}`: not an IPv4 address", self.address))?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32).with_context(|| {
            format!(
                "network.address `{}`: prefix length must be 0..32",
                self.address
            )
        })?;
        Ok((addr, prefix))
    }
}

/// A user account to create.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct User {
    pub name: String,
    pub uid: u32,
    /// Primary group name (must exist in the image or in `groups` below).
    #[serde(default = "default_user_group")]
    pub group: String,
    /// Supplementary groups the user is added to.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Password hash as master.passwd holds it; "" for an empty password.
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub gecos: String,
    /// Home directory [default: /home/<name>].
    #[serde(default)]
    pub home: Option<String>,
    #[serde(default = "default_shell")]
    pub shell: String,
    /// `~/.gitconfig` user.name / user.email, written when set.
    #[serde(default)]
    pub git_name: Option<String>,
    #[serde(default)]
    pub git_email: Option<String>,
}

fn default_user_group() -> String {
    "users".to_string()
}
fn default_shell() -> String {
    "/bin/sh".to_string()
}

impl User {
    pub fn home_dir(&self) -> String {
        self.home
            .clone()
            .unwrap_or_else(|| format!("/home/{}", self.name))
    }
}

/// A file written into the image after sets and packages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ExtraFile {
    /// Absolute path in the image.
    pub path: String,
    /// Octal mode, e.g. "0644".
    #[serde(default = "default_file_mode")]
    pub mode: String,
    #[serde(default = "default_owner")]
    pub owner: String,
    #[serde(default = "default_file_group")]
    pub group: String,
    /// Inline content.
    #[serde(default)]
    pub content: Option<String>,
    /// A host file (relative to the recipe's directory) to copy.
    #[serde(default)]
    pub source: Option<PathBuf>,
}

fn default_file_mode() -> String {
    "0644".to_string()
}
fn default_owner() -> String {
    "root".to_string()
}
fn default_file_group() -> String {
    "wheel".to_string()
}

impl ExtraFile {
    pub fn mode_bits(&self) -> Result<u16> {
        u16::from_str_radix(self.mode.trim_start_matches("0o"), 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .with_context(|| {
                format!(
                    "files: mode `{}` of {} is not an octal mode like 0644",
                    self.mode, self.path
                )
            })
    }
}

/// Binary packages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Packages {
    /// Package list file (relative to the recipe's directory); none = no packages.
    #[serde(default)]
    pub list: Option<PathBuf>,
    /// Repository URL template; `$arch` and `$osrelease` are expanded.
    #[serde(default)]
    pub repository: Option<String>,
    /// What `$osrelease` expands to (the packages' OS_VERSION directory), e.g. "10.0".
    #[serde(default)]
    pub osrelease: Option<String>,
    /// What `$arch` expands to (MACHINE_ARCH), e.g. "x86_64".
    #[serde(default)]
    pub machine_arch: Option<String>,
}

impl Packages {
    /// The repository URL with `$arch` and `$osrelease` expanded.
    pub fn repository_url(&self, machine_arch: &str, osrelease: &str) -> Option<String> {
        self.repository
            .as_ref()
            .map(|t| expand_template(t, machine_arch, osrelease))
    }
}

/// Expand `$arch` / `${arch}` and `$osrelease` / `${osrelease}`.
pub fn expand_template(template: &str, arch: &str, osrelease: &str) -> String {
    template
        .replace("${arch}", arch)
        .replace("$arch", arch)
        .replace("${osrelease}", osrelease)
        .replace("$osrelease", osrelease)
}

impl Recipe {
    /// Read and validate a recipe file.
    pub fn load(path: &Path) -> Result<Recipe> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading recipe {}", path.display()))?;
        Recipe::parse(&text, path)
    }

    /// Parse and validate recipe text; `path` names it in errors and anchors
    /// relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Recipe> {
        let mut recipe: Recipe = toml::from_str(text).map_err(|e| {
            anyhow::anyhow!("recipe {}: {}", path.display(), e.to_string().trim_end())
        })?;
        recipe.path = path.to_path_buf();
        recipe.validate(text)?;
        Ok(recipe)
    }

    /// The recipe built into the binary for `os`.
    pub fn builtin(os: Os) -> Result<Recipe> {
        let name = default_recipe_path(os);
        let text = BUILTIN_FILES
            .iter()
            .find(|(p, _)| *p == name)
            .map(|(_, t)| *t)
            .with_context(|| {
                format!(
                    "no built-in recipe for {} yet: pass --recipe FILE",
                    os.name()
                )
            })?;
        let mut recipe: Recipe =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("built-in recipe {name}: {e}"))?;
        recipe.path = PathBuf::from(name);
        recipe.builtin = true;
        recipe.validate(text)?;
        Ok(recipe)
    }

    /// Whether a file named relative to the recipe exists.
    fn relative_exists(&self, p: &Path) -> bool {
        if self.builtin && !p.is_absolute() {
            let key = join_builtin(&self.path.to_string_lossy(), p);
            return BUILTIN_FILES.iter().any(|(k, _)| *k == key);
        }
        self.resolve(p).is_file()
    }

    /// Read a file named relative to the recipe (a package list, an extra
    /// file's source).
    pub fn read_relative(&self, p: &Path) -> Result<Vec<u8>> {
        if self.builtin && !p.is_absolute() {
            let key = join_builtin(&self.path.to_string_lossy(), p);
            if let Some((_, t)) = BUILTIN_FILES.iter().find(|(k, _)| *k == key) {
                return Ok(t.as_bytes().to_vec());
            }
        }
        let path = self.resolve(p);
        std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
    }

    fn validate(&self, text: &str) -> Result<()> {
        let file = self.path.display();
        if self.sets.is_empty() {
            bail!("recipe {file}: `sets` is empty: list at least one release set");
        }
        let known = self.os.known_sets();
        for set in &self.sets {
            let name = set.get_ref().name();
            if !known.contains(&name) {
                bail!(
                    "recipe {file}, line {}: key `sets`: unknown {} set `{name}`; known sets: {}",
                    line_of(text, set.span().start),
                    self.os.name(),
                    known.join(", ")
                );
            }
        }
        if self.disk.esp_size.bytes() >= self.disk.size.bytes() {
            bail!(
                "recipe {file}: disk.esp-size ({}) must be smaller than disk.size ({})",
                self.disk.esp_size,
                self.disk.size
            );
        }
        if self.disk.root_label.is_empty() || self.disk.root_label.encode_utf16().count() > 36 {
            bail!(
                "recipe {file}: disk.root-label must be 1 to 36 characters (a GPT partition name)"
            );
        }
        if self.network.mode == NetworkMode::Static {
            self.network
                .address_and_prefix()
                .with_context(|| format!("recipe {file}"))?;
        }
        for f in &self.files {
            if !f.path.starts_with('/') {
                bail!("recipe {file}: files: path `{}` must be absolute", f.path);
            }
            f.mode_bits().with_context(|| format!("recipe {file}"))?;
            match (&f.content, &f.source) {
                (Some(_), Some(_)) | (None, None) => bail!(
                    "recipe {file}: files: {} needs exactly one of `content` and `source`",
                    f.path
                ),
                (None, Some(src)) => {
                    let p = self.resolve(src);
                    if !self.relative_exists(src) {
                        bail!(
                            "recipe {file}: files: source {} for {} does not exist (paths are relative to the recipe's directory)",
                            p.display(),
                            f.path
                        );
                    }
                }
                (Some(_), None) => {}
            }
        }
        if let Some(list) = &self.packages.list {
            let p = self.resolve(list);
            if !self.relative_exists(list) {
                bail!(
                    "recipe {file}: packages.list {} does not exist (paths are relative to the recipe's directory)",
                    p.display()
                );
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for u in &self.users {
            if !seen.insert(&u.name) {
                bail!("recipe {file}: users: `{}` is listed twice", u.name);
            }
        }
        Ok(())
    }

    /// A path from the recipe, resolved against the recipe's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(p)
        }
    }

    /// Set names in extraction order, and whether each is optional.
    pub fn set_list(&self) -> Vec<(String, bool)> {
        self.sets
            .iter()
            .map(|s| (s.get_ref().name().to_string(), s.get_ref().optional()))
            .collect()
    }
}

/// 1-based line number of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Read a package list: one name or pattern per line, `#` comments, blank
/// lines ignored.
pub fn read_package_list(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading package list {}", path.display()))?;
    Ok(parse_package_list(&text))
}

pub fn parse_package_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}
