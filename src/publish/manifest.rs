//! `manifest.json` beside a published image: the build's own manifest
//! (inputs with digests, package versions, tool version, build time — as
//! the builder wrote it) plus what publication adds: the image's sha256 and
//! size, the target, and the publication time. Keys are sorted, so the
//! file is stable for the same content.

use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};

/// Read the builder's manifest (must be a JSON object).
pub fn read_build_manifest(path: &Path) -> Result<Map<String, Value>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading build manifest {}", path.display()))?;
    match serde_json::from_str(&text)
        .with_context(|| format!("parsing build manifest {} as JSON", path.display()))?
    {
        Value::Object(map) => Ok(map),
        _ => bail!("build manifest {} is not a JSON object", path.display()),
    }
}

/// What publication records about the image.
#[derive(Debug, Clone)]
pub struct Published<'a> {
    pub os: &'a str,
    pub release: &'a str,
    pub arch: &'a str,
    pub sha256: &'a str,
    pub size: u64,
    pub at: SystemTime,
}

/// The manifest to write: `build` with `image`, `target` and `published`
/// set (a builder's own keys of those names are replaced).
pub fn compose(build: Option<Map<String, Value>>, p: &Published) -> Value {
    let mut map = build.unwrap_or_default();
    map.insert(
        "image".into(),
        json!({ "file": super::layout::IMAGE_NAME, "sha256": p.sha256, "size": p.size }),
    );
    map.insert(
        "target".into(),
        json!({ "os": p.os, "release": p.release, "arch": p.arch }),
    );
    map.insert(
        "published".into(),
        json!({
            "at": humantime::format_rfc3339_seconds(p.at).to_string(),
            "by": format!("mkimage {}", env!("CARGO_PKG_VERSION")),
        }),
    );
    Value::Object(map)
}

/// The published image's sha256 recorded in an existing manifest.
pub fn published_sha256(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: Value = serde_json::from_str(&text).ok()?;
    value
        .get("image")?
        .get("sha256")?
        .as_str()
        .map(str::to_string)
}
