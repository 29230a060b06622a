//! Editing master.passwd and group keeps every untouched line byte for byte
//! and in order; duplicates are refused naming the file and line.

use mkimage::accounts::{self, Accounts, Group, User};

const MASTER: &str = "\
# $FreeBSD$
#\t odd   comment spacing :::
root:*:0:0::0:0:Charlie &:/root:/bin/sh
toor:*:0:0::0:0:Bourne-again Superuser:/root:

daemon:*:1:1::0:0:Owner of many system processes:/root:/usr/sbin/nologin
nobody:*:65534:65534::0:0:Unprivileged user:/nonexistent:/usr/sbin/nologin";
const GROUP: &str = "# groups\nwheel:*:0:root\noperator:*:5:root\nstaff:*:20:\nnogroup:*:65533:\n";

fn build() -> User {
    let mut u = User::new("build", 1000, 1000, "Build user", "/home/build", "/bin/sh");
    u.password = "$6$salt$hash".into();
    u
}

#[test]
fn parsing_and_printing_unchanged_files_gives_the_same_bytes() {
    let acc = Accounts::parse(MASTER, GROUP).unwrap();
    assert_eq!(
        acc.master_passwd(),
        MASTER,
        "no final newline stays that way"
    );
    assert_eq!(acc.group(), GROUP);
}

#[test]
fn adding_a_user_and_a_group_appends_and_keeps_every_other_line() {
    let mut acc = Accounts::parse(MASTER, GROUP).unwrap();
    acc.add_group(Group::new("build", 1000)).unwrap();
    acc.add_user(build()).unwrap();
    acc.add_member("wheel", "build").unwrap();
    acc.add_member("wheel", "build").unwrap(); // already a member: no change
    acc.add_member("staff", "build").unwrap();
    assert_eq!(
        acc.master_passwd(),
        format!("{MASTER}\nbuild:$6$salt$hash:1000:1000::0:0:Build user:/home/build:/bin/sh\n")
    );
    assert_eq!(
        acc.group(),
        "# groups\nwheel:*:0:root,build\noperator:*:5:root\nstaff:*:20:build\nnogroup:*:65533:\nbuild:*:1000:\n"
    );
    assert_eq!(acc.uid_of("build"), Some(1000));
    assert_eq!(acc.gid_of("build"), Some(1000));
    assert_eq!(acc.uid_of("nobody"), Some(65534));
    assert_eq!(acc.gid_of("nosuch"), None);
}

#[test]
fn updating_a_user_rewrites_only_its_line_in_place() {
    let mut acc = Accounts::parse(MASTER, GROUP).unwrap();
    let mut root = acc.user("root").unwrap().clone();
    root.password = "$6$new$hash".into();
    acc.update_user(root).unwrap();
    let want = MASTER.replace(
        "root:*:0:0::0:0:Charlie",
        "root:$6$new$hash:0:0::0:0:Charlie",
    );
    assert_eq!(acc.master_passwd(), want);
}

#[test]
fn passwd_is_derived_like_pwd_mkdb_p() {
    let mut acc = Accounts::parse(&format!("{MASTER}\n"), GROUP).unwrap();
    acc.add_user(build()).unwrap();
    let passwd = acc.passwd();
    let lines: Vec<&str> = passwd.lines().collect();
    assert_eq!(lines[0], "# $FreeBSD$");
    assert_eq!(lines[2], "root:*:0:0:Charlie &:/root:/bin/sh");
    assert_eq!(lines[4], "");
    assert_eq!(lines[7], "build:*:1000:1000:Build user:/home/build:/bin/sh");
    assert!(passwd.ends_with('\n'));
    assert!(
        !passwd.contains("$6$"),
        "no password hash in the public file"
    );
}

#[test]
fn duplicate_user_names_and_uids_name_the_file_and_line() {
    let mut acc = Accounts::parse(MASTER, GROUP).unwrap();
    let err = acc
        .add_user(User::new("daemon", 4242, 1, "", "/", "/bin/sh"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("master.passwd line 6") && err.contains("daemon"),
        "{err}"
    );
    let err = acc
        .add_user(User::new("other", 65534, 1, "", "/", "/bin/sh"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("master.passwd line 7") && err.contains("65534") && err.contains("nobody"),
        "{err}"
    );
    let err = Accounts::parse("a:*:1:1::0:0:::\nb:*:2:2::0:0:::\na:*:3:3::0:0:::\n", "")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("master.passwd line 3") && err.contains("line 1"),
        "{err}"
    );
    assert_eq!(acc.master_passwd(), MASTER, "failed edits change nothing");
}

#[test]
fn duplicate_groups_and_unknown_names_are_refused() {
    let mut acc = Accounts::parse(MASTER, GROUP).unwrap();
    let err = acc
        .add_group(Group::new("staff", 77))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("group line 4") && err.contains("staff"),
        "{err}"
    );
    let err = acc
        .add_group(Group::new("other", 5))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("group line 3") && err.contains("operator"),
        "{err}"
    );
    assert!(acc.add_member("nosuch", "root").is_err());
    assert!(acc.add_member("wheel", "nosuch").is_err());
    assert!(
        acc.add_user(User::new("bad:name", 5000, 1, "", "/", "/bin/sh"))
            .is_err()
    );
    assert!(
        acc.add_user(User::new("x", 5000, 1, "new\nline", "/", "/bin/sh"))
            .is_err()
    );
}

#[test]
fn syntax_errors_name_the_file_and_line() {
    let err = Accounts::parse(
        "root:*:0:0::0:0:Charlie &:/root:/bin/sh\nbroken:*:x:0::0:0:::\n",
        "",
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("master.passwd line 2:"), "{err}");
    let err = Accounts::parse("", "wheel:*:0:root\nstaff:20\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("group line 2:"), "{err}");
}

#[test]
fn file_modes_are_those_pwd_mkdb_leaves() {
    assert_eq!(accounts::MASTER_PASSWD.mode, 0o600);
    assert_eq!(accounts::SPWD_DB.mode, 0o600);
    assert_eq!(accounts::PWD_DB.mode, 0o644);
    assert_eq!(accounts::PASSWD.mode, 0o644);
    for f in [
        accounts::MASTER_PASSWD,
        accounts::SPWD_DB,
        accounts::PWD_DB,
        accounts::PASSWD,
        accounts::GROUP,
    ] {
        assert_eq!((f.uid, f.gid), (0, 0), "{} is root:wheel", f.path);
    }
}
