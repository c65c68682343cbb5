//! When the deletes of a race go out: a [`Schedule`] drawn from the run's seed
//! (and the race's name) by a small deterministic generator ([`Draw`]), so
//! that `--seed` replays it.
//!
//! A schedule has three parts, bounded in number:
//! - deletes sent just *before* the anchor (a fraction of a millisecond);
//! - deletes sent *while it is in flight*, at gaps growing geometrically from a
//!   fraction of a millisecond, so that a fast target is probed densely and a
//!   slow one still over its whole latency;
//! - deletes sent *after its answer*, at fractions of its observed latency.

use std::fmt;

use serde::Serialize;

/// Deletes sent before the anchor, at most.
const MAX_BEFORE: u64 = 3;
/// Deletes sent while the anchor is in flight, at most.
const MAX_IN_FLIGHT: usize = 32;
/// Deletes sent after the anchor's answer, at most.
const MAX_AFTER: u64 = 6;
/// A small deterministic generator (SplitMix64) seeded by the run's seed and
/// the race's name: the same seed and race give the same schedule.
#[derive(Debug, Clone)]
pub(crate) struct Draw(u64);

impl Draw {
    pub(crate) fn new(seed: u64, race: &str) -> Self {
        // FNV-1a of the name, mixed with the seed.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in race.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        Self(seed ^ hash)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// When each delete of a race is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    /// Deletes sent before the anchor: how long before it, in µs, earliest first.
    pub before_us: Vec<u64>,
    /// The wait before the first in-flight delete, in per mille of the latency
    /// `hint` the race is given (none: the first gap)...
    pub lead_permille: Option<u64>,
    /// ...and at least this many µs.
    pub lead_floor_us: Option<u64>,
    /// The gaps between in-flight deletes, in µs (the first from the anchor).
    pub gaps_us: Vec<u64>,
    /// Deletes sent after the anchor's answer, in per mille of its observed
    /// latency (at least 1 ms) after the answer, increasing.
    pub after_permille: Vec<u64>,
    /// How much each in-flight gap grows on the one before, in per cent.
    pub growth_percent: u64,
}

/// The shape of a schedule: which parts it has.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub before: bool,
    /// The first in-flight delete's lead: per mille of the hint, and a floor in µs.
    pub lead: Option<(u64, u64)>,
    pub lead_floor: Option<(u64, u64)>,
    pub after: bool,
    /// The largest in-flight gap, in µs.
    pub max_gap_us: u64,
}

impl Schedule {
    /// Draws a schedule of `shape`.
    pub(crate) fn draw(draw: &mut Draw, shape: Shape) -> Self {
        let before_us = if shape.before {
            let mut before: Vec<u64> = (0..draw.between(1, MAX_BEFORE))
                .map(|_| draw.between(50, 1_000))
                .collect();
            before.sort_unstable_by(|a, b| b.cmp(a));
            before
        } else {
            Vec::new()
        };
        let lead_permille = shape.lead.map(|(lo, hi)| draw.between(lo, hi));
        let lead_floor_us = shape.lead_floor.map(|(lo, hi)| draw.between(lo, hi));
        // From 0.1–0.3 ms, each gap 1.3–1.5 times the one before (±20 %):
        // 32 of them cover at least a second and a half of flight.
        let base = draw.between(100, 300) as f64;
        let growth_percent = draw.between(130, 150);
        let ratio = growth_percent as f64 / 100.0;
        let mut gap = base;
        let gaps_us = (0..MAX_IN_FLIGHT)
            .map(|_| {
                let jitter = draw.between(80, 120) as f64 / 100.0;
                let this = (gap * jitter).round() as u64;
                gap *= ratio;
                this.clamp(50, shape.max_gap_us)
            })
            .collect();
        let after_permille = if shape.after {
            let mut after: Vec<u64> = (0..draw.between(3, MAX_AFTER))
                .map(|_| draw.between(50, 1_000))
                .collect();
            after.sort_unstable();
            after.dedup();
            after
        } else {
            Vec::new()
        };
        Self {
            before_us,
            lead_permille,
            lead_floor_us,
            gaps_us,
            after_permille,
            growth_percent,
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |us: u64| format!("{:.2}", us as f64 / 1000.0);
        let mut parts = Vec::new();
        if !self.before_us.is_empty() {
            let before: Vec<String> = self
                .before_us
                .iter()
                .map(|&b| format!("-{}", ms(b)))
                .collect();
            parts.push(format!("before at {} ms", before.join(", ")));
        }
        if let Some(lead) = self.lead_permille {
            parts.push(format!(
                "in flight from {:.2} × latency, at least {} ms",
                lead as f64 / 1000.0,
                ms(self.lead_floor_us.unwrap_or(0))
            ));
        }
        if let Some(first) = self.gaps_us.first() {
            parts.push(format!(
                "up to {} in flight, gaps from {} ms growing {}% each",
                self.gaps_us.len(),
                ms(*first),
                self.growth_percent
            ));
        }
        if !self.after_permille.is_empty() {
            let after: Vec<String> = self
                .after_permille
                .iter()
                .map(|&a| format!("{:.2}", a as f64 / 1000.0))
                .collect();
            parts.push(format!(
                "after the answer at {} × latency",
                after.join(", ")
            ));
        }
        f.write_str(&parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STOP: Shape = Shape {
        before: true,
        lead: None,
        lead_floor: None,
        after: true,
        max_gap_us: 1_000_000,
    };

    #[test]
    fn the_same_seed_and_race_draw_the_same_schedule() {
        let a = Schedule::draw(&mut Draw::new(7, "v1 stop"), STOP);
        let b = Schedule::draw(&mut Draw::new(7, "v1 stop"), STOP);
        assert_eq!(a, b);
        let other_seed = Schedule::draw(&mut Draw::new(8, "v1 stop"), STOP);
        let other_race = Schedule::draw(&mut Draw::new(7, "v2 stop"), STOP);
        assert_ne!(a, other_seed);
        assert_ne!(a, other_race);
    }

    #[test]
    fn a_schedule_spans_before_during_and_after_within_its_bounds() {
        for seed in 0..200 {
            let s = Schedule::draw(&mut Draw::new(seed, "race"), STOP);
            assert!(
                (1..=MAX_BEFORE as usize).contains(&s.before_us.len()),
                "{s:?}"
            );
            assert!(s.before_us.windows(2).all(|w| w[0] >= w[1]), "{s:?}");
            assert!(
                s.before_us.iter().all(|b| (50..=1_000).contains(b)),
                "{s:?}"
            );
            assert_eq!(s.gaps_us.len(), MAX_IN_FLIGHT);
            // A fraction of a millisecond first, growing to tens of milliseconds.
            assert!(s.gaps_us[0] < 1_000, "{s:?}");
            let covered: u64 = s.gaps_us.iter().sum();
            assert!(covered > 20_000, "{s:?} covers {covered} µs");
            assert!(
                (1..=MAX_AFTER as usize).contains(&s.after_permille.len()),
                "{s:?}"
            );
            assert!(s.after_permille.windows(2).all(|w| w[0] < w[1]), "{s:?}");
            assert!(
                s.after_permille.iter().all(|a| (50..=1_000).contains(a)),
                "{s:?}"
            );
        }
    }

    #[test]
    fn gaps_never_pass_the_shape_cap() {
        let capped = Shape {
            max_gap_us: 2_000,
            ..STOP
        };
        for seed in 0..50 {
            let s = Schedule::draw(&mut Draw::new(seed, "end"), capped);
            assert!(
                s.gaps_us.iter().all(|&g| (50..=2_000).contains(&g)),
                "{s:?}"
            );
        }
    }
}
