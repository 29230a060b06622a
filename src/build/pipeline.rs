//! The steps every OS's image build shares: the fetcher, the input digest,
//! placing the partitions, the output file written beside its target and
//! renamed into place only once the whole-image check passes, the ESP, the
//! entropy bytes, and explaining a full root file system in disk terms.
//! The OS modules (`netbsd`, `freebsd`) decide what goes into the image.

use anyhow::{Context, Result, bail};
use sha2::{Digest as _, Sha256};

use crate::build::request::BuildRequest;
use crate::build::seed::BuildSeed;
use crate::cli::OutputFormat;
use crate::disk::format::{Format, OutputDevice, create_device};
use crate::disk::gpt;
use crate::disk::layout::{DiskLayout, PlacedPartition, Placement};
use crate::disk::output::AtomicOutput;
use crate::disk::{BlockDevice, Window};
use crate::entry::Timestamp;
use crate::fetch::{FetchOptions, Fetcher, VerifiedFile};
use crate::fs::ffs::FsSummary;
use crate::progress;

/// What a finished build reports (and the manifest records).
#[derive(Debug, Clone)]
pub struct BuildReport {
    pub output: std::path::PathBuf,
    pub sets: Vec<VerifiedFile>,
    pub packages: Vec<String>,
    pub fs: FsSummary,
    /// Hex digest of everything that defines the image's content.
    pub inputs: String,
}

/// The fetcher the request's options describe.
pub fn fetcher(req: &BuildRequest) -> Result<Fetcher> {
    Fetcher::new(FetchOptions {
        cache_dir: req.cache_dir.clone(),
        offline: req.offline,
        verify_cache: req.verify_cache,
        decoded_cache: req.decoded_cache,
        ..FetchOptions::default()
    })
}

/// The digest of everything that defines the image's content: tool
/// version, recipe text and overrides, every set's digest, the package
/// repository and the resolved package names, the seed and the format.
pub fn input_digest(
    req: &BuildRequest,
    sets: &[VerifiedFile],
    pkg_repo: Option<&str>,
    packages: &[String],
) -> [u8; 32] {
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
    if let Some(repo) = pkg_repo {
        h.update(repo.as_bytes());
        for name in packages {
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

/// Place `layout` on the request's disk size, or say which size would do.
pub fn place(req: &BuildRequest, layout: &DiskLayout) -> Result<Placement> {
    layout.place(req.recipe.disk.size.bytes()).with_context(|| {
        format!(
            "laying out a {} disk: give a larger --size (the partitions need at least {})",
            req.recipe.disk.size,
            crate::size::Size(layout.minimum_size().next_multiple_of(1 << 20))
        )
    })
}

/// The first partition of a type.
pub fn partition(placement: &Placement, type_guid: uuid::Uuid) -> Result<&PlacedPartition> {
    placement
        .partitions
        .iter()
        .find(|p| p.spec.type_guid == type_guid)
        .with_context(|| format!("the layout has no partition of type {type_guid}"))
}

/// The temporary output beside the target and its device.
pub fn create_output(req: &BuildRequest) -> Result<(AtomicOutput, Box<dyn OutputDevice>)> {
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
    let dev = create_device(
        out.path(),
        format,
        req.recipe.disk.size.bytes(),
        req.compress,
    )
    .with_context(|| format!("creating {}", out.path().display()))?;
    Ok((out, dev))
}

/// Finish the device, check the whole image, and only then rename it over
/// the target. On any error the temporary is removed and the target stays.
pub fn finish_and_commit(
    out: AtomicOutput,
    dev: Box<dyn OutputDevice>,
    req: &BuildRequest,
) -> Result<()> {
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
        .with_context(|| format!("moving the image into place at {}", req.output.display()))
}

/// Write the EFI system partition with `files` (paths like
/// `EFI/BOOT/BOOTX64.EFI`).
pub fn write_esp(
    dev: &mut dyn BlockDevice,
    placement: &Placement,
    files: &[(String, Vec<u8>)],
    label: &str,
    seed: &BuildSeed,
) -> Result<()> {
    let esp = partition(placement, gpt::types::EFI_SYSTEM)?;
    let mut window = Window::new(dev, esp.first_byte, esp.len_bytes)?;
    crate::fs::fat::build_esp(
        &mut window,
        files,
        label,
        seed.derive_u64("esp-volume-id") as u32,
        Timestamp::from_secs(seed.time(0)),
    )
    .context("writing the EFI system partition")
}

/// `n` bytes for the kernel's entropy file: derived from the seed when the
/// build is seeded (reproducible), else from the system's random source.
pub fn entropy(seed: &BuildSeed, n: usize) -> Result<Vec<u8>> {
    let mut out = vec![0u8; n];
    match seed.secret_seed("entropy") {
        Some(s) => {
            let mut block: [u8; 32] = Sha256::digest(s.as_bytes()).into();
            for chunk in out.chunks_mut(32) {
                chunk.copy_from_slice(&block[..chunk.len()]);
                block = Sha256::digest(block).into();
            }
        }
        None => {
            use rand_core::RngCore;
            rand_core::OsRng
                .try_fill_bytes(&mut out)
                .map_err(|e| anyhow::anyhow!("reading the system's random source: {e}"))?;
        }
    }
    Ok(out)
}

/// A full root file system is the disk size's fault: say so in the
/// disk's terms (the file system's own suggestion counts only itself).
pub fn explain_full_root(e: anyhow::Error, req: &BuildRequest, root_len: u64) -> anyhow::Error {
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
    e.context(format!(
        "the root partition ({}) of the {} disk is too small for the sets and packages: \
         give a larger --size (the disk also holds the {} ESP)",
        progress::human_bytes(root_len),
        req.recipe.disk.size,
        req.recipe.disk.esp_size
    ))
}

/// Stream the verified sets into `sink` in order (decompressing ahead in
/// parallel), with progress.
pub fn extract_sets(
    sink: &mut dyn crate::entry::EntrySink,
    fetcher: &Fetcher,
    sets: &[VerifiedFile],
) -> Result<()> {
    let task = progress::Task::new("extracting sets", Some(sets.len() as u64), false);
    let stats = crate::source::sets::read_sets(fetcher.set_inputs(sets), sink)
        .context("extracting the sets into the image")?;
    task.finish(format!(
        "{} entries, {}",
        stats.iter().map(|s| s.entries).sum::<u64>(),
        progress::human_bytes(stats.iter().map(|s| s.bytes).sum())
    ));
    Ok(())
}

/// One line about the finished root file system.
pub fn report_fs(summary: &FsSummary) {
    progress::info(format!(
        "root file system: {} files, {} directories, {} used of {}",
        summary.files,
        summary.dirs,
        progress::human_bytes(summary.bytes_used),
        progress::human_bytes(summary.size)
    ));
}

/// SSH host keys generated on a worker thread while the sets stream into
/// the image (a 3072-bit RSA key alone takes about a second).
pub struct HostKeys<'scope> {
    handle: Option<std::thread::ScopedJoinHandle<'scope, Result<Vec<crate::sshkeys::KeyFile>>>>,
}

impl<'scope> HostKeys<'scope> {
    /// Start generating in `scope`: random keys, or derived from `seed`.
    pub fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        hostname: String,
        seed: Option<String>,
    ) -> Self {
        let handle =
            scope.spawn(move || crate::sshkeys::all_host_key_files(&hostname, seed.as_deref()));
        HostKeys {
            handle: Some(handle),
        }
    }

    /// Wait for the keys.
    pub fn take(&mut self) -> Result<Vec<crate::sshkeys::KeyFile>> {
        match self.handle.take() {
            Some(h) => h
                .join()
                .map_err(|_| anyhow::anyhow!("generating the SSH host keys failed unexpectedly"))?,
            None => bail!("the SSH host keys were already taken"),
        }
    }
}
