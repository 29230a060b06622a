//! The builds service's `functions` file: valid POSIX sh, and the commands
//! it sends to the guest when the runner calls it.

use std::path::Path;
use std::process::Command;

use mkimage::os::netbsd::functions::functions_file;

fn write_exec(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Run `script` after sourcing the functions file under /bin/sh, with a
/// `guest_ssh` that runs the remote command locally (as ssh hands it to
/// the guest's shell) and stub `sudo`, `pkgin` and `tee` on PATH that log
/// what they are asked to do. Returns (log, repositories.conf, status).
fn run(script: &str) -> (String, String, bool) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let functions = d.join("functions");
    std::fs::write(&functions, functions_file("amd64").unwrap()).unwrap();
    let bin = d.join("bin");
    std::fs::create_dir(&bin).unwrap();
    write_exec(
        &bin.join("sudo"),
        "#!/bin/sh\necho \"sudo $*\" >> \"$LOG\"\nexec \"$@\"\n",
    );
    for stub in ["pkgin", "curl", "git", "poweroff"] {
        write_exec(
            &bin.join(stub),
            &format!("#!/bin/sh\necho \"{stub} $*\" >> \"$LOG\"\n"),
        );
    }
    write_exec(
        &bin.join("tee"),
        "#!/bin/sh\necho \"tee $*\" >> \"$LOG\"\nwhile [ $# -gt 1 ]; do shift; done\ncat >> \"$REPOS\"\n",
    );
    let wrapper = format!(
        "guest_ssh() {{\n\
         \t[ \"$1\" = -p ] || exit 90\n\
         \techo \"ssh port $2 $3\" >> \"$LOG\"\n\
         \tshift 3\n\
         \t[ \"$1\" = -- ] && shift\n\
         \tsh -c \"$*\"\n\
         }}\n\
         . {}\n\
         {script}\n",
        functions.display()
    );
    let log = d.join("log");
    let repos = d.join("repositories.conf");
    let status = Command::new("/bin/sh")
        .arg("-c")
        .arg(&wrapper)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("LOG", &log)
        .env("REPOS", &repos)
        .status()
        .unwrap();
    (
        std::fs::read_to_string(&log).unwrap_or_default(),
        std::fs::read_to_string(&repos).unwrap_or_default(),
        status.success(),
    )
}

#[test]
fn functions_file_is_valid_posix_sh() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("functions");
    std::fs::write(&path, functions_file("amd64").unwrap()).unwrap();
    for shell in ["/bin/sh", "dash"] {
        let out = Command::new(shell).arg("-n").arg(&path).output();
        let Ok(out) = out else { continue };
        assert!(
            out.status.success(),
            "{shell} -n: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(functions_file("amd64; rm -rf /").is_err());
}

#[test]
fn variables_the_runner_reads_are_set() {
    let (_, _, ok) = run("[ \"$poweroff_cmd\" = \"sudo poweroff\" ] || exit 1\n\
         [ \"$default_arch\" = amd64 ] || exit 2\n\
         for f in boot install add_repository sanity_check; do command -v $f >/dev/null || exit 3; done");
    assert!(ok);
}

#[test]
fn install_updates_then_installs_with_pkgin_as_root() {
    let (log, _, ok) = run("install 8022 git-base mercurial");
    assert!(ok);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "ssh port 8022 build@localhost",
            "sudo pkgin -y update",
            "pkgin -y update",
            "ssh port 8022 build@localhost",
            "sudo pkgin -y install git-base mercurial",
            "pkgin -y install git-base mercurial",
        ]
    );
    let (log, _, ok) = run("install 8022");
    assert!(ok);
    assert_eq!(log, "", "nothing to install, nothing run");
}

#[test]
fn add_repository_appends_to_repositories_conf_and_refreshes() {
    let url = "https://example.org/packages/NetBSD/amd64/10.1/All";
    let (log, repos, ok) = run(&format!("add_repository 8022 extra {url}"));
    assert!(ok, "{log}");
    assert_eq!(repos, format!("# extra\n{url}\n"));
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines.contains(&"sudo tee -a /usr/pkg/etc/pkgin/repositories.conf"));
    assert_eq!(lines.last(), Some(&"pkgin -y update"));
    let (_, repos, ok) = run("add_repository 8022 bad \"http://x/'; reboot; '\"");
    assert!(!ok);
    assert_eq!(repos, "");
}

#[test]
fn boot_refuses_unknown_architectures() {
    let (_, _, ok) = run("arch=sparc64; boot");
    assert!(!ok);
    let (_, _, ok) = run(
        "cpu_opts() { echo \"-cpu $1\"; }\n_boot() { [ \"$qemu\" = qemu-system-x86_64 ] && [ \"$*\" = \"-cpu x86_64\" ]; }\narch=amd64; boot",
    );
    assert!(ok);
}

#[test]
fn sanity_check_boots_tests_the_guest_and_powers_it_off() {
    let (log, _, ok) = run("cmd_boot() { echo \"cmd_boot $*\" >> \"$LOG\"; }\n\
         _wait_boot() { echo \"wait $*\" >> \"$LOG\"; }\n\
         cmd_cleanup() { echo \"cleanup $*\" >> \"$LOG\"; }\n\
         sanity_check >/dev/null\nwait");
    assert!(ok, "{log}");
    let lines: Vec<&str> = log.lines().filter(|l| !l.starts_with("ssh port")).collect();
    let pos = |s: &str| {
        lines
            .iter()
            .position(|l| *l == s)
            .unwrap_or_else(|| panic!("{s} not run: {log}"))
    };
    assert!(pos("wait 8022") < pos("sudo ls -a"));
    assert!(pos("curl https://example.org") < pos("pkgin -y install htop"));
    assert!(pos("git --version") < pos("poweroff "));
    assert!(lines.contains(&"cmd_boot amd64 8022 qemu"));
    assert_eq!(
        lines.last(),
        Some(&"cleanup 8022"),
        "the EXIT trap cleans up"
    );
}
