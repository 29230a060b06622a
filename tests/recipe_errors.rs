//! Recipe loading: the shipped recipes load, and mistakes are reported
//! with the file, the line and the key, saying what is allowed.

use std::path::{Path, PathBuf};

use mkimage::recipe::{Console, NetworkMode, Os, Recipe, parse_package_list};

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

const MINIMAL: &str = r#"os = "netbsd"
release = "10.1"
sets = ["base", "etc"]
"#;

fn parse_err(text: &str) -> String {
    let err = Recipe::parse(text, Path::new("/tmp/test-recipe.toml")).unwrap_err();
    format!("{err:#}")
}

#[test]
fn shipped_netbsd_recipe_loads_with_builds_service_settings() {
    let r = Recipe::load(&repo("recipes/netbsd-10.toml")).unwrap();
    assert_eq!(r.os, Os::Netbsd);
    assert_eq!(r.release, "10.1");
    let sets: Vec<String> = r.set_list().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        sets,
        [
            "kern-GENERIC",
            "base",
            "comp",
            "etc",
            "man",
            "misc",
            "modules",
            "text"
        ]
    );
    assert_eq!(r.disk.size.bytes(), 16 << 30);
    assert_eq!(r.disk.root_label, "netbsd-root");
    assert_eq!(r.boot.console, Console::Com0);
    assert_eq!(r.network.mode, NetworkMode::Static);
    let build = r.users.iter().find(|u| u.name == "build").unwrap();
    assert_eq!(build.uid, 1000);
    assert!(build.groups.contains(&"wheel".to_string()));
    assert_eq!(build.password, "");
    let list = r.resolve(r.packages.list.as_ref().unwrap());
    let pkgs = mkimage::recipe::read_package_list(&list).unwrap();
    assert_eq!(
        pkgs,
        [
            "bash",
            "curl",
            "git-base",
            "gnupg",
            "mercurial",
            "moreutils",
            "sudo",
            "pkgin"
        ]
    );
    assert_eq!(
        r.packages.repository_url("x86_64", "10.0").unwrap(),
        "https://cdn.netbsd.org/pub/pkgsrc/packages/NetBSD/x86_64/10.0/All"
    );
}

#[test]
fn unknown_key_names_file_line_and_allowed_keys() {
    let e = parse_err(&format!(
        "{MINIMAL}\n[disk]\nsize = \"1G\"\nsise = \"2G\"\n"
    ));
    assert!(e.contains("/tmp/test-recipe.toml"), "{e}");
    assert!(e.contains("line 7"), "{e}");
    assert!(e.contains("sise"), "{e}");
    assert!(e.contains("esp-size"), "lists the allowed keys: {e}");
}

#[test]
fn bad_size_names_line_and_allowed_forms() {
    let e = parse_err(&format!("{MINIMAL}[disk]\nsize = \"16Q\"\n"));
    assert!(e.contains("line 5"), "{e}");
    assert!(e.contains("16Q"), "{e}");
    assert!(e.contains("K, M, G or T"), "{e}");
}

#[test]
fn unknown_set_names_line_and_known_sets() {
    let text = "os = \"netbsd\"\nrelease = \"10.1\"\nsets = [\n  \"base\",\n  \"bsae\",\n]\n";
    let e = parse_err(text);
    assert!(e.contains("line 5"), "{e}");
    assert!(e.contains("`bsae`"), "{e}");
    assert!(e.contains("kern-GENERIC"), "lists known sets: {e}");
}

#[test]
fn freebsd_sets_are_checked_against_freebsd_names() {
    let e =
        parse_err("os = \"freebsd\"\nrelease = \"14.3\"\nsets = [\"base\", \"kern-GENERIC\"]\n");
    assert!(e.contains("unknown freebsd set `kern-GENERIC`"), "{e}");
    assert!(e.contains("kernel"), "{e}");
}

#[test]
fn missing_source_file_and_package_list_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.toml");
    std::fs::write(
        &path,
        format!("{MINIMAL}[[files]]\npath = \"/etc/motd\"\nsource = \"motd.txt\"\n"),
    )
    .unwrap();
    let e = format!("{:#}", Recipe::load(&path).unwrap_err());
    assert!(e.contains("motd.txt"), "{e}");
    assert!(e.contains("does not exist"), "{e}");

    std::fs::write(&path, format!("{MINIMAL}[packages]\nlist = \"nope.txt\"\n")).unwrap();
    let e = format!("{:#}", Recipe::load(&path).unwrap_err());
    assert!(e.contains("nope.txt") && e.contains("packages.list"), "{e}");

    let e = format!(
        "{:#}",
        Recipe::load(&dir.path().join("absent.toml")).unwrap_err()
    );
    assert!(e.contains("absent.toml"), "{e}");
}

#[test]
fn static_network_needs_a_prefix_and_files_need_octal_modes() {
    let e = parse_err(&format!("{MINIMAL}[network]\naddress = \"10.0.2.15\"\n"));
    assert!(e.contains("prefix length"), "{e}");
    let e = parse_err(&format!(
        "{MINIMAL}[[files]]\npath = \"/etc/x\"\nmode = \"rwx\"\ncontent = \"x\"\n"
    ));
    assert!(e.contains("octal"), "{e}");
}

#[test]
fn optional_sets_are_marked() {
    let r = Recipe::parse(
        "os = \"netbsd\"\nrelease = \"10.1\"\nsets = [\"base\", { name = \"xbase\", optional = true }]\n",
        Path::new("r.toml"),
    )
    .unwrap();
    assert_eq!(
        r.set_list(),
        vec![("base".to_string(), false), ("xbase".to_string(), true)]
    );
}

#[test]
fn package_lists_ignore_comments_and_blank_lines() {
    assert_eq!(
        parse_package_list("# c\nbash\n\n  curl # why\n#x\n"),
        ["bash", "curl"]
    );
    assert!(parse_package_list("").is_empty());
}

#[test]
fn builtin_netbsd_recipe_matches_the_file_and_reads_its_package_list() {
    let b = Recipe::builtin(Os::Netbsd).unwrap();
    let f = Recipe::load(&repo("recipes/netbsd-10.toml")).unwrap();
    assert_eq!(format!("{:?}", b.sets), format!("{:?}", f.sets));
    let list = b.read_relative(b.packages.list.as_ref().unwrap()).unwrap();
    assert_eq!(
        parse_package_list(std::str::from_utf8(&list).unwrap()).len(),
        8
    );
}
