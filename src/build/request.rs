//! A build request: the recipe with the command line's overrides applied,
//! checked and resolved into everything the build needs to know up front.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::cli::{BuildArgs, OutputFormat};
use crate::recipe::{Os, Recipe, parse_package_list};
use crate::size::Size;

/// Everything one build needs, resolved.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub recipe: Recipe,
    /// The recipe file's text (part of the input digest).
    pub recipe_text: String,
    pub output: PathBuf,
    pub format: OutputFormat,
    pub compress: bool,
    pub mirrors: Vec<String>,
    /// Package names from the package list (may be empty).
    pub packages: Vec<String>,
    /// Package repository URL, expanded; None when there are no packages.
    pub pkg_repo: Option<String>,
    pub seed: Option<String>,
    pub source_date_epoch: Option<i64>,
    pub cache_dir: Option<PathBuf>,
    pub offline: bool,
    pub verify_cache: bool,
    pub decoded_cache: bool,
}

impl BuildRequest {
    /// Apply `args` to the recipe given on the command line (`--recipe` /
    /// `mkimage build FILE`) or to the OS's built-in default.
    pub fn from_args(
        os: Option<Os>,
        recipe_file: Option<&PathBuf>,
        args: &BuildArgs,
    ) -> Result<Self> {
        let recipe_file = recipe_file.or(args.recipe.as_ref());
        let (mut recipe, recipe_text) = match (recipe_file, os) {
            (Some(path), _) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading recipe {}", path.display()))?;
                (Recipe::parse(&text, path)?, text)
            }
            (None, Some(os)) => {
                let r = Recipe::builtin(os)?;
                let text = crate::recipe::BUILTIN_FILES
                    .iter()
                    .find(|(p, _)| std::path::Path::new(p) == r.path)
                    .map(|(_, t)| t.to_string())
                    .unwrap_or_default();
                (r, text)
            }
            (None, None) => bail!("no recipe given"),
        };
        if let Some(os) = os
            && recipe.os != os
        {
            bail!(
                "recipe {} builds {}, not {}: use `mkimage {}` or `mkimage build`",
                recipe.path.display(),
                recipe.os.name(),
                os.name(),
                recipe.os.name()
            );
        }
        if args.arch != recipe.arch {
            if args.arch != "amd64" {
                bail!(
                    "--arch {}: only amd64 is supported so far (the recipe says {})",
                    args.arch,
                    recipe.arch
                );
            }
            recipe.arch = args.arch.clone();
        }
        if let Some(r) = &args.release {
            recipe.release = r.clone();
        }
        if let Some(s) = &args.size {
            recipe.disk.size = Size::parse(s).context("--size")?;
            if recipe.disk.esp_size.bytes() >= recipe.disk.size.bytes() {
                bail!(
                    "--size {s} leaves no room beside the {} EFI system partition",
                    recipe.disk.esp_size
                );
            }
        }
        let mirrors = if args.mirrors.is_empty() {
            recipe.mirrors.clone()
        } else {
            args.mirrors.clone()
        };
        if mirrors.is_empty() {
            bail!(
                "no mirror: the recipe {} lists none; give --mirror URL",
                recipe.path.display()
            );
        }
        let packages = match (&args.pkg_list, &recipe.packages.list) {
            (Some(file), _) => {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("reading package list {}", file.display()))?;
                parse_package_list(&text)
            }
            (None, Some(list)) => {
                let bytes = recipe.read_relative(list)?;
                parse_package_list(&String::from_utf8_lossy(&bytes))
            }
            (None, None) => Vec::new(),
        };
        let machine_arch = recipe
            .packages
            .machine_arch
            .clone()
            .unwrap_or_else(|| machine_arch_of(&recipe.arch).to_string());
        let osrelease = recipe
            .packages
            .osrelease
            .clone()
            .unwrap_or_else(|| recipe.release.clone());
        let pkg_repo = args
            .pkg_repo
            .as_ref()
            .map(|t| crate::recipe::expand_template(t, &machine_arch, &osrelease))
            .or_else(|| recipe.packages.repository_url(&machine_arch, &osrelease));
        if !packages.is_empty() && pkg_repo.is_none() {
            bail!(
                "{} packages are listed but no repository is set: give --pkg-repo URL or [packages] repository in the recipe",
                packages.len()
            );
        }
        let ext = match args.format {
            OutputFormat::Qcow2 => "qcow2",
            OutputFormat::Raw => "img",
        };
        let output = args.output.clone().unwrap_or_else(|| {
            PathBuf::from(format!(
                "{}-{}-{}.{ext}",
                recipe.os.name(),
                recipe.release,
                recipe.arch
            ))
        });
        if args.compress && args.format == OutputFormat::Raw {
            bail!("--compress applies to qcow2 output only");
        }
        Ok(BuildRequest {
            recipe,
            recipe_text,
            output,
            format: args.format,
            compress: args.compress,
            mirrors,
            packages,
            pkg_repo,
            seed: args.seed.clone(),
            source_date_epoch: crate::build::seed::BuildSeed::source_date_epoch_from_env(),
            cache_dir: args.cache_dir.clone(),
            offline: args.offline,
            verify_cache: args.verify_cache,
            decoded_cache: !args.no_decoded_cache,
        })
    }
}

/// The MACHINE_ARCH packages are built for on a port.
pub fn machine_arch_of(port: &str) -> &str {
    match port {
        "amd64" => "x86_64",
        "i386" => "i386",
        "evbarm64" | "arm64" => "aarch64",
        other => other,
    }
}
