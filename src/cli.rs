//! The command line (clap derive). This is a stable interface: tests,
//! scripts and operators' crontabs depend on it (see DESIGN.md).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Build bootable NetBSD and FreeBSD VM images as an ordinary user.
///
/// Everything newfs, installboot, gpt, pwd_mkdb, pkg_add and qemu-img would
/// do is done by writing the right bytes straight into the image: no root,
/// no loop devices, no chroot, no emulator.
#[derive(Debug, Parser)]
#[command(
    name = "mkimage",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Say more: every file fetched, every step timed.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Print nothing but errors (for cron).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build a NetBSD image for the builds service (default recipe: recipes/netbsd-10.toml).
    Netbsd(BuildArgs),
    /// Build a FreeBSD image for the builds service (default recipe: recipes/freebsd-14.toml).
    Freebsd(BuildArgs),
    /// Build an image from any recipe file.
    Build {
        /// The recipe (TOML); see the README's recipe reference.
        #[arg(value_name = "RECIPE")]
        recipe_file: PathBuf,
        #[command(flatten)]
        args: BuildArgs,
    },
    /// Make a bare FFSv2 file-system image from a directory or an archive (a makefs replacement).
    Makefs(MakefsArgs),
    /// Check an image (GPT, ESP and FFS, fsck-grade); exit 0 clean, 1 on findings, 2 if unreadable.
    Verify(VerifyArgs),
    /// List files of an image without mounting it, like `ls -l`.
    Ls {
        /// A qcow2 or raw disk image, or a bare FFS image.
        image: PathBuf,
        /// Directory or file inside the image's root file system.
        #[arg(default_value = "/")]
        path: String,
    },
    /// Print a file of an image to standard output.
    Cat {
        /// A qcow2 or raw disk image, or a bare FFS image.
        image: PathBuf,
        /// File inside the image's root file system.
        path: String,
    },
    /// Fill the download cache only (sets, and packages unless the package list is empty).
    Fetch {
        #[command(subcommand)]
        os: FetchOs,
    },
    /// Install an image into an images directory atomically, the way the builds service reads it.
    Publish(PublishArgs),
    /// Inspect or trim the download cache.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
        /// Cache directory [default: $XDG_CACHE_HOME/mkimage or ~/.cache/mkimage].
        #[arg(long, env = "MKIMAGE_CACHE_DIR", global = true)]
        cache_dir: Option<PathBuf>,
    },
    /// Boot an image under QEMU the way the builds service does (never writes to it).
    Run(RunArgs),
    /// Print a shell completion script.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum FetchOs {
    /// Fetch what `mkimage netbsd` would use.
    Netbsd(BuildArgs),
    /// Fetch what `mkimage freebsd` would use.
    Freebsd(BuildArgs),
}

#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// List cached downloads and decoded sets with their sizes.
    List,
    /// Remove entries not used for the given time.
    Prune {
        /// Keep entries used within this many days.
        #[arg(long, default_value_t = 30)]
        older_than_days: u64,
    },
}

/// Output container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Qcow2,
    Raw,
}

/// Options shared by every image build.
#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Target architecture (port name, e.g. amd64).
    #[arg(long, default_value = "amd64")]
    pub arch: String,
    /// Release, e.g. 10.1 for NetBSD or 14.3 / 14.3-RELEASE for FreeBSD [default: the recipe's].
    #[arg(long)]
    pub release: Option<String>,
    /// Output file [default: <os>-<release>-<arch>.<format>].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Qcow2)]
    pub format: OutputFormat,
    /// Virtual disk size, e.g. 16G or 4096M [default: the recipe's].
    #[arg(long)]
    pub size: Option<String>,
    /// Mirror holding the release directories (repeat for fallbacks); a URL, file:// URL or directory.
    #[arg(long = "mirror", value_name = "URL")]
    pub mirrors: Vec<String>,
    /// Package repository, as pkgin's repositories.conf writes it ($arch and $osrelease are expanded).
    #[arg(long, value_name = "URL")]
    pub pkg_repo: Option<String>,
    /// File listing packages to install, one per line, # comments; may be empty.
    #[arg(long, value_name = "FILE")]
    pub pkg_list: Option<PathBuf>,
    /// Recipe to use instead of the OS's default.
    #[arg(long, value_name = "FILE")]
    pub recipe: Option<PathBuf>,
    /// Make the whole image, SSH host keys included, a function of the inputs and this seed.
    #[arg(long, env = "MKIMAGE_SEED")]
    pub seed: Option<String>,
    /// Write deflate-compressed qcow2 clusters (smaller, slower to build and boot).
    #[arg(long)]
    pub compress: bool,
    /// Use only the cache; list whatever is missing instead of downloading.
    #[arg(long)]
    pub offline: bool,
    /// Cache directory [default: $XDG_CACHE_HOME/mkimage or ~/.cache/mkimage].
    #[arg(long, env = "MKIMAGE_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Re-hash cached files instead of trusting their recorded size and digest.
    #[arg(long)]
    pub verify_cache: bool,
    /// Do not keep or use zstd re-compressed copies of verified sets.
    #[arg(long)]
    pub no_decoded_cache: bool,
    /// Print the digest of everything the image would be built from (sets,
    /// packages, recipe, seed, tool version) and exit without building.
    #[arg(long)]
    pub print_inputs_digest: bool,
    /// Also write the build's manifest (inputs with digests, packages, tool
    /// version) as JSON to FILE, for `mkimage publish --manifest`.
    #[arg(long, value_name = "FILE")]
    pub manifest_out: Option<PathBuf>,
    /// Also write the builds service's `functions` file for this OS to FILE.
    #[arg(long, value_name = "FILE")]
    pub functions_out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FlavourArg {
    Netbsd,
    Freebsd,
}

#[derive(Debug, Args)]
pub struct MakefsArgs {
    /// Which system's conventions (superblock flags, device numbers).
    #[arg(long, value_enum, default_value_t = FlavourArg::Netbsd)]
    pub flavour: FlavourArg,
    /// File-system size, e.g. 1G [default: content plus 10% and minfree].
    #[arg(long)]
    pub size: Option<String>,
    /// Output image file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Volume label.
    #[arg(long)]
    pub label: Option<String>,
    /// Seed for the file-system id and inode generation numbers.
    #[arg(long, env = "MKIMAGE_SEED")]
    pub seed: Option<String>,
    /// A directory, or a tar archive (.tar, .tar.gz/.tgz, .tar.xz/.txz, .tar.zst).
    pub source: PathBuf,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A qcow2 or raw disk image, or a bare FFS image.
    pub image: PathBuf,
    /// Also check every entry of the image's /etc/mtree/set.* specs.
    #[arg(long)]
    pub mtree: bool,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The image to publish (verified first).
    pub image: PathBuf,
    /// The builds service's images directory.
    #[arg(long)]
    pub images_dir: PathBuf,
    /// netbsd or freebsd.
    #[arg(long)]
    pub os: String,
    #[arg(long)]
    pub release: String,
    #[arg(long)]
    pub arch: String,
    /// How many previous images to keep.
    #[arg(long, default_value_t = 3)]
    pub keep: usize,
    /// A build manifest (JSON) to publish beside the image.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// The release's `functions` file (shell functions the service sources) to install.
    #[arg(long, value_name = "FILE")]
    pub functions: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KvmMode {
    Auto,
    On,
    Off,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The image to boot (opened read-only, snapshot=on).
    pub image: PathBuf,
    /// Host port forwarded to the guest's SSH port (127.0.0.1 only).
    #[arg(long, default_value_t = 2222)]
    pub port: u16,
    /// Guest memory in MiB.
    #[arg(long, default_value_t = 4096)]
    pub memory: u32,
    #[arg(long, default_value_t = 2)]
    pub cpus: u32,
    /// Boot with UEFI firmware (OVMF) instead of legacy BIOS.
    #[arg(long)]
    pub uefi: bool,
    /// Use KVM.
    #[arg(long, value_enum, default_value_t = KvmMode::Auto)]
    pub kvm: KvmMode,
    /// Show the serial console on standard input/output.
    #[arg(long)]
    pub console: bool,
    /// Boot, wait for `ssh build@127.0.0.1 echo hello world` to answer, report the time, stop.
    #[arg(long)]
    pub check: bool,
    /// Seconds to wait for SSH with --check.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// Print the QEMU command line and exit.
    #[arg(long)]
    pub dry_run: bool,
}
