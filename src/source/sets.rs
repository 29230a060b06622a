//! Reading several archives (a release's sets) into one sink, in the
//! given order, while they decompress in parallel.
//!
//! Each set is decompressed on its own worker thread into a bounded
//! channel of 1 MiB chunks; the calling thread parses tar and feeds the
//! sink, one set after the other. While set *i* is consumed, the next
//! [`lookahead`] sets (1 to [`MAX_LOOKAHEAD`], one less than the cores)
//! are already decoding, each stopping once its [`CHUNKS_PER_SET`] chunks
//! are full. So decompression runs beside tar parsing and the sink
//! (pipeline parallelism), the next sets' first megabytes are ready when
//! their turn comes, and buffered memory stays below (1 + MAX_LOOKAHEAD) ×
//! CHUNKS_PER_SET MiB (48 MiB) plus the decoders' own state (xz: about
//! 9 MiB single-threaded, at most 48 MiB threaded; see
//! [`super::archive`]). A large multi-block xz set additionally decodes on
//! several cores inside liblzma. The order of entries depends only on the set order and each
//! archive's order, never on thread timing.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::archive::{ArchiveStats, read_archive};
use crate::entry::EntrySink;

/// Most sets decoding ahead of the one being consumed.
pub const MAX_LOOKAHEAD: usize = 2;

/// Sets decoding ahead: one less than the cores, at least 1, at most
/// [`MAX_LOOKAHEAD`].
pub fn lookahead() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.saturating_sub(1).clamp(1, MAX_LOOKAHEAD)
}
/// Chunks (1 MiB each) buffered per set.
pub const CHUNKS_PER_SET: usize = 16;
const CHUNK: usize = 1 << 20;

/// Opens a set's decompressed tar stream (on a worker thread).
pub type Opener = Box<dyn FnOnce() -> anyhow::Result<Box<dyn Read + Send>> + Send>;

/// One archive to read: a label for messages and how to open it.
pub struct SetInput {
    pub label: String,
    pub open: Opener,
}

type Chunk = Result<Vec<u8>, String>;

fn produce(open: Opener, tx: SyncSender<Chunk>) {
    let mut reader = match open() {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Err(format!("{e:#}")));
            return;
        }
    };
    loop {
        let mut buf = vec![0u8; CHUNK];
        let mut filled = 0;
        while filled < CHUNK {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Err(format!("decompressing: {e}")));
                    return;
                }
            }
        }
        if filled == 0 {
            return; // dropping tx is the end of the stream
        }
        buf.truncate(filled);
        if tx.send(Ok(buf)).is_err() {
            return; // the consumer gave up
        }
    }
}

struct ChunkReader {
    rx: Receiver<Chunk>,
    cur: Vec<u8>,
    pos: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.cur.len() {
            match self.rx.recv() {
                Ok(Ok(c)) => {
                    self.cur = c;
                    self.pos = 0;
                }
                Ok(Err(msg)) => return Err(io::Error::other(msg)),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.cur.len() - self.pos);
        out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Read `sets` into `sink` in order; returns each set's counts.
pub fn read_sets(
    sets: Vec<SetInput>,
    sink: &mut dyn EntrySink,
) -> anyhow::Result<Vec<ArchiveStats>> {
    std::thread::scope(|scope| {
        let mut pending = sets.into_iter();
        let mut started: std::collections::VecDeque<(String, Receiver<Chunk>)> = Default::default();
        let mut start_next =
            |started: &mut std::collections::VecDeque<(String, Receiver<Chunk>)>| {
                if let Some(set) = pending.next() {
                    let (tx, rx) = sync_channel(CHUNKS_PER_SET);
                    let open = set.open;
                    scope.spawn(move || produce(open, tx));
                    started.push_back((set.label, rx));
                }
            };
        for _ in 0..=lookahead() {
            start_next(&mut started);
        }
        let mut stats = Vec::new();
        while let Some((label, rx)) = started.pop_front() {
            let reader = ChunkReader {
                rx,
                cur: Vec::new(),
                pos: 0,
            };
            // On error the receivers drop, so every worker stops at its next send.
            stats.push(read_archive(reader, &label, sink)?);
            start_next(&mut started);
        }
        Ok(stats)
    })
}
