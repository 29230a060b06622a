//! Shared test support: the libdb1-compat oracle (`dbopen(3)` from Debian's
//! `/lib/libdb1-2.2.5.so`), compiled at test time with `cc`.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const LIBDB1: &str = "/lib/libdb1-2.2.5.so";

/// Path of the compiled oracle (built once per test binary).
pub fn dbtool() -> &'static Path {
    static TOOL: OnceLock<PathBuf> = OnceLock::new();
    TOOL.get_or_init(|| {
        assert!(
            Path::new(LIBDB1).exists(),
            "{LIBDB1} is missing: install libdb1-compat (scripts/setup)"
        );
        let dir = std::env::temp_dir().join(format!("mkimage-dbtool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/accounts_common/dbtool.c");
        let exe = dir.join("dbtool");
        let out = Command::new("cc")
            .arg("-O1")
            .arg("-o")
            .arg(&exe)
            .arg(&src)
            .arg(LIBDB1)
            .output()
            .expect("cc is needed to build the libdb1 oracle");
        assert!(
            out.status.success(),
            "cc failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        exe
    })
}

pub fn hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(D[usize::from(x >> 4)] as char);
        s.push(D[usize::from(x & 15)] as char);
    }
    s
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn run(args: &[&str], file: &Path, input: &str) -> String {
    let mut child = Command::new(dbtool())
        .arg(args[0])
        .arg(file)
        .args(&args[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let tail = &text[text.len().saturating_sub(300)..];
    assert!(out.status.success(), "dbtool {args:?} failed: ...{tail}");
    text
}

/// libdb1's answer for each key: `Some(data)` or `None` when not found.
pub fn libdb1_get(file: &Path, keys: &[Vec<u8>]) -> Vec<Option<Vec<u8>>> {
    let input: String = keys.iter().map(|k| hex(k) + "\n").collect();
    let text = run(&["get"], file, &input);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), keys.len(), "libdb1 get output: {text}");
    lines
        .iter()
        .map(|l| {
            assert_ne!(*l, "ERROR", "libdb1 get reported an error");
            if *l == "-" { None } else { Some(unhex(l)) }
        })
        .collect()
}

/// Every pair libdb1's seq(3) returns.
pub fn libdb1_dump(file: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    run(&["dump"], file, "")
        .lines()
        .map(|l| {
            let (k, d) = l.split_once(' ').unwrap();
            (unhex(k), unhex(d))
        })
        .collect()
}

fn pairs_input(pairs: &[(Vec<u8>, Vec<u8>)]) -> String {
    pairs
        .iter()
        .map(|(k, d)| format!("{} {}\n", hex(k), hex(d)))
        .collect()
}

/// Insert more pairs into an existing file with libdb1 (R_NOOVERWRITE).
pub fn libdb1_put(file: &Path, pairs: &[(Vec<u8>, Vec<u8>)]) {
    run(&["put"], file, &pairs_input(pairs));
}

/// Create a file with libdb1 and pwd_mkdb's parameters.
pub fn libdb1_create(file: &Path, lorder: u32, pairs: &[(Vec<u8>, Vec<u8>)]) {
    run(&["create", &lorder.to_string()], file, &pairs_input(pairs));
}
