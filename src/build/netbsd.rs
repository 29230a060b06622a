//! The NetBSD image: fetch and verify the sets (and packages), stream them
//! into an FFSv2 root, add the generated system, install the boot chain
//! (PMBR code, bootxx, /boot, the ESP loader), write the GPT, check the
//! result and put it in place. Byte layouts are the format modules'
//! business; this file decides what goes where and in which order.

use anyhow::{Context, Result, bail};
use sha2::{Digest as _, Sha256};

use crate::boot::x86_bootxx::{self, BOOT_AREA_SIZE};
use crate::build::capture::CaptureSink;
use crate::build::packages::{self, PackageSet};
use crate::build::request::{BuildRequest, machine_arch_of};
use crate::build::seed::BuildSeed;
use crate::build::users::ImageAccounts;
use crate::cli::OutputFormat;
use crate::disk::format::{Format, create_device};
use crate::disk::gpt;
use crate::disk::guid::derive_guid;
use crate::disk::layout::{DiskLayout, PartSize, PartitionSpec, Placement};
use crate::disk::output::AtomicOutput;
use crate::disk::{BlockDevice, Window};
use crate::entry::Timestamp;
use crate::fetch::{FetchOptions, Fetcher, ReleaseLayout, VerifiedFile};
use crate::fs::ffs::{FfsWriter, Flavour, FsOptions, FsSummary};
use crate::os::netbsd::{boot, system};
use crate::pkgsrc::Target;
use crate::progress;

/// Files the build reads back from the sets while they stream past.
const CAPTURE: &[&str] = &[
    "etc/master.passwd",
    "etc/group",
    "etc/rc.conf",
    "etc/ttys",
    "etc/ssh/sshd_config",
    "etc/login.conf",
    "etc/shells",
    boot::GPTMBR,
    boot::BOOTXX_FFSV2,
    boot::BOOT,
    boot::BOOTX64_EFI,
];

/// What a finished build reports (and `publish` records).
#[derive(Debug, Clone)]
pub struct BuildReport {
    pub output: std::path::PathBuf,
    pub sets: Vec<VerifiedFile>,
    pub packages: Vec<String>,
    pub fs: FsSummary,
    /// Hex digest of everything that defines the image's content.
    pub inputs: String,
}

/// The digest of everything `req` would build from, fetching only
/// checksum files and the package index (`--print-inputs-digest`).
pub fn inputs_digest(req: &BuildRequest) -> Result<String> {
    let fetcher = fetcher(req)?;
    let sets = fetch_sets(&fetcher, req)?;
    let pkgs = fetch_packages(&fetcher, req)?;
    Ok(hex::encode(input_digest(req, &sets, &pkgs)))
}

/// Only fetch what a build of `req` would use (`mkimage fetch`).
pub fn fetch_only(req: &BuildRequest) -> Result<(Vec<VerifiedFile>, Option<PackageSet>)> {
    let fetcher = fetcher(req)?;
    let sets = fetch_sets(&fetcher, req)?;
    let pkgs = fetch_packages(&fetcher, req)?;
    Ok((sets, pkgs))
}

fn fetcher(req: &BuildRequest) -> Result<Fetcher> {
    Fetcher::new(FetchOptions {
        cache_dir: req.cache_dir.clone(),
        offline: req.offline,
        verify_cache: req.verify_cache,
        decoded_cache: req.decoded_cache,
        ..FetchOptions::default()
    })
}

fn layout(req: &BuildRequest) -> ReleaseLayout {
    ReleaseLayout::NetBsd {
        release: req.recipe.release.clone(),
        machine: req.recipe.arch.clone(),
    }
}

/// The recipe's sets as file names the release lists (`.tar.xz`, or
/// `.tgz` on releases and ports that use it); optional sets the release
/// lacks are skipped.
fn fetch_sets(fetcher: &Fetcher, req: &BuildRequest) -> Result<Vec<VerifiedFile>> {
    let layout = layout(req);
    let sums = fetcher.release_checksums(&req.mirrors, &layout)?;
    let mut names = Vec::new();
    for (name, optional) in req.recipe.set_list() {
        let candidates = [format!("{name}.tar.xz"), format!("{name}.tgz")];
        match candidates
            .iter()
            .find(|c| sums.digests.contains_key(c.as_str()))
        {
            Some(file) => names.push(file.clone()),
            None if optional => {
                progress::info(format!(
                    "optional set {name} is not in NetBSD {}; skipped",
                    req.recipe.release
                ));
            }
            None => bail!(
                "set {name} is not listed in {} (neither {name}.tar.xz nor {name}.tgz): check the set names and --release",
                sums.source
            ),
        }
    }
    fetcher.fetch_release_files(&req.mirrors, &layout, &names)
}

fn fetch_packages(fetcher: &Fetcher, req: &BuildRequest) -> Result<Option<PackageSet>> {
    if req.packages.is_empty() {
        return Ok(None);
    }
    let repo = req
        .pkg_repo
        .as_deref()
        .context("packages are listed but no package repository is set")?;
    Ok(Some(packages::fetch_packages(
        fetcher,
        repo,
        &req.packages,
    )?))
}

/// The digest of everything that defines the image's content.
fn input_digest(req: &BuildRequest, sets: &[VerifiedFile], pkgs: &Option<PackageSet>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"mkimage ");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(b"\0recipe\0");
    h.update(req.recipe_text.as_bytes());
    h.update(format!("\0{:?}\0{:?}\0", req.recipe.release, req.recipe.disk.size).as_bytes());
    for s in sets {
        h.update(s.name.as_bytes());
        h.update(b"\0");
        h.update(s.digest.id().as_bytes());
        h.update(b"\0");
    }
    if let Some(p) = pkgs {
        h.update(p.repo.as_bytes());
        for name in p.names() {
            h.update(name.as_bytes());
            h.update(b"\0");
        }
    }
    // A different seed gives a different image from the same inputs.
    if let Some(seed) = &req.seed {
        h.update(b"\0seed\0");
        h.update(seed.as_bytes());
    }
    if let Some(t) = req.source_date_epoch {
        h.update(format!("\0epoch\0{t}").as_bytes());
    }
    h.update(format!("\0{:?}\0{}", req.format, req.compress).as_bytes());
    h.finalize().into()
}

/// The GPT layout: ESP, optional swap, FFS root (legacy-BIOS-bootable and
/// bootme, the partition gptmbr and the loaders pick).
fn disk_layout(req: &BuildRequest, seed: &BuildSeed) -> DiskLayout {
    let d = &req.recipe.disk;
    let gseed = hex::encode(seed.derive("gpt"));
    let mut parts = vec![PartitionSpec {
        label: "EFI".into(),
        type_guid: gpt::types::EFI_SYSTEM,
        size: PartSize::Bytes(d.esp_size.bytes()),
        attributes: 0,
        guid: derive_guid(&gseed, "esp"),
    }];
    if let Some(swap) = d.swap {
        parts.push(PartitionSpec {
            label: "swap".into(),
            type_guid: gpt::types::NETBSD_SWAP,
            size: PartSize::Bytes(swap.bytes()),
            attributes: 0,
            guid: derive_guid(&gseed, "swap"),
        });
    }
    parts.push(PartitionSpec {
        label: d.root_label.clone(),
        type_guid: gpt::types::NETBSD_FFS,
        size: PartSize::Rest,
        attributes: gpt::attr::LEGACY_BIOS_BOOTABLE | gpt::attr::BOOTME,
        guid: derive_guid(&gseed, "root"),
    });
    DiskLayout {
        disk_guid: derive_guid(&gseed, "disk"),
        partitions: parts,
    }
}

/// Boot files from the base set, checked before anything depends on them.
struct BootFiles {
    mbr: [u8; 440],
    bootxx: Vec<u8>,
    efi: Vec<u8>,
}

impl BootFiles {
    fn from_capture(cap: &CaptureSink<'_>) -> Result<BootFiles> {
        let get = |p: &str| -> Result<Vec<u8>> {
            Ok(cap
                .get(p)
                .with_context(|| {
                    format!("/{p} is missing from the sets: it comes with the base set, which must be listed")
                })?
                .data
                .clone())
        };
        let mbr = x86_bootxx::check_mbr_bootcode(&get(boot::GPTMBR)?)
            .with_context(|| format!("/{} from the base set", boot::GPTMBR))?;
        let bootxx = get(boot::BOOTXX_FFSV2)?;
        x86_bootxx::check_bootxx(&bootxx)
            .with_context(|| format!("/{} from the base set", boot::BOOTXX_FFSV2))?;
        let efi = get(boot::BOOTX64_EFI)?;
        if efi.get(..2) != Some(b"MZ".as_slice()) {
            bail!(
                "/{} from the base set is not an EFI (PE) executable",
                boot::BOOTX64_EFI
            );
        }
        if cap.get(boot::BOOT).is_none_or(|b| b.data.len() < 512) {
            bail!("/{} from the base set is missing or truncated", boot::BOOT);
        }
        Ok(BootFiles { mbr, bootxx, efi })
    }
}

/// Build the image `req` describes.
pub fn build(req: &BuildRequest) -> Result<BuildReport> {
    let recipe = &req.recipe;
    let fetcher = fetcher(req)?;
    let sets = fetch_sets(&fetcher, req)?;
    let pkgs = fetch_packages(&fetcher, req)?;
    let inputs = input_digest(req, &sets, &pkgs);
    let seed = BuildSeed::new(inputs, req.seed.clone(), req.source_date_epoch);

    let size = recipe.disk.size.bytes();
    let layout = disk_layout(req, &seed);
    let placement = layout.place(size).with_context(|| {
        format!(
            "laying out a {} disk: give a larger --size (the partitions need at least {})",
            recipe.disk.size,
            crate::size::Size(layout.minimum_size().next_multiple_of(1 << 20))
        )
    })?;
    let out = AtomicOutput::new(&req.output).with_context(|| {
        format!(
            "creating a temporary file beside {} (is the directory writable?)",
            req.output.display()
        )
    })?;
    let format = match req.format {
        OutputFormat::Qcow2 => Format::Qcow2,
        OutputFormat::Raw => Format::Raw,
    };
    let mut dev = create_device(out.path(), format, size, req.compress)
        .with_context(|| format!("creating {}", out.path().display()))?;
    let (fs, boot_files) = write_root(&mut *dev, &placement, req, &seed, &fetcher, &sets, &pkgs)
        .map_err(|e| explain_full_root(e, req, &placement))?;
    write_boot_and_esp(&mut *dev, &placement, req, &seed, &boot_files)?;
    gpt::write_gpt(&mut *dev, &placement, Some(&boot_files.mbr)).context("writing the GPT")?;
    dev.finish()
        .with_context(|| format!("finishing {}", out.path().display()))?;

    let findings = crate::verify::check_image(out.path()).context("checking the finished image")?;
    if !findings.is_empty() {
        let list: Vec<String> = findings.iter().take(20).map(|f| f.to_string()).collect();
        bail!(
            "the finished image failed its check, so {} was left untouched:\n  {}",
            req.output.display(),
            list.join("\n  ")
        );
    }
    out.commit()
        .with_context(|| format!("moving the image into place at {}", req.output.display()))?;
    Ok(BuildReport {
        output: req.output.clone(),
        sets,
        packages: pkgs.map(|p| p.names()).unwrap_or_default(),
        fs,
        inputs: hex::encode(inputs),
    })
}

/// A full root file system is the disk size's fault: say so in the
/// disk's terms (the file system's own suggestion counts only itself).
fn explain_full_root(e: anyhow::Error, req: &BuildRequest, placement: &Placement) -> anyhow::Error {
    let full = e.chain().any(|c| {
        matches!(
            c.downcast_ref::<crate::fs::ffs::FfsError>(),
            Some(
                crate::fs::ffs::FfsError::NoSpace { .. }
                    | crate::fs::ffs::FfsError::NoInodes { .. }
            )
        )
    });
    if !full {
        return e;
    }
    let root = root_partition(placement).map(|p| p.len_bytes).unwrap_or(0);
    e.context(format!(
        "the root partition ({}) of the {} disk is too small for the sets and packages: \
         give a larger --size (the disk also holds the {} ESP)",
        progress::human_bytes(root),
        req.recipe.disk.size,
        req.recipe.disk.esp_size
    ))
}

/// The root file system: sets, packages, generated system.
fn write_root(
    dev: &mut dyn BlockDevice,
    placement: &Placement,
    req: &BuildRequest,
    seed: &BuildSeed,
    fetcher: &Fetcher,
    sets: &[VerifiedFile],
    pkgs: &Option<PackageSet>,
) -> Result<(FsSummary, BootFiles)> {
    let recipe = &req.recipe;
    let root = root_partition(placement)?;
    let window = Window::new(dev, root.first_byte, root.len_bytes)?;
    let mut opts = FsOptions::new(root.len_bytes, Flavour::NetBsd);
    opts.label = Some(recipe.disk.root_label.clone());
    opts.seed = seed.derive_u64("ffs");
    // The file system's own times: SOURCE_DATE_EPOCH, else a fixed point
    // derived from nothing but the inputs (set below once the sets are read).
    let mut ffs = FfsWriter::new(window, opts.clone()).context("creating the root file system")?;
    let boot_files = {
        let mut cap = CaptureSink::new(&mut ffs, CAPTURE, &["etc/mtree/"]);
        let task = progress::Task::new("extracting sets", Some(sets.len() as u64), false);
        let stats = crate::source::sets::read_sets(fetcher.set_inputs(sets), &mut cap)
            .context("extracting the sets into the image")?;
        task.finish(format!(
            "{} entries, {}",
            stats.iter().map(|s| s.entries).sum::<u64>(),
            progress::human_bytes(stats.iter().map(|s| s.bytes).sum())
        ));
        let boot_files = BootFiles::from_capture(&cap)?;
        let time = Timestamp::from_secs(seed.time(cap.newest_mtime()));
        let mut users = ImageAccounts::parse(
            &cap.text("etc/master.passwd", "sets (etc set)")?,
            &cap.text("etc/group", "sets (etc set)")?,
        )?;
        users.add_recipe_users(&recipe.users)?;
        let mut extra_shells = Vec::new();
        if let Some(p) = pkgs {
            let target = Target::new(
                "NetBSD",
                &recipe
                    .packages
                    .machine_arch
                    .clone()
                    .unwrap_or_else(|| machine_arch_of(&recipe.arch).to_string()),
                &recipe.release,
            );
            let exists = |path: &str| cap.exists(path);
            let exists: Vec<String> = ["etc", "usr", "usr/pkg", "var", "var/db"]
                .iter()
                .filter(|p| exists(p))
                .map(|p| p.to_string())
                .collect();
            let report = packages::install(
                p,
                target,
                &|path| exists.iter().any(|e| e == path),
                &mut users,
                &mut cap,
                time,
            )?;
            extra_shells = report.shells;
        }
        let mut entropy = [0u8; 512];
        match seed.secret_seed("entropy") {
            Some(s) => {
                let mut h = Sha256::new();
                h.update(s.as_bytes());
                let mut block: [u8; 32] = h.finalize().into();
                for chunk in entropy.chunks_mut(32) {
                    chunk.copy_from_slice(&block[..chunk.len()]);
                    block = Sha256::digest(block).into();
                }
            }
            None => getrandom_fill(&mut entropy)?,
        }
        system::write_system(
            &mut cap,
            &users,
            &system::SystemInputs {
                recipe,
                time,
                host_key_seed: seed.secret_seed("ssh-host-keys"),
                entropy,
                extra_shells,
            },
        )?;
        boot_files
    };
    let (_, summary) = ffs.finish().context("finishing the root file system")?;
    progress::info(format!(
        "root file system: {} files, {} directories, {} used of {}",
        summary.files,
        summary.dirs,
        progress::human_bytes(summary.bytes_used),
        progress::human_bytes(summary.size)
    ));
    Ok((summary, boot_files))
}

fn root_partition(placement: &Placement) -> Result<&crate::disk::layout::PlacedPartition> {
    placement
        .partitions
        .iter()
        .find(|p| p.spec.type_guid == gpt::types::NETBSD_FFS)
        .context("the layout has no FFS partition")
}

/// Partition boot code (by installboot's rules) and the ESP.
fn write_boot_and_esp(
    dev: &mut dyn BlockDevice,
    placement: &Placement,
    req: &BuildRequest,
    seed: &BuildSeed,
    files: &BootFiles,
) -> Result<()> {
    let root = root_partition(placement)?;
    let mut head = vec![0u8; BOOT_AREA_SIZE];
    dev.read_at(&mut head, root.first_byte)?;
    let cfg = system::netbsd_config(&req.recipe)?;
    let head = x86_bootxx::install_bootxx(&head, &files.bootxx, &boot::bootxx_params(&cfg))
        .with_context(|| format!("installing /{} into the root partition", boot::BOOTXX_FFSV2))?;
    dev.write_at(&head, root.first_byte)?;

    let esp = placement
        .partitions
        .iter()
        .find(|p| p.spec.type_guid == gpt::types::EFI_SYSTEM)
        .context("the layout has no EFI system partition")?;
    let mut window = Window::new(dev, esp.first_byte, esp.len_bytes)?;
    crate::fs::fat::build_esp(
        &mut window,
        &[(boot::ESP_BOOTX64.to_string(), files.efi.clone())],
        "EFI",
        seed.derive_u64("esp-volume-id") as u32,
        Timestamp::from_secs(seed.time(0)),
    )
    .context("writing the EFI system partition")?;
    Ok(())
}

/// Fill `buf` from the operating system's random source.
fn getrandom_fill(buf: &mut [u8]) -> Result<()> {
    use rand_core::RngCore;
    rand_core::OsRng
        .try_fill_bytes(buf)
        .map_err(|e| anyhow::anyhow!("reading the system's random source: {e}"))
}
