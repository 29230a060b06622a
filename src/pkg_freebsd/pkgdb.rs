//! pkg(8)'s local database, `/var/db/pkg/local.sqlite`, written at build
//! time so that the installed packages are registered (pkg info, upgrades,
//! and further installs that do not reinstall them).
//!
//! The schema is the one `pkgdb_init()` in libpkg's `pkgdb.c` creates for
//! `DB_SCHEMA_MAJOR` 0, `DB_SCHEMA_MINOR` 36 (pkg 2.x), stored as
//! `PRAGMA user_version = 36`. pkg upgrades an older database step by step
//! and accepts a newer minor version with a warning, so the version must
//! not be newer than the pkg that runs in the image; see docs/freebsd.md.
//! Rows follow what `pkgdb_register_pkg` inserts; scripts keep pkg's
//! numbering (0 pre-install … 8 upgrade).

use std::path::Path;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, params};

use super::manifest::Manifest;

/// `DBVERSION` (`DB_SCHEMA_MAJOR * 1000 + DB_SCHEMA_MINOR`) of the schema
/// below.
pub const DB_VERSION: i64 = 36;

/// Where pkg keeps its database (`PKG_DBDIR`), relative to the image root.
pub const LOCAL_DB: &str = "var/db/pkg/local.sqlite";
/// Its mode: pkg refuses a database that group or others can write.
pub const LOCAL_DB_MODE: u16 = 0o644;

/// The tables, indexes, views and triggers of schema [`DB_VERSION`].
const SCHEMA: &str = "
CREATE TABLE packages (
  id INTEGER PRIMARY KEY,
  origin TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  comment TEXT NOT NULL,
  desc TEXT NOT NULL,
  mtree_id INTEGER,
  message TEXT,
  arch TEXT NOT NULL,
  maintainer TEXT NOT NULL,
  www TEXT,
  prefix TEXT NOT NULL,
  flatsize INTEGER NOT NULL,
  automatic INTEGER NOT NULL,
  locked INTEGER NOT NULL DEFAULT 0,
  licenselogic INTEGER NOT NULL,
  time INTEGER,
  manifestdigest TEXT NULL,
  pkg_format_version INTEGER,
  dep_formula TEXT NULL,
  vital INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX packages_unique ON packages(name);
CREATE TABLE pkg_script (
  package_id INTEGER REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  type INTEGER,
  script_id INTEGER REFERENCES script(script_id) ON DELETE RESTRICT ON UPDATE CASCADE,
  PRIMARY KEY (package_id, type)
);
CREATE TABLE script (
  script_id INTEGER PRIMARY KEY,
  script TEXT NOT NULL UNIQUE
);
CREATE TABLE option (
  option_id INTEGER PRIMARY KEY,
  option TEXT NOT NULL UNIQUE
);
CREATE TABLE option_desc (
  option_desc_id INTEGER PRIMARY KEY,
  option_desc TEXT NOT NULL UNIQUE
);
CREATE TABLE pkg_option (
  package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  option_id INTEGER NOT NULL REFERENCES option(option_id) ON DELETE RESTRICT ON UPDATE CASCADE,
  value TEXT NOT NULL,
  PRIMARY KEY(package_id, option_id)
);
CREATE TABLE pkg_option_desc (
  package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  option_id INTEGER NOT NULL REFERENCES option(option_id) ON DELETE RESTRICT ON UPDATE CASCADE,
  option_desc_id INTEGER NOT NULL REFERENCES option_desc(option_desc_id) ON DELETE RESTRICT ON UPDATE CASCADE,
  PRIMARY KEY(package_id, option_id)
);
CREATE TABLE pkg_option_default (
  package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  option_id INTEGER NOT NULL REFERENCES option(option_id) ON DELETE RESTRICT ON UPDATE CASCADE,
  default_value TEXT NOT NULL,
  PRIMARY KEY(package_id, option_id)
);
CREATE TABLE deps (
  origin TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  package_id INTEGER REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX deps_unique ON deps(name, version, package_id);
CREATE TABLE files (
  path TEXT PRIMARY KEY,
  sha256 TEXT,
  package_id INTEGER REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE TABLE directories (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE
);
CREATE TABLE pkg_directories (
  package_id INTEGER REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  directory_id INTEGER REFERENCES directories(id) ON DELETE RESTRICT ON UPDATE RESTRICT,
  try INTEGER,
  PRIMARY KEY (package_id, directory_id)
);
CREATE TABLE categories (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE pkg_categories (
  package_id INTEGER REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  category_id INTEGER REFERENCES categories(id) ON DELETE RESTRICT ON UPDATE RESTRICT,
  PRIMARY KEY (package_id, category_id)
);
CREATE TABLE licenses (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE pkg_licenses (
  package_id INTEGER REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  license_id INTEGER REFERENCES licenses(id) ON DELETE RESTRICT ON UPDATE RESTRICT,
  PRIMARY KEY (package_id, license_id)
);
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE pkg_users (
  package_id INTEGER REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  user_id INTEGER REFERENCES users(id) ON DELETE RESTRICT ON UPDATE RESTRICT,
  UNIQUE(package_id, user_id)
);
CREATE TABLE groups (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE pkg_groups (
  package_id INTEGER REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  group_id INTEGER REFERENCES groups(id) ON DELETE RESTRICT ON UPDATE RESTRICT,
  UNIQUE(package_id, group_id)
);
CREATE TABLE shlibs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE pkg_shlibs_required (
  package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  shlib_id INTEGER NOT NULL REFERENCES shlibs(id) ON DELETE RESTRICT ON UPDATE RESTRICT,
  UNIQUE (package_id, shlib_id)
);
CREATE TABLE pkg_shlibs_provided (
  package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  shlib_id INTEGER NOT NULL REFERENCES shlibs(id) ON DELETE RESTRICT ON UPDATE RESTRICT,
  UNIQUE (package_id, shlib_id)
);
CREATE TABLE annotation (
  annotation_id INTEGER PRIMARY KEY,
  annotation TEXT NOT NULL UNIQUE
);
CREATE TABLE pkg_annotation (
  package_id INTEGER REFERENCES packages(id) ON DELETE CASCADE ON UPDATE RESTRICT,
  tag_id INTEGER NOT NULL REFERENCES annotation(annotation_id) ON DELETE CASCADE ON UPDATE RESTRICT,
  value_id INTEGER NOT NULL REFERENCES annotation(annotation_id) ON DELETE CASCADE ON UPDATE RESTRICT,
  UNIQUE (package_id, tag_id)
);
CREATE TABLE pkg_conflicts (
  package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  conflict_id INTEGER NOT NULL,
  UNIQUE(package_id, conflict_id)
);
CREATE TABLE pkg_lock (
  exclusive INTEGER(1),
  advisory INTEGER(1),
  read INTEGER(8)
);
CREATE TABLE pkg_lock_pid (
  pid INTEGER PRIMARY KEY
);
INSERT INTO pkg_lock VALUES(0,0,0);
CREATE TABLE provides(
  id INTEGER PRIMARY KEY,
  provide TEXT NOT NULL
);
CREATE TABLE pkg_provides (
  package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  provide_id INTEGER NOT NULL REFERENCES provides(id) ON DELETE RESTRICT ON UPDATE RESTRICT,
  UNIQUE(package_id, provide_id)
);
CREATE TABLE config_files (
  path TEXT NOT NULL UNIQUE,
  content TEXT,
  package_id INTEGER REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX deporigini on deps(origin);
CREATE INDEX pkg_script_package_id ON pkg_script(package_id);
CREATE INDEX deps_package_id ON deps (package_id);
CREATE INDEX files_package_id ON files (package_id);
CREATE INDEX pkg_directories_package_id ON pkg_directories (package_id);
CREATE INDEX pkg_categories_package_id ON pkg_categories (package_id);
CREATE INDEX pkg_licenses_package_id ON pkg_licenses (package_id);
CREATE INDEX pkg_users_package_id ON pkg_users (package_id);
CREATE INDEX pkg_groups_package_id ON pkg_groups (package_id);
CREATE INDEX pkg_shlibs_required_package_id ON pkg_shlibs_required (package_id);
CREATE INDEX pkg_shlibs_provided_package_id ON pkg_shlibs_provided (package_id);
CREATE INDEX pkg_directories_directory_id ON pkg_directories (directory_id);
CREATE INDEX pkg_annotation_package_id ON pkg_annotation(package_id);
CREATE INDEX pkg_digest_id ON packages(origin, manifestdigest);
CREATE INDEX pkg_conflicts_pid ON pkg_conflicts(package_id);
CREATE INDEX pkg_conflicts_cid ON pkg_conflicts(conflict_id);
CREATE INDEX pkg_provides_id ON pkg_provides(package_id);
CREATE INDEX packages_origin ON packages(origin COLLATE NOCASE);
CREATE INDEX packages_name ON packages(name COLLATE NOCASE);
CREATE TABLE requires(
  id INTEGER PRIMARY KEY,
  require TEXT NOT NULL
);
CREATE TABLE pkg_requires (
  package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  require_id INTEGER NOT NULL REFERENCES requires(id) ON DELETE RESTRICT ON UPDATE RESTRICT,
  UNIQUE(package_id, require_id)
);
CREATE TABLE lua_script(
  lua_script_id INTEGER PRIMARY KEY,
  lua_script TEXT NOT NULL UNIQUE
);
CREATE TABLE pkg_lua_script (
  package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE ON UPDATE CASCADE,
  lua_script_id INTEGER NOT NULL REFERENCES lua_script(lua_script_id) ON DELETE RESTRICT ON UPDATE RESTRICT,
  type INTEGER,
  UNIQUE(package_id, lua_script_id)
);
";

/// One installed package to register.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Its `+MANIFEST` (with `files`, `directories`, `scripts`).
    pub manifest: Manifest,
    /// Installed only as a dependency.
    pub automatic: bool,
}

/// pkg's script type numbers (`pkg_script` in libpkg).
fn script_type(name: &str) -> Option<i64> {
    Some(match name {
        "pre-install" => 0,
        "post-install" => 1,
        "pre-deinstall" => 2,
        "post-deinstall" => 3,
        "pre-upgrade" => 4,
        "post-upgrade" => 5,
        "install" => 6,
        "deinstall" => 7,
        "upgrade" => 8,
        _ => return None,
    })
}

/// `licenselogic` as pkg stores it: `LICENSE_SINGLE` 1, `LICENSE_OR` '|',
/// `LICENSE_AND` '&'.
fn license_logic(s: &str) -> Result<i64> {
    Ok(match s {
        "" | "single" => 1,
        "or" | "dual" => i64::from(b'|'),
        "and" | "multi" => i64::from(b'&'),
        other => bail!("unknown licenselogic {other:?}"),
    })
}

/// Insert `name` into a `(id, <column>)` name table and return its id.
fn intern(tx: &rusqlite::Transaction, table: &str, column: &str, name: &str) -> Result<i64> {
    tx.execute(
        &format!("INSERT OR IGNORE INTO {table}({column}) VALUES (?1)"),
        params![name],
    )?;
    let id_col = match table {
        "annotation" => "annotation_id",
        "script" => "script_id",
        _ => "id",
    };
    Ok(tx.query_row(
        &format!("SELECT {id_col} FROM {table} WHERE {column} = ?1"),
        params![name],
        |r| r.get(0),
    )?)
}

/// Create `path` (which must not exist) as a pkg database registering
/// `packages` in order, installed at `time` (seconds since the epoch).
pub fn write_local_db(path: &Path, packages: &[Registration], time: i64) -> Result<()> {
    if path.exists() {
        bail!("{} already exists", path.display());
    }
    let mut db = Connection::open(path).with_context(|| format!("creating {}", path.display()))?;
    let tx = db.transaction()?;
    tx.execute_batch(SCHEMA)
        .context("creating pkg's database schema")?;
    for p in packages {
        let m = &p.manifest;
        let what = m.pkgname();
        let ctx = |e: anyhow::Error| e.context(format!("registering {what}"));
        let logic = license_logic(&m.licenselogic).map_err(ctx)?;
        tx.execute(
            "INSERT INTO packages(origin, name, version, comment, desc, arch, maintainer, www,
               prefix, flatsize, automatic, licenselogic, time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                m.origin,
                m.name,
                m.version,
                m.comment,
                m.desc,
                if m.abi.is_empty() { &m.arch } else { &m.abi },
                m.maintainer,
                m.www,
                if m.prefix.is_empty() {
                    "/usr/local"
                } else {
                    &m.prefix
                },
                m.flatsize as i64,
                i64::from(p.automatic),
                logic,
                time,
            ],
        )
        .with_context(|| format!("registering {what}"))?;
        let id = tx.last_insert_rowid();
        for (name, dep) in &m.deps {
            tx.execute(
                "INSERT INTO deps(origin, name, version, package_id) VALUES (?1, ?2, ?3, ?4)",
                params![dep.origin, name, dep.version, id],
            )?;
        }
        for (file, sum) in &m.files {
            tx.execute(
                "INSERT INTO files(path, sha256, package_id) VALUES (?1, ?2, ?3)",
                params![file, sum, id],
            )
            .with_context(|| format!("registering {file} of {what} (another package has it?)"))?;
        }
        for dir in m.directories.keys() {
            let dir_id = intern(&tx, "directories", "path", dir)?;
            tx.execute(
                "INSERT INTO pkg_directories(package_id, directory_id, try) VALUES (?1, ?2, 1)",
                params![id, dir_id],
            )?;
        }
        for (table, link, col, names) in [
            ("categories", "pkg_categories", "category_id", &m.categories),
            ("licenses", "pkg_licenses", "license_id", &m.licenses),
        ] {
            for n in names {
                let nid = intern(&tx, table, "name", n)?;
                tx.execute(
                    &format!("INSERT OR IGNORE INTO {link}(package_id, {col}) VALUES (?1, ?2)"),
                    params![id, nid],
                )?;
            }
        }
        for (link, names) in [
            ("pkg_shlibs_required", &m.shlibs_required),
            ("pkg_shlibs_provided", &m.shlibs_provided),
        ] {
            for n in names {
                let sid = intern(&tx, "shlibs", "name", n)?;
                tx.execute(
                    &format!("INSERT OR IGNORE INTO {link}(package_id, shlib_id) VALUES (?1, ?2)"),
                    params![id, sid],
                )?;
            }
        }
        for (tag, value) in &m.annotations {
            let t = intern(&tx, "annotation", "annotation", tag)?;
            let v = intern(&tx, "annotation", "annotation", value)?;
            tx.execute(
                "INSERT INTO pkg_annotation(package_id, tag_id, value_id) VALUES (?1, ?2, ?3)",
                params![id, t, v],
            )?;
        }
        for (kind, text) in &m.scripts {
            let Some(ty) = script_type(kind) else {
                bail!("{what}: unknown script type {kind:?}");
            };
            let sid = intern(&tx, "script", "script", text)?;
            tx.execute(
                "INSERT INTO pkg_script(package_id, type, script_id) VALUES (?1, ?2, ?3)",
                params![id, ty, sid],
            )?;
        }
    }
    tx.execute_batch(&format!("PRAGMA user_version = {DB_VERSION};"))?;
    tx.commit()
        .with_context(|| format!("writing {}", path.display()))?;
    db.close()
        .map_err(|(_, e)| e)
        .with_context(|| format!("closing {}", path.display()))?;
    Ok(())
}
