//! All user-facing output other than a command's own result: progress bars
//! on a terminal, plain timestamped lines when stderr is not a terminal
//! (cron), nothing but errors with `--quiet`. Every module reports through
//! here so that the three modes stay consistent.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How much to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

struct Settings {
    verbosity: Verbosity,
    terminal: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Set once at start-up by the command line. Later calls are ignored.
pub fn init(verbosity: Verbosity) {
    let _ = SETTINGS.set(Settings {
        verbosity,
        terminal: std::io::stderr().is_terminal(),
    });
}

fn settings() -> &'static Settings {
    SETTINGS.get_or_init(|| Settings {
        verbosity: Verbosity::Normal,
        terminal: false,
    })
}

pub fn verbosity() -> Verbosity {
    settings().verbosity
}

fn emit(line: &str) {
    let s = settings();
    let mut err = std::io::stderr().lock();
    if s.terminal {
        let _ = writeln!(err, "{line}");
    } else {
        let now = humantime::format_rfc3339_seconds(SystemTime::now());
        let _ = writeln!(err, "{now} {line}");
    }
}

/// A step worth a line in a cron log ("fetching base.tar.xz").
pub fn info(line: impl AsRef<str>) {
    if settings().verbosity >= Verbosity::Normal {
        emit(line.as_ref());
    }
}

/// Detail only shown with `-v`.
pub fn debug(line: impl AsRef<str>) {
    if settings().verbosity >= Verbosity::Verbose {
        emit(line.as_ref());
    }
}

/// Something the operator should know even with `--quiet`.
pub fn warn(line: impl AsRef<str>) {
    emit(&format!("warning: {}", line.as_ref()));
}

/// A unit of long work with a known or unknown total: a bar on a terminal;
/// under cron a start line and a finish line with the elapsed time.
pub struct Task {
    bar: Option<ProgressBar>,
    label: String,
    started: std::time::Instant,
    quiet: bool,
}

impl Task {
    /// `total` in bytes when `bytes` is true, else in items; `None` when unknown.
    pub fn new(label: impl Into<String>, total: Option<u64>, bytes: bool) -> Task {
        let label = label.into();
        let s = settings();
        let quiet = s.verbosity == Verbosity::Quiet;
        let bar = if s.terminal && !quiet {
            let bar = match total {
                Some(t) => ProgressBar::new(t),
                None => ProgressBar::new_spinner(),
            };
            bar.set_draw_target(ProgressDrawTarget::stderr());
            let template = match (total.is_some(), bytes) {
                (true, true) => {
                    "{msg:24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}"
                }
                (true, false) => "{msg:24} [{bar:30}] {pos}/{len} ETA {eta}",
                (false, true) => "{spinner} {msg:24} {bytes} {bytes_per_sec}",
                (false, false) => "{spinner} {msg:24} {pos}",
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(label.clone());
            bar.enable_steady_tick(Duration::from_millis(200));
            Some(bar)
        } else {
            if !quiet {
                emit(&format!("{label}: started"));
            }
            None
        };
        Task {
            bar,
            label,
            started: std::time::Instant::now(),
            quiet,
        }
    }

    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    pub fn set_position(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(n);
        }
    }

    /// Finish with a short summary ("412 MiB in 9.1 s").
    pub fn finish(self, summary: impl AsRef<str>) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let line = format!("{}: {} ({elapsed:.1} s)", self.label, summary.as_ref());
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if !self.quiet {
            emit(&line);
        }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Bytes for people: "1.5 GiB".
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
