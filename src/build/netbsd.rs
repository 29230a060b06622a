//! The NetBSD image: fetch and verify the sets (and packages), stream them
//! into an FFSv2 root, add the generated system, install the boot chain
//! (PMBR code, bootxx, /boot, the ESP loader), write the GPT, check the
//! result and put it in place. Byte layouts are the format modules'
//! business; this file decides what goes where and in which order.

use anyhow::{Context, Result, bail};

use crate::boot::x86_bootxx::{self, BOOT_AREA_SIZE};
use crate::build::capture::CaptureSink;
use crate::build::packages::{self, PackageSet};
use crate::build::pipeline::{self, BuildReport, fetcher};
use crate::build::request::{BuildRequest, machine_arch_of};
use crate::build::seed::BuildSeed;
use crate::build::users::ImageAccounts;
use crate::disk::gpt;
use crate::disk::guid::derive_guid;
use crate::disk::layout::{DiskLayout, PartSize, PartitionSpec, Placement};
use crate::disk::{BlockDevice, Window};
use crate::entry::Timestamp;
use crate::fetch::{Fetcher, ReleaseLayout, VerifiedFile};
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

fn input_digest(req: &BuildRequest, sets: &[VerifiedFile], pkgs: &Option<PackageSet>) -> [u8; 32] {
    let names = pkgs.as_ref().map(|p| p.names()).unwrap_or_default();
    pipeline::input_digest(req, sets, pkgs.as_ref().map(|p| p.repo.as_str()), &names)
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
    let fetcher = fetcher(req)?;
    let sets = fetch_sets(&fetcher, req)?;
    let pkgs = fetch_packages(&fetcher, req)?;
    let inputs = input_digest(req, &sets, &pkgs);
    let seed = BuildSeed::new(inputs, req.seed.clone(), req.source_date_epoch);

    let placement = pipeline::place(req, &disk_layout(req, &seed))?;
    let (out, mut dev) = pipeline::create_output(req)?;
    let root_len = root_partition(&placement)?.len_bytes;
    let hostname = req.recipe.network.hostname.clone();
    let (fs, boot_files) = std::thread::scope(|scope| {
        let mut keys =
            pipeline::HostKeys::start(scope, hostname, seed.secret_seed("ssh-host-keys"));
        write_root(
            &mut *dev, &placement, req, &seed, &fetcher, &sets, &pkgs, &mut keys,
        )
    })
    .map_err(|e| pipeline::explain_full_root(e, req, root_len))?;
    write_boot_code(&mut *dev, &placement, req, &boot_files)?;
    pipeline::write_esp(
        &mut *dev,
        &placement,
        &[(boot::ESP_BOOTX64.to_string(), boot_files.efi.clone())],
        "EFI",
        &seed,
    )?;
    gpt::write_gpt(&mut *dev, &placement, Some(&boot_files.mbr)).context("writing the GPT")?;
    pipeline::finish_and_commit(out, dev, req)?;
    Ok(BuildReport {
        output: req.output.clone(),
        sets,
        packages: pkgs.map(|p| p.names()).unwrap_or_default(),
        fs,
        inputs: hex::encode(inputs),
    })
}

/// The root file system: sets, packages, generated system.
#[allow(clippy::too_many_arguments)]
fn write_root(
    dev: &mut dyn BlockDevice,
    placement: &Placement,
    req: &BuildRequest,
    seed: &BuildSeed,
    fetcher: &Fetcher,
    sets: &[VerifiedFile],
    pkgs: &Option<PackageSet>,
    keys: &mut pipeline::HostKeys<'_>,
) -> Result<(FsSummary, BootFiles)> {
    let recipe = &req.recipe;
    let root = root_partition(placement)?;
    let window = Window::new(dev, root.first_byte, root.len_bytes)?;
    let mut opts = FsOptions::new(root.len_bytes, Flavour::NetBsd);
    opts.label = Some(recipe.disk.root_label.clone());
    opts.seed = seed.derive_u64("ffs");
    // The superblock's own time: SOURCE_DATE_EPOCH, else the epoch (never
    // the clock), so that it depends on the inputs only.
    opts.time = Timestamp::from_secs(seed.time(0));
    let mut ffs = FfsWriter::new(window, opts).context("creating the root file system")?;
    let boot_files = {
        let mut cap = CaptureSink::new(&mut ffs, CAPTURE);
        pipeline::extract_sets(&mut cap, fetcher, sets)?;
        let boot_files = BootFiles::from_capture(&cap)?;
        let time = Timestamp::from_secs(seed.time(cap.newest_mtime()));
        let mut users = ImageAccounts::from_sets(&cap, &recipe.users)?;
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
            let existing = cap.paths();
            let report = packages::install(p, target, &existing, &mut users, &mut cap, time)?;
            extra_shells = report.shells;
        }
        let mut entropy = [0u8; 512];
        entropy.copy_from_slice(&pipeline::entropy(seed, 512)?);
        system::write_system(
            &mut cap,
            &users,
            &system::SystemInputs {
                recipe,
                time,
                host_keys: keys.take()?,
                entropy,
                extra_shells,
            },
        )?;
        boot_files
    };
    let (_, summary) = ffs.finish().context("finishing the root file system")?;
    pipeline::report_fs(&summary);
    Ok((summary, boot_files))
}

fn root_partition(placement: &Placement) -> Result<&crate::disk::layout::PlacedPartition> {
    pipeline::partition(placement, gpt::types::NETBSD_FFS)
}

/// Partition boot code at the start of the root partition, by
/// installboot's rules, with the recipe's console and timeout.
fn write_boot_code(
    dev: &mut dyn BlockDevice,
    placement: &Placement,
    req: &BuildRequest,
    files: &BootFiles,
) -> Result<()> {
    let root = root_partition(placement)?;
    let mut head = vec![0u8; BOOT_AREA_SIZE];
    dev.read_at(&mut head, root.first_byte)?;
    let cfg = system::netbsd_config(&req.recipe)?;
    let head = x86_bootxx::install_bootxx(&head, &files.bootxx, &boot::bootxx_params(&cfg))
        .with_context(|| format!("installing /{} into the root partition", boot::BOOTXX_FFSV2))?;
    dev.write_at(&head, root.first_byte)?;
    Ok(())
}
