//! What the runs measured, pooled across rounds: throughput, latency
//! percentiles, CPU time per request read from `/proc`, ratios; and the small
//! helpers the figures need.

use super::*;
/// Runs two loads one after the other, which goes first alternating by
/// round, and pools each side's outcome.
pub(crate) fn in_turn(
    round: usize,
    rt: &Runtime,
    a: (SocketAddr, Load, &mut Pooled),
    b: (SocketAddr, Load, &mut Pooled),
) {
    let (first, second) = if round.is_multiple_of(2) {
        (a, b)
    } else {
        (b, a)
    };
    first.2.add(rt.block_on(run(first.0, first.1)));
    second.2.add(rt.block_on(run(second.0, second.1)));
}

/// Several runs of one kind, pooled: requests/s over their summed time,
/// percentiles over all their latencies.
#[derive(Debug, Default)]
pub(crate) struct Pooled {
    pub(crate) completed: usize,
    pub(crate) elapsed: Duration,
    pub(crate) latencies_ns: Vec<u64>,
    pub(crate) server_cpu_ns: u64,
    pub(crate) load_cpu_ns: u64,
}

impl Pooled {
    pub(crate) fn add(&mut self, out: Outcome) {
        self.completed += out.completed;
        self.elapsed += out.elapsed;
        self.latencies_ns.extend(out.latencies_ns);
        self.server_cpu_ns += out.server_cpu_ns;
        self.load_cpu_ns += out.load_cpu_ns;
    }

    pub(crate) fn stats(&self) -> Stats {
        let mut sorted = self.latencies_ns.clone();
        sorted.sort_unstable();
        let pct = |p: usize| {
            // Nearest rank.
            let rank = (sorted.len() * p).div_ceil(100).max(1);
            sorted.get(rank - 1).copied().unwrap_or(0) as f64 / 1e3
        };
        let per_request = |ns: u64| ns as f64 / 1e3 / self.completed.max(1) as f64;
        Stats {
            rps: self.completed as f64 / self.elapsed.as_secs_f64(),
            p50_us: pct(50),
            p99_us: pct(99),
            server_cpu_us: per_request(self.server_cpu_ns),
            load_cpu_us: per_request(self.load_cpu_ns),
            server_busy: self.server_cpu_ns as f64 / self.elapsed.as_nanos() as f64,
            load_busy: self.load_cpu_ns as f64 / self.elapsed.as_nanos() as f64,
        }
    }
}

impl From<Outcome> for Pooled {
    fn from(out: Outcome) -> Self {
        let mut pooled = Self::default();
        pooled.add(out);
        pooled
    }
}

/// Per-request CPU includes the cost of parking and waking a thread, so it
/// grows a little when a side idles more often: compare it within one run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stats {
    pub(crate) rps: f64,
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
    pub(crate) server_cpu_us: f64,
    pub(crate) load_cpu_us: f64,
    /// Share of the run the thread was on a CPU: near 1.0 is the bottleneck.
    pub(crate) server_busy: f64,
    pub(crate) load_busy: f64,
}

/// Server over bare: throughput, and CPU cost per request (bare/server, so
/// both read "higher is better").
#[derive(Debug)]
pub(crate) struct Ratio {
    pub(crate) rps: f64,
    pub(crate) cpu: f64,
}

impl Ratio {
    pub(crate) fn of(api: &Pooled, bare: &Pooled) -> Self {
        let (a, b) = (api.stats(), bare.stats());
        Self {
            rps: a.rps / b.rps,
            cpu: b.server_cpu_us / a.server_cpu_us,
        }
    }
}

pub(crate) fn print_run(name: &str, pooled: &Pooled) {
    let s = pooled.stats();
    println!(
        "{name:<16} {:>8} req in {:>6.2} s: {:>8.0} req/s  p50 {:>7.1} µs  p99 {:>7.1} µs  \
         CPU/req server {:>5.1} µs (busy {:>3.0}%) generator {:>5.1} µs (busy {:>3.0}%)",
        pooled.completed,
        pooled.elapsed.as_secs_f64(),
        s.rps,
        s.p50_us,
        s.p99_us,
        s.server_cpu_us,
        s.server_busy * 100.0,
        s.load_cpu_us,
        s.load_busy * 100.0,
    );
}

/// CPU time in nanoseconds of this process's threads whose name starts with
/// `prefix` (`/proc/self/task/*/schedstat`, first field).
pub(crate) fn thread_cpu_ns(prefix: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm")).is_ok_and(|c| c.starts_with(prefix))
        })
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// The 1, 5 and 15 minute load averages of the machine.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// Resident set size from `/proc/self/status`.
pub(crate) fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .expect("VmRSS in /proc/self/status")
        * 1024
}

pub(crate) fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// splitmix64: a tiny deterministic generator, so runs pick the same ids.
#[derive(Debug)]
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn shuffle(&mut self, items: &mut [u64]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}
