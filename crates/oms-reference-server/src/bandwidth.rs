//! Bandwidth policies: up to five daily windows (UTC, `hh:mm`), each capping
//! the transfer rate while it is open. The engine integrates the rate over
//! time piecewise, so progress does not depend on how often anyone looks.

const MINUTES_PER_DAY: u64 = 24 * 60;
const MS_PER_MINUTE: u64 = 60_000;
const MS_PER_DAY: u64 = MINUTES_PER_DAY * MS_PER_MINUTE;

/// The most windows a policy may hold (OMS v1 create and change pages).
pub const MAX_WINDOWS: usize = 5;

/// One window as a client states it: `hh:mm` times and a cap in bytes per
/// second. Each dialect's wire module converts its JSON to and from this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSpec {
    pub start: String,
    pub end: String,
    pub max_bandwidth: u64,
}

/// Why a policy was refused; the API layer maps each to its OMS error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("time {0:?} is not hh:mm")]
    BadTime(String),
    #[error("window {0} starts and ends at the same minute")]
    EmptyWindow(usize),
    #[error("window {0} overlaps an earlier window")]
    Overlap(usize),
    #[error("at most {MAX_WINDOWS} windows are allowed, got {0}")]
    TooMany(usize),
    #[error("window {0} has max_bandwidth 0")]
    ZeroBandwidth(usize),
}

/// A validated window: minutes of the day, end exclusive; it wraps past
/// midnight when `end < start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    start: u16,
    end: u16,
    max_bandwidth: u64,
}

impl Window {
    fn contains(&self, minute: u16) -> bool {
        if self.start < self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }
}

/// A validated bandwidth policy; the empty policy never limits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    windows: Box<[Window]>,
}

fn parse_minute(text: &str) -> Result<u16, PolicyError> {
    let bad = || PolicyError::BadTime(text.to_owned());
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn format_minute(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

impl Policy {
    /// Validates the stated windows: well-formed times, non-empty and non-overlapping windows.
    pub fn parse(stated: &[WindowSpec]) -> Result<Self, PolicyError> {
        if stated.len() > MAX_WINDOWS {
            return Err(PolicyError::TooMany(stated.len()));
        }
        let mut windows: Vec<Window> = Vec::with_capacity(stated.len());
        for (i, w) in stated.iter().enumerate() {
            let window = Window {
                start: parse_minute(&w.start)?,
                end: parse_minute(&w.end)?,
                max_bandwidth: w.max_bandwidth,
            };
            if window.start == window.end {
                return Err(PolicyError::EmptyWindow(i));
            }
            if window.max_bandwidth == 0 {
                return Err(PolicyError::ZeroBandwidth(i));
            }
            // Two windows overlap exactly when one contains the other's first minute.
            if windows
                .iter()
                .any(|o| o.contains(window.start) || window.contains(o.start))
            {
                return Err(PolicyError::Overlap(i));
            }
            windows.push(window);
        }
        Ok(Self {
            windows: windows.into_boxed_slice(),
        })
    }

    /// The windows as stated, for the task object.
    pub fn to_specs(&self) -> Vec<WindowSpec> {
        self.windows
            .iter()
            .map(|w| WindowSpec {
                start: format_minute(w.start),
                end: format_minute(w.end),
                max_bandwidth: w.max_bandwidth,
            })
            .collect()
    }

    /// The rate in bytes per second at `t_ms`, given the source's own rate.
    pub fn rate_at(&self, base: u64, t_ms: u64) -> u64 {
        let minute = ((t_ms / MS_PER_MINUTE) % MINUTES_PER_DAY) as u16;
        self.windows
            .iter()
            .find(|w| w.contains(minute))
            .map_or(base, |w| base.min(w.max_bandwidth))
    }

    /// The first instant after `t_ms` at which the rate may change, if ever.
    fn next_change(&self, t_ms: u64) -> Option<u64> {
        let day_start = t_ms - t_ms % MS_PER_DAY;
        self.windows
            .iter()
            .flat_map(|w| [w.start, w.end])
            .map(|minute| {
                let at = day_start + u64::from(minute) * MS_PER_MINUTE;
                if at > t_ms { at } else { at + MS_PER_DAY }
            })
            .min()
    }

    /// Bytes moved between `from` and `to` (milliseconds) at the source rate `base`.
    pub fn transferred(&self, base: u64, from: u64, to: u64) -> u64 {
        let mut total: u128 = 0;
        let mut t = from;
        while t < to {
            let end = self.next_change(t).map_or(to, |c| c.min(to));
            total += u128::from(self.rate_at(base, t)) * u128::from(end - t) / 1000;
            t = end;
        }
        u64::try_from(total).unwrap_or(u64::MAX)
    }

    /// When, starting at `from`, `bytes` more bytes will have moved: `Ok(t)`.
    /// Looking no further than `horizon` segments, it may instead answer
    /// `Err(t)`: not done by `t`, ask again from there.
    pub fn finish_time(
        &self,
        base: u64,
        from: u64,
        bytes: u64,
        horizon: usize,
    ) -> Result<u64, u64> {
        let mut left = u128::from(bytes);
        let mut t = from;
        for _ in 0..horizon {
            let rate = u128::from(self.rate_at(base, t));
            let change = self.next_change(t);
            let needed_ms = if rate == 0 {
                u128::MAX
            } else {
                (left * 1000).div_ceil(rate)
            };
            match change {
                Some(c) if u128::from(c - t) < needed_ms => {
                    left -= rate * u128::from(c - t) / 1000;
                    t = c;
                }
                _ => return Ok(t.saturating_add(u64::try_from(needed_ms).unwrap_or(u64::MAX))),
            }
        }
        Err(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(start: &str, end: &str, max: u64) -> WindowSpec {
        WindowSpec {
            start: start.into(),
            end: end.into(),
            max_bandwidth: max,
        }
    }

    #[test]
    fn rejects_malformed_and_overlapping_windows() {
        assert_eq!(
            Policy::parse(&[window("1:00", "02:00", 1)]),
            Err(PolicyError::BadTime("1:00".into()))
        );
        assert_eq!(
            Policy::parse(&[window("24:00", "02:00", 1)]),
            Err(PolicyError::BadTime("24:00".into()))
        );
        assert_eq!(
            Policy::parse(&[window("01:00", "01:00", 1)]),
            Err(PolicyError::EmptyWindow(0))
        );
        assert_eq!(
            Policy::parse(&[window("01:00", "02:00", 0)]),
            Err(PolicyError::ZeroBandwidth(0))
        );
        assert_eq!(
            Policy::parse(&[window("22:00", "02:00", 1), window("01:00", "03:00", 1)]),
            Err(PolicyError::Overlap(1))
        );
        let six: Vec<_> = (0..6)
            .map(|h| window(&format!("0{h}:00"), &format!("0{h}:30"), 1))
            .collect();
        assert_eq!(Policy::parse(&six), Err(PolicyError::TooMany(6)));
    }

    #[test]
    fn round_trips_the_stated_form() {
        let wire = vec![window("22:30", "06:00", 1024), window("12:00", "13:00", 10)];
        assert_eq!(Policy::parse(&wire).unwrap().to_specs(), wire);
    }

    #[test]
    fn caps_the_rate_inside_a_window_only() {
        let policy = Policy::parse(&[window("01:00", "02:00", 100)]).unwrap();
        let one_am = 60 * MS_PER_MINUTE;
        assert_eq!(policy.rate_at(1000, one_am - 1), 1000);
        assert_eq!(policy.rate_at(1000, one_am), 100);
        assert_eq!(policy.rate_at(50, one_am), 50);
        // Half an hour before the window at 1000 B/s, half an hour inside at 100 B/s.
        let from = one_am - 30 * MS_PER_MINUTE;
        let to = one_am + 30 * MS_PER_MINUTE;
        assert_eq!(policy.transferred(1000, from, to), 1800 * 1000 + 1800 * 100);
    }

    #[test]
    fn finish_time_inverts_transferred() {
        let policy = Policy::parse(&[window("01:00", "02:00", 100)]).unwrap();
        let from = 50 * MS_PER_MINUTE;
        let bytes = 600 * 1000 + 60 * 100; // ten minutes fast, then one minute capped
        let done = policy.finish_time(1000, from, bytes, 100).unwrap();
        assert_eq!(done, 61 * MS_PER_MINUTE);
        assert_eq!(policy.transferred(1000, from, done), bytes);
        assert_eq!(Policy::default().finish_time(1000, 0, 1500, 1), Ok(1500));
        assert_eq!(
            policy.finish_time(1000, from, u64::MAX, 2),
            Err(120 * MS_PER_MINUTE)
        );
    }
}
