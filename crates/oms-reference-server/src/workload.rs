//! The simulated source: what a task would find in its source bucket, decided
//! deterministically from the create body, so the same body always gives the
//! same workload and the same fate.
//!
//! The convention (documented in the README): the source bucket's name picks
//! the fate by its first hyphen-separated word.
//! - `long-…`: four hours of work at full speed; in practice runs until stopped.
//! - `fail-…`: about a second of work, failing half-way with an `error_reason`.
//! - `retry-…`: once scheduled, retries its source (status 6) and moves
//!   nothing, until stopped; started again, it retries again.
//! - `brief-…`: about a fifth of a second of work, then success (the
//!   conformance kit's succeeding task: it ends soon, but not before it can
//!   be seen running).
//! - anything else: about a second of work, then success.
//!
//! Sizes and object counts vary with a hash of the source and destination, so
//! tasks are distinguishable, but never leave those bounds.

/// The source's own transfer rate, before any bandwidth policy: 100 MiB/s.
pub const BASE_RATE: u64 = 100 * 1024 * 1024;

/// What the task will run into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Succeed,
    /// Fails once, after this many bytes; a restart then succeeds.
    Fail {
        at_bytes: u64,
    },
    /// Never moves a byte: retries its source for as long as it is scheduled.
    Retry,
}

/// The work a task has to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    pub total_size: u64,
    pub total_num: u64,
    pub fate: Fate,
}

/// FNV-1a: tiny, stable across releases and platforms (unlike `DefaultHasher`).
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

impl Workload {
    /// The workload for a task copying `src_bucket/src_keys` to `dst_bucket/dst_key`.
    pub fn simulate(
        src_bucket: &str,
        src_keys: &[String],
        dst_bucket: &str,
        dst_key: &str,
    ) -> Self {
        let mut parts: Vec<&str> = vec![src_bucket, dst_bucket, dst_key];
        parts.extend(src_keys.iter().map(String::as_str));
        let hash = fnv1a(&parts);
        // 600–999 ms of work at the base rate, 100–1099 objects.
        let short = BASE_RATE * (600 + hash % 400) / 1000;
        // 150–249 ms.
        let brief = BASE_RATE * (150 + hash % 100) / 1000;
        let total_num = 100 + (hash >> 16) % 1000;
        match src_bucket.split('-').next() {
            Some("long") => Self {
                total_size: BASE_RATE * 4 * 3600,
                total_num: total_num * 1000,
                fate: Fate::Succeed,
            },
            Some("brief") => Self {
                total_size: brief,
                total_num,
                fate: Fate::Succeed,
            },
            Some("retry") => Self {
                total_size: short,
                total_num,
                fate: Fate::Retry,
            },
            Some("fail") => Self {
                total_size: short,
                total_num,
                fate: Fate::Fail {
                    at_bytes: short / 2,
                },
            },
            _ => Self {
                total_size: short,
                total_num,
                fate: Fate::Succeed,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(bucket: &str) -> Workload {
        Workload::simulate(bucket, &["data/".into()], "dst", "out/")
    }

    #[test]
    fn the_bucket_name_picks_the_fate() {
        assert_eq!(of("ok-source").fate, Fate::Succeed);
        assert_eq!(of("retry-source").fate, Fate::Retry);
        assert!(
            matches!(of("fail-source").fate, Fate::Fail { at_bytes } if at_bytes == of("fail-source").total_size / 2)
        );
        // Long tasks need at least an hour at the base rate.
        assert!(of("long-source").total_size >= BASE_RATE * 3600);
    }

    #[test]
    fn short_tasks_take_under_a_second_and_are_deterministic() {
        for bucket in ["ok-a", "ok-b", "plain", "fail-x"] {
            let w = of(bucket);
            assert_eq!(w, of(bucket));
            assert!(w.total_size * 1000 / BASE_RATE < 1000, "{bucket}: {w:?}");
            assert!(w.total_size * 1000 / BASE_RATE >= 600, "{bucket}: {w:?}");
        }
        assert_ne!(of("ok-a"), of("ok-b"));
    }

    #[test]
    fn brief_tasks_succeed_within_a_quarter_of_a_second() {
        for bucket in ["brief-a", "brief-b", "brief-source"] {
            let w = of(bucket);
            assert_eq!(w.fate, Fate::Succeed, "{bucket}");
            let ms = w.total_size * 1000 / BASE_RATE;
            assert!((150..250).contains(&ms), "{bucket}: {ms} ms");
        }
    }
}
