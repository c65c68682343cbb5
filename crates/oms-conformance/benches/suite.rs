//! `just bench`: the wall time of the whole suite against the embedded
//! reference server, measured by running the optimised binary several times
//! (the target: under 3 s for both dialects on a 2-core machine once built). A figure,
//! never a pass/fail assertion: timing belongs in benchmarks, not tests.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn main() {
    let binary = env!("CARGO_BIN_EXE_oms-conformance");
    let reports =
        std::env::temp_dir().join(format!("oms-conformance-bench-{}", std::process::id()));
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut last_line = String::new();
    for run in 0..RUNS {
        let started = Instant::now();
        let output = Command::new(binary)
            .args(["--seed", "1", "--report-dir"])
            .arg(&reports)
            .stdin(Stdio::null())
            .output()
            .expect("the harness binary runs");
        let elapsed = started.elapsed();
        let stdout = String::from_utf8_lossy(&output.stdout);
        last_line = stdout.lines().last().unwrap_or_default().to_owned();
        assert!(
            output.status.success(),
            "run {run} did not pass against the reference server ({}): {last_line}",
            output.status
        );
        times.push(elapsed);
    }
    let _ = std::fs::remove_dir_all(&reports);
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "oms-conformance suite against the embedded reference server, {RUNS} runs of the release binary"
    );
    println!("  {last_line}");
    println!(
        "  wall time: min {:.0} ms, median {:.0} ms, max {:.0} ms (target < 3000 ms)",
        ms(times[0]),
        ms(times[RUNS / 2]),
        ms(times[RUNS - 1])
    );
    println!("bench: suite_wall_ms_median={:.0}", ms(times[RUNS / 2]));
    println!("bench: suite_wall_ms_min={:.0}", ms(times[0]));
    println!("bench: suite_wall_ms_max={:.0}", ms(times[RUNS - 1]));
}
