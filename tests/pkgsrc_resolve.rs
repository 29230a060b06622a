//! Resolution of package lists against the synthetic repository's
//! pkg_summary: closure, best versions, alternatives, dewey ranges,
//! conflicts, unknown names.

use mkimage::pkgsrc::resolve::{PlannedPackage, ResolveError, resolve};
use mkimage::pkgsrc::summary::{decode_summary, parse_pkg_list, parse_summary};
use mkimage::testkit::pkgrepo::{RepoOptions, generate};

const DEFAULT_LIST: &str = "# builds.sr.ht defaults\nbash\ncurl\n\ngit-base\ngnupg\nmercurial\nmoreutils\nsudo   # needed by jobs\npkgin\n";

fn records(name: &str) -> Vec<pkgsrc::Summary> {
    let dir = tempfile::tempdir().unwrap();
    let info = generate(dir.path(), &RepoOptions::default()).unwrap();
    let bytes = std::fs::read(info.all_dir.join(name)).unwrap();
    parse_summary(name, &decode_summary(name, &bytes).unwrap()).unwrap()
}

fn names(plan: &[PlannedPackage]) -> Vec<&str> {
    plan.iter().map(|p| p.pkgname.as_str()).collect()
}

#[test]
fn default_list_resolves_to_best_versions_with_dependencies_first() {
    let recs = records("pkg_summary.xz");
    let list = parse_pkg_list(DEFAULT_LIST);
    assert_eq!(
        list,
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
    let plan = resolve(&recs, &list).unwrap();
    let n = names(&plan);
    // Best version of curl, the dewey range picks perl 5.40 over 5.38 and 6.0,
    // the {a,b} alternative finds the -openssl variant.
    assert!(
        n.contains(&"curl-8.11.1") && !n.contains(&"curl-7.88.1"),
        "{n:?}"
    );
    assert!(
        n.contains(&"perl-5.40.0nb1") && !n.contains(&"perl-6.0") && !n.contains(&"perl-5.38.2"),
        "{n:?}"
    );
    assert!(n.contains(&"mozilla-rootcerts-openssl-2.18"), "{n:?}");
    assert!(
        n.contains(&"libunistring-1.3"),
        "transitive dependency missing: {n:?}"
    );
    assert!(
        !n.contains(&"dbus-1.14.10") && !n.contains(&"linuxonly-1.0"),
        "unrequested packages: {n:?}"
    );
    for (i, p) in plan.iter().enumerate() {
        for d in &p.depends {
            let j = n
                .iter()
                .position(|x| x == d)
                .unwrap_or_else(|| panic!("{d} not planned"));
            assert!(
                j < i,
                "{} is installed before its dependency {d}",
                p.pkgname
            );
        }
        assert!(p.file_size.is_some() && p.file_cksum.as_deref().unwrap().starts_with("sha256 "));
        assert_eq!(p.file_name, format!("{}.tgz", p.pkgname));
    }
    let auto: Vec<&str> = plan
        .iter()
        .filter(|p| !p.automatic)
        .map(|p| p.pkgname.as_str())
        .collect();
    assert_eq!(
        auto.len(),
        8,
        "exactly the listed packages are not automatic: {auto:?}"
    );
    assert!(
        plan.iter()
            .find(|p| p.pkgname == "nghttp2-1.64.0")
            .unwrap()
            .automatic
    );
    // Deterministic.
    assert_eq!(plan, resolve(&recs, &list).unwrap());
}

#[test]
fn gzip_and_xz_summaries_give_the_same_plan() {
    let list = parse_pkg_list(DEFAULT_LIST);
    assert_eq!(
        resolve(&records("pkg_summary.gz"), &list).unwrap(),
        resolve(&records("pkg_summary.xz"), &list).unwrap()
    );
}

#[test]
fn unknown_name_fails_with_near_matches() {
    let recs = records("pkg_summary.gz");
    let err = resolve(&recs, &["sudoo".to_string()]).unwrap_err();
    match &err {
        ResolveError::Unknown { name, near } => {
            assert_eq!(name, "sudoo");
            assert!(near.contains(&"sudo".to_string()), "{near:?}");
        }
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("did you mean sudo"), "{err}");
    let err = resolve(&recs, &["git".to_string()]).unwrap_err();
    assert!(
        err.to_string().contains("git-base"),
        "prefix match expected: {err}"
    );
}

#[test]
fn conflicting_packages_are_reported() {
    let recs = records("pkg_summary.gz");
    let err = resolve(&recs, &["curl".to_string(), "curl-minimal".to_string()]).unwrap_err();
    match &err {
        ResolveError::Conflicts(c) => {
            assert_eq!(c.len(), 1, "{c:?}");
            assert_eq!(c[0].package, "curl-minimal-8.0");
            assert_eq!(c[0].with, "curl-8.11.1");
            assert_eq!(c[0].pattern, "curl-[0-9]*");
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn empty_list_resolves_to_nothing() {
    let recs = records("pkg_summary.gz");
    assert!(parse_pkg_list("# nothing\n\n").is_empty());
    assert!(resolve(&recs, &[]).unwrap().is_empty());
}

#[test]
fn patterns_and_exact_names_in_the_list_are_honoured() {
    let recs = records("pkg_summary.gz");
    let plan = resolve(&recs, &["curl<8".to_string(), "perl-5.38.2".to_string()]).unwrap();
    assert_eq!(
        names(&plan),
        ["nghttp2-1.64.0", "curl-7.88.1", "perl-5.38.2"]
    );
}

#[test]
fn bzip2_summary_is_refused_with_a_clear_message() {
    let err = decode_summary("pkg_summary.bz2", b"BZh91AY&SY").unwrap_err();
    assert!(
        err.to_string().contains("bzip2") && err.to_string().contains("pkg_summary.xz"),
        "{err}"
    );
}

#[test]
fn a_later_narrower_range_moves_an_earlier_choice_to_a_version_satisfying_both() {
    let recs = records("pkg_summary.gz");
    // "perl>=5.0" alone would pick perl-6.0; git-base then needs <6.
    let plan = resolve(&recs, &["perl>=5.0".to_string(), "git-base".to_string()]).unwrap();
    let n = names(&plan);
    assert!(
        n.contains(&"perl-5.40.0nb1") && !n.contains(&"perl-6.0"),
        "{n:?}"
    );
    assert!(
        !plan
            .iter()
            .find(|p| p.pkgname == "perl-5.40.0nb1")
            .unwrap()
            .automatic
    );
}

#[test]
fn ranges_no_version_satisfies_together_are_a_clear_error() {
    let recs = records("pkg_summary.gz");
    let err = resolve(&recs, &["perl>=6".to_string(), "git-base".to_string()]).unwrap_err();
    assert!(matches!(err, ResolveError::VersionClash { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("perl>=5.30<6") && msg.contains("git-base-2.47.1") && msg.contains("perl-6.0"),
        "{msg}"
    );
}
