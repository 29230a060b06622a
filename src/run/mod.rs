//! `mkimage run`: boot an image under QEMU exactly the way the builds
//! service does (see `qemu`), optionally wait for SSH like the service's
//! settle step (see `check`) and report the boot-to-SSH time. The image is
//! attached with `snapshot=on` and is never written.
//!
//! Accelerator: `--kvm auto` starts with KVM when `/dev/kvm` opens
//! read-write, watches QEMU's standard error, and if QEMU reports that KVM
//! does not work (a `/dev/kvm` that opens but fails, as in nested setups
//! without the needed CPU features) restarts the VM under TCG with a note;
//! without a usable `/dev/kvm` it uses TCG from the start. `on` fails
//! instead of falling back; `off` always uses TCG.

pub mod check;
pub mod firmware;
pub mod image;
pub mod qemu;
pub mod vm;

use std::fs::{File, OpenOptions};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::cli::KvmMode;
use crate::progress;
use check::{Settled, Step};
use qemu::{Accel, QemuConfig, Serial};
use vm::Vm;

/// How many serial-console lines an error message shows.
pub const TAIL_LINES: usize = 20;

/// What to boot and how.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub image: PathBuf,
    pub port: u16,
    pub memory_mib: u32,
    pub cpus: u32,
    pub uefi: bool,
    pub kvm: KvmMode,
    pub console: bool,
    pub check: bool,
    pub timeout: Duration,
    pub dry_run: bool,
}

/// How a run ended (failures are errors).
#[derive(Debug)]
pub enum RunOutcome {
    /// `--dry-run`: the shell-quoted command line.
    DryRun(String),
    /// QEMU ran until it exited.
    Exited(ExitStatus),
    /// `--check`: SSH answered this long after QEMU started.
    Answered(Duration),
}

/// Why `/dev/kvm` cannot be used, or `None` when it opens read-write.
pub fn kvm_device_problem() -> Option<String> {
    match OpenOptions::new().read(true).write(true).open("/dev/kvm") {
        Ok(_) => None,
        Err(err) => Some(format!("/dev/kvm: {err}")),
    }
}

fn first_accel(mode: KvmMode) -> Result<Accel> {
    match mode {
        KvmMode::Off => Ok(Accel::Tcg),
        KvmMode::On => match kvm_device_problem() {
            None => Ok(Accel::Kvm),
            Some(problem) => bail!(
                "--kvm on, but {problem}: add yourself to the kvm group, or use --kvm auto/off"
            ),
        },
        KvmMode::Auto => match kvm_device_problem() {
            None => Ok(Accel::Kvm),
            Some(problem) => {
                progress::info(format!(
                    "KVM not available ({problem}): using TCG software emulation, boots are \
                     several times slower"
                ));
                Ok(Accel::Tcg)
            }
        },
    }
}

/// The QEMU configuration for `opts` with accelerator `accel`: checks the
/// image and finds the firmware, touches nothing.
pub fn config(opts: &RunOptions, accel: Accel) -> Result<QemuConfig> {
    if opts.port == 0 {
        bail!("--port 0 is not a port QEMU can forward: choose one, e.g. --port 2222");
    }
    if opts.cpus == 0 || opts.memory_mib == 0 {
        bail!("--cpus and --memory must be at least 1");
    }
    let format = image::detect(&opts.image)?;
    let firmware = if opts.uefi {
        Some(firmware::find()?)
    } else {
        None
    };
    Ok(QemuConfig {
        image: opts.image.clone(),
        format,
        port: opts.port,
        memory_mib: opts.memory_mib,
        cpus: opts.cpus,
        firmware,
        accel,
        serial: if opts.console {
            Serial::Terminal
        } else {
            Serial::Captured
        },
    })
}

/// Fail early, with a clear message, when the forwarded port is taken.
pub fn ensure_port_free(port: u16) -> Result<()> {
    TcpListener::bind(("127.0.0.1", port))
        .map(drop)
        .map_err(|err| {
            anyhow::anyhow!(
                "port {port} on 127.0.0.1 is not free ({err}): another VM or an sshd uses it; \
             choose another with --port"
            )
        })
}

/// One boot attempt's result.
enum Flow {
    Done(RunOutcome),
    KvmFailed(String),
}

/// Run `mkimage run` with `opts`.
pub fn run(opts: &RunOptions) -> Result<RunOutcome> {
    let mut accel = first_accel(opts.kvm)?;
    let cfg = config(opts, accel)?;
    if opts.dry_run {
        return Ok(RunOutcome::DryRun(qemu::shell_line(&qemu::command_line(
            &cfg,
        ))));
    }
    if opts.check && opts.timeout.is_zero() {
        bail!("--timeout must be at least 1 second");
    }
    loop {
        ensure_port_free(opts.port)?;
        let cfg = QemuConfig {
            accel,
            ..cfg.clone()
        };
        match boot(opts, &cfg)? {
            Flow::Done(outcome) => return Ok(outcome),
            Flow::KvmFailed(msg) if opts.kvm == KvmMode::Auto && accel == Accel::Kvm => {
                progress::warn(format!(
                    "KVM does not work here (QEMU said: {msg}): restarting under TCG software \
                     emulation"
                ));
                accel = Accel::Tcg;
            }
            Flow::KvmFailed(msg) => bail!("QEMU reports that KVM does not work: {msg}"),
        }
    }
}

fn console_log() -> Option<(PathBuf, File)> {
    let path = std::env::temp_dir().join(format!("mkimage-run-{}.console.log", std::process::id()));
    match File::create(&path) {
        Ok(file) => Some((path, file)),
        Err(err) => {
            progress::warn(format!(
                "cannot create {} ({err}): the serial console is not logged",
                path.display()
            ));
            None
        }
    }
}

fn boot(opts: &RunOptions, cfg: &QemuConfig) -> Result<Flow> {
    let args = qemu::command_line(cfg);
    progress::info(format!("running: {}", qemu::shell_line(&args)));
    let log = if opts.check || opts.console {
        None
    } else {
        console_log().map(|(path, file)| {
            progress::info(format!("serial console: {}", path.display()));
            file
        })
    };
    let mut vm = Vm::start(&args, cfg.serial, log)?;
    let flow = if opts.check {
        check_ssh(opts, &mut vm)
    } else {
        wait_exit(&mut vm)
    };
    vm.stop();
    flow
}

fn wait_exit(vm: &mut Vm) -> Result<Flow> {
    loop {
        if let Some(msg) = vm.kvm_failure() {
            return Ok(Flow::KvmFailed(msg));
        }
        if let Some(status) = vm.exited()? {
            // Give the stderr reader a moment to see a KVM start-up failure.
            std::thread::sleep(Duration::from_millis(100));
            if let Some(msg) = vm.kvm_failure() {
                return Ok(Flow::KvmFailed(msg));
            }
            return Ok(Flow::Done(RunOutcome::Exited(status)));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn check_ssh(opts: &RunOptions, vm: &mut Vm) -> Result<Flow> {
    let started = Instant::now();
    let mut kvm_failed = None;
    let settled = check::settle(opts.timeout, Duration::from_secs(1), |remaining| {
        if let Some(msg) = vm.kvm_failure() {
            kvm_failed = Some(msg.clone());
            return Ok(Step::Abort(msg));
        }
        if let Some(status) = vm.exited()? {
            return Ok(Step::Abort(format!(
                "QEMU exited ({status}) {:.1} s after it started, before SSH answered",
                started.elapsed().as_secs_f64()
            )));
        }
        check::ssh_once(opts.port, remaining.min(Duration::from_secs(5)))
    })?;
    if let Some(msg) = kvm_failed {
        return Ok(Flow::KvmFailed(msg));
    }
    let tail = || {
        let tail = vm.console_tail(TAIL_LINES);
        if tail.is_empty() {
            "(the serial console printed nothing)".to_string()
        } else {
            tail
        }
    };
    match settled {
        Settled::Answered(_) => Ok(Flow::Done(RunOutcome::Answered(started.elapsed()))),
        Settled::TimedOut { last_reason } => bail!(
            "no SSH answer from build@127.0.0.1:{} within {} s (last attempt: {last_reason}); \
             last serial console lines:\n{}",
            opts.port,
            opts.timeout.as_secs(),
            tail()
        ),
        Settled::Aborted(reason) => {
            std::thread::sleep(Duration::from_millis(100));
            let stderr = vm.stderr_text();
            bail!(
                "{reason}; QEMU said:\n{}\nlast serial console lines:\n{}",
                if stderr.trim().is_empty() {
                    "(nothing)"
                } else {
                    stderr.trim_end()
                },
                tail()
            )
        }
    }
}
