//! The FreeBSD image: fetch and verify the distribution sets against the
//! release's MANIFEST, stream them into a UFS2 root (FreeBSD flavour),
//! install packages and register them in pkg's database, add the
//! generated system, then lay out the disk as the release's VM images do
//! (freebsd-boot with gptboot, ESP with loader.efi, UFS root) with the
//! PMBR code, check the result and put it in place.

use std::io::Read;

use anyhow::{Context, Result, bail};

use crate::accounts::{self, ByteOrder};
use crate::boot::gpt_pmbr;
use crate::build::capture::CaptureSink;
use crate::build::pipeline::{self, BuildReport, fetcher};
use crate::build::recipe_files;
use crate::build::request::BuildRequest;
use crate::build::seed::BuildSeed;
use crate::build::users::ImageAccounts;
use crate::disk::gpt;
use crate::disk::layout::Placement;
use crate::disk::{BlockDevice, Window};
use crate::entry::{Entry, EntrySink, Timestamp, add_bytes};
use crate::fetch::checksum::{Algorithm, Digest};
use crate::fetch::{Fetcher, ReleaseLayout, VerifiedFile};
use crate::fs::ffs::{FfsWriter, Flavour, FsOptions, FsSummary};
use crate::os::freebsd::{boot, config, files};
use crate::pkg_freebsd::{self, Catalogue, Planned};
use crate::progress;

/// Files the build reads back from the sets.
const CAPTURE: &[&str] = &[
    "etc/master.passwd",
    "etc/group",
    "etc/ssh/sshd_config",
    "etc/ttys",
    "etc/shells",
    boot::PMBR,
    boot::GPTBOOT,
    boot::LOADER_EFI,
];

/// The repository catalogue, newest format first.
const CATALOGUES: [&str; 2] = ["packagesite.pkg", "packagesite.txz"];

fn layout(req: &BuildRequest) -> ReleaseLayout {
    ReleaseLayout::FreeBsd {
        release: req.recipe.release.clone(),
        machine: req.recipe.arch.clone(),
        arch: req.recipe.arch.clone(),
    }
}

/// pkg's ABI string for the release: `FreeBSD:14:amd64`.
fn abi(req: &BuildRequest) -> String {
    let major = req
        .recipe
        .release
        .split(['.', '-'])
        .next()
        .unwrap_or(&req.recipe.release);
    format!("FreeBSD:{major}:{}", req.recipe.arch)
}

fn fetch_sets(fetcher: &Fetcher, req: &BuildRequest) -> Result<Vec<VerifiedFile>> {
    let layout = layout(req);
    let sums = fetcher.release_checksums(&req.mirrors, &layout)?;
    let mut names = Vec::new();
    for (name, optional) in req.recipe.set_list() {
        let file = format!("{name}.txz");
        if sums.digests.contains_key(&file) {
            names.push(file);
        } else if optional {
            progress::info(format!(
                "optional set {name} is not in FreeBSD {}; skipped",
                req.recipe.release
            ));
        } else {
            bail!(
                "set {file} is not listed in {}: check the set names and --release",
                sums.source
            );
        }
    }
    fetcher.fetch_release_files(&req.mirrors, &layout, &names)
}

/// The resolved packages and their verified files.
struct PackageSet {
    repo: String,
    plan: Vec<Planned>,
    files: Vec<VerifiedFile>,
}

impl PackageSet {
    fn names(&self) -> Vec<String> {
        self.plan.iter().map(|p| p.manifest.pkgname()).collect()
    }
}

fn join(repo: &str, name: &str) -> String {
    format!(
        "{}/{}",
        repo.trim_end_matches('/'),
        name.trim_start_matches("./")
    )
}

fn fetch_packages(fetcher: &Fetcher, req: &BuildRequest) -> Result<Option<PackageSet>> {
    if req.packages.is_empty() {
        return Ok(None);
    }
    let repo = req
        .pkg_repo
        .as_deref()
        .context("packages are listed but no package repository is set")?;
    let mut last = None;
    let mut catalogue = None;
    for name in CATALOGUES {
        match fetcher.refresh_unverified_small(&[join(repo, name)]) {
            Ok((url, bytes)) => {
                catalogue = Some((url, bytes));
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let Some((url, bytes)) = catalogue else {
        bail!(
            "no package catalogue (packagesite.pkg or .txz) at {repo}: {}\n\
             check --pkg-repo (it names the directory holding packagesite.pkg and All/)",
            last.map(|e| format!("{e:#}")).unwrap_or_default()
        );
    };
    let cat = Catalogue::from_packagesite(std::io::Cursor::new(bytes), &url)?;
    let plan = pkg_freebsd::resolve(&cat, &req.packages)
        .with_context(|| format!("resolving the package list against {url}"))?;
    let task = progress::Task::new("fetching packages", Some(plan.len() as u64), false);
    let mut files = Vec::with_capacity(plan.len());
    for p in &plan {
        let digest = Digest::new(Algorithm::Sha256, &p.manifest.sum).with_context(|| {
            format!(
                "{}: the catalogue's sum is not a SHA-256 digest",
                p.manifest.pkgname()
            )
        })?;
        let file = fetcher
            .fetch_verified(&[join(repo, &p.manifest.repopath)], &digest)
            .with_context(|| format!("fetching package {}", p.manifest.pkgname()))?;
        files.push(file);
        task.inc(1);
    }
    task.finish(format!("{} packages", plan.len()));
    Ok(Some(PackageSet {
        repo: repo.to_string(),
        plan,
        files,
    }))
}

fn input_digest(req: &BuildRequest, sets: &[VerifiedFile], pkgs: &Option<PackageSet>) -> [u8; 32] {
    let names = pkgs.as_ref().map(|p| p.names()).unwrap_or_default();
    pipeline::input_digest(req, sets, pkgs.as_ref().map(|p| p.repo.as_str()), &names)
}

/// The digest of everything `req` would build from.
pub fn inputs_digest(req: &BuildRequest) -> Result<String> {
    let fetcher = fetcher(req)?;
    let sets = fetch_sets(&fetcher, req)?;
    let pkgs = fetch_packages(&fetcher, req)?;
    Ok(hex::encode(input_digest(req, &sets, &pkgs)))
}

/// Only fetch what a build of `req` would use (`mkimage fetch`); returns
/// how many sets and packages.
pub fn fetch_only(req: &BuildRequest) -> Result<(usize, usize)> {
    let fetcher = fetcher(req)?;
    let sets = fetch_sets(&fetcher, req)?;
    let pkgs = fetch_packages(&fetcher, req)?;
    Ok((sets.len(), pkgs.map(|p| p.plan.len()).unwrap_or(0)))
}

/// Boot code from the base set, checked before anything depends on it.
struct BootFiles {
    pmbr: [u8; gpt_pmbr::DOSPARTOFF],
    gptboot: Vec<u8>,
    loader_efi: Vec<u8>,
}

impl BootFiles {
    fn from_capture(cap: &CaptureSink<'_>) -> Result<BootFiles> {
        let get = |p: &str| -> Result<Vec<u8>> {
            Ok(cap
                .get(p)
                .with_context(|| format!("/{p} is missing from the sets: it comes with base.txz"))?
                .data
                .clone())
        };
        let pmbr = gpt_pmbr::pmbr_bootcode(&get(boot::PMBR)?)
            .with_context(|| format!("/{} from base.txz", boot::PMBR))?;
        let gptboot = get(boot::GPTBOOT)?;
        gpt_pmbr::check_boot_partition(gptboot.len(), boot::BOOT_PARTITION_SIZE)
            .with_context(|| format!("/{} from base.txz", boot::GPTBOOT))?;
        let loader_efi = get(boot::LOADER_EFI)?;
        if loader_efi.get(..2) != Some(b"MZ".as_slice()) {
            bail!(
                "/{} from base.txz is not an EFI (PE) executable",
                boot::LOADER_EFI
            );
        }
        Ok(BootFiles {
            pmbr,
            gptboot,
            loader_efi,
        })
    }
}

/// Build the image `req` describes.
pub fn build(req: &BuildRequest) -> Result<BuildReport> {
    let fetcher = fetcher(req)?;
    let sets = fetch_sets(&fetcher, req)?;
    let pkgs = fetch_packages(&fetcher, req)?;
    let inputs = input_digest(req, &sets, &pkgs);
    let seed = BuildSeed::new(inputs, req.seed.clone(), req.source_date_epoch);

    let params = boot::LayoutParams::from_recipe(&req.recipe, &hex::encode(seed.derive("gpt")));
    let placement = pipeline::place(req, &boot::disk_layout(&params))?;
    let (out, mut dev) = pipeline::create_output(req)?;
    let root = pipeline::partition(&placement, gpt::types::FREEBSD_UFS)?;
    let hostname = req.recipe.network.hostname.clone();
    let (fs, files) = std::thread::scope(|scope| {
        let mut keys =
            pipeline::HostKeys::start(scope, hostname, seed.secret_seed("ssh-host-keys"));
        write_root(
            &mut *dev,
            root.first_byte,
            root.len_bytes,
            req,
            &seed,
            &fetcher,
            &sets,
            &pkgs,
            &mut keys,
        )
    })
    .map_err(|e| pipeline::explain_full_root(e, req, root.len_bytes))?;
    write_boot(&mut *dev, &placement, &files)?;
    pipeline::write_esp(
        &mut *dev,
        &placement,
        &[(boot::ESP_BOOTX64.to_string(), files.loader_efi.clone())],
        "EFISYS",
        &seed,
    )?;
    pipeline::finish_and_commit(out, dev, req)?;
    Ok(BuildReport {
        output: req.output.clone(),
        sets,
        packages: pkgs.map(|p| p.names()).unwrap_or_default(),
        fs,
        inputs: hex::encode(inputs),
    })
}

/// PMBR code, the GPT, and gptboot in the freebsd-boot partition.
fn write_boot(dev: &mut dyn BlockDevice, placement: &Placement, files: &BootFiles) -> Result<()> {
    gpt::write_gpt(dev, placement, None).context("writing the GPT")?;
    gpt_pmbr::install_pmbr_bootcode(dev, &files.pmbr)
        .with_context(|| format!("installing /{} into the protective MBR", boot::PMBR))?;
    let bootpart = pipeline::partition(placement, gpt::types::FREEBSD_BOOT)?;
    gpt_pmbr::write_boot_partition(dev, bootpart.first_byte, bootpart.len_bytes, &files.gptboot)
        .with_context(|| format!("writing /{} into the freebsd-boot partition", boot::GPTBOOT))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_root(
    dev: &mut dyn BlockDevice,
    first_byte: u64,
    len: u64,
    req: &BuildRequest,
    seed: &BuildSeed,
    fetcher: &Fetcher,
    sets: &[VerifiedFile],
    pkgs: &Option<PackageSet>,
    keys: &mut pipeline::HostKeys<'_>,
) -> Result<(FsSummary, BootFiles)> {
    let recipe = &req.recipe;
    let window = Window::new(dev, first_byte, len)?;
    let mut opts = FsOptions::new(len, Flavour::FreeBsd);
    opts.label = Some(recipe.disk.root_label.clone());
    opts.seed = seed.derive_u64("ffs");
    opts.soft_updates = recipe.disk.soft_updates;
    // The superblock's own time: SOURCE_DATE_EPOCH, else the epoch.
    opts.time = Timestamp::from_secs(seed.time(0));
    let mut ffs = FfsWriter::new(window, opts).context("creating the root file system")?;
    let boot_files = {
        let mut cap = CaptureSink::new(&mut ffs, CAPTURE);
        pipeline::extract_sets(&mut cap, fetcher, sets)?;
        let boot_files = BootFiles::from_capture(&cap)?;
        let time = Timestamp::from_secs(seed.time(cap.newest_mtime()));
        let users = ImageAccounts::from_sets(&cap, &recipe.users)?;
        if let Some(p) = pkgs {
            install_packages(&mut cap, p, &abi(req), time)?;
        }
        write_system(&mut cap, req, &users, seed, keys.take()?, time)?;
        boot_files
    };
    let (_, summary) = ffs.finish().context("finishing the root file system")?;
    pipeline::report_fs(&summary);
    Ok((summary, boot_files))
}

/// Payload of every package, samples copied to their configuration files
/// where nothing else put one, and pkg's `local.sqlite`.
fn install_packages(
    cap: &mut CaptureSink<'_>,
    set: &PackageSet,
    abi: &str,
    time: Timestamp,
) -> Result<()> {
    let task = progress::Task::new("installing packages", Some(set.plan.len() as u64), false);
    let mut samples = Vec::new();
    let mut registrations = Vec::new();
    for (p, file) in set.plan.iter().zip(&set.files) {
        let reader = std::fs::File::open(&file.path)
            .with_context(|| format!("opening {}", file.path.display()))?;
        let installed = pkg_freebsd::read_package(reader, &file.name, abi, cap)?;
        samples.extend(installed.samples);
        registrations.push(pkg_freebsd::pkgdb::Registration {
            manifest: installed.manifest,
            automatic: p.automatic,
        });
        task.inc(1);
    }
    for s in samples {
        if !cap.exists(&s.target) {
            add_bytes(
                cap,
                Entry::file(s.target.clone(), s.mode, 0, time).owned(s.uid, s.gid),
                &s.data,
            )?;
        }
    }
    let scratch = std::env::temp_dir().join(format!("mkimage-pkgdb-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("creating scratch directory {}", scratch.display()))?;
    let db = scratch.join("local.sqlite");
    let _ = std::fs::remove_file(&db);
    let written = pkg_freebsd::pkgdb::write_local_db(&db, &registrations, time.secs)
        .and_then(|()| std::fs::read(&db).context("reading back pkg's database"));
    let _ = std::fs::remove_dir_all(&scratch);
    let bytes = written?;
    cap.add(
        &Entry::dir("var/db/pkg", 0o755, time),
        &mut std::io::empty(),
    )?;
    add_bytes(
        cap,
        Entry::file(
            pkg_freebsd::pkgdb::LOCAL_DB,
            pkg_freebsd::pkgdb::LOCAL_DB_MODE,
            0,
            time,
        ),
        &bytes,
    )?;
    task.finish(format!(
        "{} packages installed and registered",
        set.plan.len()
    ));
    Ok(())
}

/// Accounts, configuration, host keys, entropy, homes and extra files.
fn write_system(
    cap: &mut CaptureSink<'_>,
    req: &BuildRequest,
    users: &ImageAccounts,
    seed: &BuildSeed,
    host_keys: Vec<crate::sshkeys::KeyFile>,
    time: Timestamp,
) -> Result<()> {
    let recipe = &req.recipe;
    let cfg = config::FreebsdConfig::from_recipe(recipe)?;
    let texts = files::ReleaseTexts {
        sshd_config: cap.text("etc/ssh/sshd_config", "sets (base.txz)")?,
        ttys: cap.text("etc/ttys", "sets (base.txz)")?,
    };
    let shells = cap
        .text("etc/shells", "sets (base.txz)")
        .unwrap_or_default();
    for (spec, bytes) in
        accounts::account_files(&users.accounts, accounts::freebsd::pwd_dbs, ByteOrder::Big)
            .context("writing the account databases")?
    {
        add_bytes(
            cap,
            Entry::file(spec.path, spec.mode as u16, 0, time).owned(spec.uid, spec.gid),
            &bytes,
        )?;
    }
    let entropy = pipeline::entropy(seed, 2 * config::ENTROPY_SIZE)?;
    let (boot_entropy, late_entropy) = entropy.split_at(config::ENTROPY_SIZE);
    let mut generated = files::system_files(&cfg, &texts, "wheel", boot_entropy, late_entropy)?;
    // The recipe's own sshd settings on top of the builds-service ones.
    let sshd_settings: Vec<(&str, &str)> = recipe
        .sshd_config
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for f in &mut generated {
        if f.path == "etc/ssh/sshd_config" {
            let text = String::from_utf8_lossy(&f.data).into_owned();
            f.data = crate::os::sshd::edit_sshd_config(&text, &sshd_settings).into_bytes();
        }
    }
    files::add_files(cap, &generated, time)?;
    if cap.exists("usr/local/bin/bash") {
        let text =
            crate::pkgsrc::install::add_shells(&shells, &["/usr/local/bin/bash".to_string()]);
        add_bytes(
            cap,
            Entry::file("etc/shells", 0o644, 0, time),
            text.as_bytes(),
        )?;
    }
    for key in host_keys {
        add_bytes(
            cap,
            Entry::file(key.path.clone(), key.mode, 0, time),
            &key.contents,
        )?;
    }
    let acc = &users.accounts;
    for item in recipe_files::homes(recipe, acc, time)?
        .into_iter()
        .chain(recipe_files::extra_files(recipe, acc, time)?)
    {
        if item.entry.kind == crate::entry::EntryKind::Dir && cap.kind(&item.entry.path).is_some() {
            continue;
        }
        let mut data: &[u8] = &item.data;
        cap.add(&item.entry, &mut data as &mut dyn Read)?;
    }
    Ok(())
}
