//! Retry policy: exponential backoff with jitter, a bounded number of
//! attempts per mirror and a bounded total delay, after which the next
//! mirror is tried. Jitter comes from a small generator seeded by the URL,
//! so it never depends on the clock and never affects any output.

use std::time::Duration;

/// How persistent a download is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per mirror for transient failures (connection errors,
    /// timeouts, 5xx, short bodies). At least 1.
    pub attempts_per_mirror: u32,
    /// Delay before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// Upper bound of one delay.
    pub max_delay: Duration,
    /// Upper bound of all delays of one file across all mirrors.
    pub total_delay: Duration,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of each read (a stalled transfer fails after this).
    pub read_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts_per_mirror: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            total_delay: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(20),
            read_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Millisecond delays and short timeouts for tests.
    pub fn fast_for_tests() -> Self {
        RetryPolicy {
            attempts_per_mirror: 4,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(20),
            total_delay: Duration::from_millis(500),
            connect_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_millis(700),
        }
    }

    /// The delay after failed attempt `attempt` (1-based): base × 2^(n-1),
    /// capped, scaled by a jitter factor in [0.5, 1.0).
    pub fn delay(&self, attempt: u32, jitter: &mut Jitter) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        capped.mul_f64(0.5 + 0.5 * jitter.next_unit())
    }
}

/// SplitMix64: a tiny deterministic generator for backoff jitter.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// Seeded from a string (the URL), so that concurrent runs fetching
    /// different files spread out, without reading the clock.
    pub fn seeded(seed: &str) -> Jitter {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Jitter(h)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in [0, 1).
    pub fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_within_jitter_and_cap() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        let mut j = Jitter::seeded("http://x/base.tar.xz");
        let d1 = p.delay(1, &mut j);
        let d2 = p.delay(2, &mut j);
        let d3 = p.delay(3, &mut j);
        assert!(d1 >= Duration::from_millis(50) && d1 < Duration::from_millis(100));
        assert!(d2 >= Duration::from_millis(100) && d2 < Duration::from_millis(200));
        assert!(d3 >= Duration::from_millis(175) && d3 < Duration::from_millis(350));
    }
}
