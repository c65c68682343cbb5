//! `cargo bench -p oms-reference-server --bench load`: the performance figures
//! of issue 2, measured on loopback against the real server.
//!
//! Two parts. *Scale*: delete and get latency with 1,000 and with 1,000,000
//! tasks stored in one project, and the RSS a stored task costs. *Loopback*:
//! requests/s and latency of DELETE and GET against the server and against a
//! bare axum handler on the same route, measured in alternating rounds of the
//! same run, and their ratio. The load generator is in-process: hyper 1 client
//! connections over keep-alive, each sending its next request when the last
//! answer is in (closed loop), every run bounded by a request count and a
//! deadline. The server gets its own one-worker runtime and the generator
//! another, so on a two-core machine each has a core, and the CPU time of the
//! server thread per request can be read from `/proc` apart from the
//! generator's. Time in the engine only moves when the bench advances its
//! `ManualClock`, so tasks are deletable (status 5) without waiting.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use oms_reference_server::clock::ManualClock;
use oms_reference_server::{Config, Limits};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

mod generator;
mod measure;
mod server;

use generator::*;
use measure::*;
use server::*;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The development credentials of `Config::default()`.
const TOKEN: &str = "dev-token-a";
const PROJECT: &str = "0123456789abcdef0123456789abcdef";
/// A task that succeeds within about a second of simulated time.
const CREATE_BODY: &str = include_str!("../../../../fixtures/create/succeeding.json");

/// Concurrent keep-alive connections of every measured run.
const CONNECTIONS: usize = 8;
/// Setting up stores is not measured; more connections keep both threads busy.
const CREATE_CONNECTIONS: usize = 32;
/// Thread-name prefixes, so `/proc/self/task/*/comm` tells the two sides apart.
const SERVER_THREADS: &str = "bench-server";
const LOAD_THREADS: &str = "bench-load";

/// The scale comparison's two store sizes.
const SMALL_STORE: usize = 1_000;
const LARGE_STORE: usize = 1_000_000;
/// Delete latency at scale is measured in rounds of this many fresh tasks
/// created on top of the store, so the store stays within
/// `[size, size + SCALE_DELETE_BATCH]` while deleting.
const SCALE_DELETE_BATCH: usize = 250;
const SCALE_DELETE_ROUNDS: usize = 40;
const SCALE_GET_ROUNDS: usize = 4;
const SCALE_GET_REQUESTS: usize = 100_000;
const SCALE_GET_TIME: Duration = Duration::from_secs(1);

/// Loopback comparison: rounds alternate server and bare so drift in the
/// machine's speed hits both alike.
const RATIO_ROUNDS: usize = 3;
const RATIO_RUN_TIME: Duration = Duration::from_secs(2);
const RATIO_GET_REQUESTS: usize = 200_000;
const RATIO_DELETE_TASKS: usize = 30_000;

/// Only a bound, so a broken server cannot hang the bench: a million creates
/// take 60–130 s on a two-core machine, depending on what else runs there.
const BULK_CREATE_TIME: Duration = Duration::from_secs(300);

/// Where the manual clock starts: 2026-01-01T00:00:00Z.
const START_MS: u64 = 1_767_225_600_000;
/// Far past the ~1.1 s of simulated life of a succeeding task, so one
/// advance settles every task created before it into status 5.
const SETTLE_ADVANCE_MS: u64 = 3_600_000;

fn main() {
    let bench_started = Instant::now();
    let server_rt = runtime(SERVER_THREADS);
    let load_rt = runtime(LOAD_THREADS);
    let mut report = Report::default();
    let mut rng = SplitMix(0x0b5e_55ed);

    println!("oms-reference-server load bench");
    println!(
        "{CONNECTIONS} keep-alive connections per run; server and generator on one worker thread each"
    );
    // Other work on the machine slows both threads; "busy" well under 100%
    // on both sides of a run is the sign of it.
    println!("load average at start: {}", load_average());
    println!();

    // ---- Scale -----------------------------------------------------------
    // Two servers, one per store size, measured in alternating rounds, so a
    // neighbour's load on the machine lands on both sides of the ratio.
    println!(
        "== scale: {SMALL_STORE} vs {LARGE_STORE} tasks stored in one project, alternating rounds =="
    );
    let rss_start = rss_bytes();
    let small_clock = Arc::new(ManualClock::new(START_MS));
    let small_api = start_api(&server_rt, &small_clock);
    let small = IdSet(vec![create_tasks(
        &load_rt,
        small_api.addr,
        SMALL_STORE,
        Duration::from_secs(30),
    )]);
    settle(&load_rt, small_api.addr, &small_clock, SMALL_STORE);

    let large_clock = Arc::new(ManualClock::new(START_MS));
    let large_api = start_api(&server_rt, &large_clock);
    let rss_before = rss_bytes();
    let bulk_started = Instant::now();
    let (large, bulk) =
        create_tasks_measured(&load_rt, large_api.addr, LARGE_STORE, BULK_CREATE_TIME);
    let large = IdSet(vec![large]);
    let bulk_time = bulk_started.elapsed();
    let catch_up = settle(&load_rt, large_api.addr, &large_clock, LARGE_STORE);
    let rss_after = rss_bytes();
    let bulk_rps = LARGE_STORE as f64 / bulk_time.as_secs_f64();
    println!(
        "created {LARGE_STORE} tasks over HTTP ({CREATE_CONNECTIONS} connections) in {:.1} s \
         ({bulk_rps:.0} creates/s; server busy {:.0}%, generator busy {:.0}%); \
         the next request settled all of them into status 5 in {:.0} ms",
        bulk_time.as_secs_f64(),
        bulk.stats().server_busy * 100.0,
        bulk.stats().load_busy * 100.0,
        catch_up.as_secs_f64() * 1e3,
    );
    let bytes_per_task = rss_after.saturating_sub(rss_before) as f64 / LARGE_STORE as f64;
    println!(
        "RSS (VmRSS): {:.1} MiB at start, {:.1} MiB before the large store, {:.1} MiB with it \
         → {bytes_per_task:.0} bytes per task",
        mib(rss_start),
        mib(rss_before),
        mib(rss_after),
    );

    let (mut get_small, mut get_large) = (Pooled::default(), Pooled::default());
    for round in 0..SCALE_GET_ROUNDS {
        let small_load = Load::get(
            Ids::Random(small.clone(), rng.next()),
            SCALE_GET_REQUESTS,
            SCALE_GET_TIME,
        );
        let large_load = Load::get(
            Ids::Random(large.clone(), rng.next()),
            SCALE_GET_REQUESTS,
            SCALE_GET_TIME,
        );
        in_turn(
            round,
            &load_rt,
            (small_api.addr, small_load, &mut get_small),
            (large_api.addr, large_load, &mut get_large),
        );
    }
    print_run(&format!("GET    @{SMALL_STORE}"), &get_small);
    print_run(&format!("GET    @{LARGE_STORE}"), &get_large);

    let (mut delete_small, mut delete_large) = (Pooled::default(), Pooled::default());
    for round in 0..SCALE_DELETE_ROUNDS {
        let small_ids = fresh_batch(&load_rt, &small_api, &small_clock, &mut rng, SMALL_STORE);
        let large_ids = fresh_batch(&load_rt, &large_api, &large_clock, &mut rng, LARGE_STORE);
        in_turn(
            round,
            &load_rt,
            (
                small_api.addr,
                Load::delete(small_ids, Duration::from_secs(30)),
                &mut delete_small,
            ),
            (
                large_api.addr,
                Load::delete(large_ids, Duration::from_secs(30)),
                &mut delete_large,
            ),
        );
        assert_eq!(
            count(&load_rt, small_api.addr),
            SMALL_STORE,
            "small store back to its size"
        );
        assert_eq!(
            count(&load_rt, large_api.addr),
            LARGE_STORE,
            "large store back to its size"
        );
    }
    print_run(&format!("DELETE @{SMALL_STORE}"), &delete_small);
    print_run(&format!("DELETE @{LARGE_STORE}"), &delete_large);
    small_api.stop(&server_rt);
    large_api.stop(&server_rt);
    println!();

    // ---- Loopback ratio --------------------------------------------------
    println!("== loopback: server vs bare axum handler, {RATIO_ROUNDS} alternating rounds ==");
    let clock = Arc::new(ManualClock::new(START_MS));
    let api = start_api(&server_rt, &clock);
    let bare = start_bare(&server_rt);
    let base = IdSet(vec![create_tasks(
        &load_rt,
        api.addr,
        SMALL_STORE,
        Duration::from_secs(30),
    )]);
    settle(&load_rt, api.addr, &clock, base.len());

    let (mut get_api, mut get_bare) = (Pooled::default(), Pooled::default());
    for round in 0..RATIO_ROUNDS {
        let seed = rng.next();
        let load = || {
            Load::get(
                Ids::Random(base.clone(), seed),
                RATIO_GET_REQUESTS,
                RATIO_RUN_TIME,
            )
        };
        in_turn(
            round,
            &load_rt,
            (api.addr, load(), &mut get_api),
            (bare.addr, load(), &mut get_bare),
        );
    }
    print_run("GET    server", &get_api);
    print_run("GET    bare", &get_bare);

    let (mut delete_api, mut delete_bare) = (Pooled::default(), Pooled::default());
    for round in 0..RATIO_ROUNDS {
        let fresh = create_tasks(
            &load_rt,
            api.addr,
            RATIO_DELETE_TASKS,
            Duration::from_secs(60),
        );
        settle(&load_rt, api.addr, &clock, base.len() + RATIO_DELETE_TASKS);
        let mut ids = fresh.ids();
        rng.shuffle(&mut ids);
        in_turn(
            round,
            &load_rt,
            (
                api.addr,
                Load::delete(ids.clone(), RATIO_RUN_TIME),
                &mut delete_api,
            ),
            (
                bare.addr,
                Load::delete(ids.clone(), RATIO_RUN_TIME),
                &mut delete_bare,
            ),
        );
        // Deletes the run did not reach before its deadline stay stored; the
        // next round's count check accounts for them.
        let left = count(&load_rt, api.addr);
        delete_leftovers(&load_rt, api.addr, &ids, left - base.len());
    }
    print_run("DELETE server", &delete_api);
    print_run("DELETE bare", &delete_bare);
    api.stop(&server_rt);
    bare.stop(&server_rt);
    println!();

    println!("load average at end: {}", load_average());
    println!();

    // ---- Summary ---------------------------------------------------------
    let get = Ratio::of(&get_api, &get_bare);
    let delete = Ratio::of(&delete_api, &delete_bare);
    let (gs, gl, ds, dl) = (
        get_small.stats(),
        get_large.stats(),
        delete_small.stats(),
        delete_large.stats(),
    );

    println!("== summary ==");
    println!(
        "{:<26} {:>10} {:>9} {:>9} {:>12}",
        "", "req/s", "p50 µs", "p99 µs", "server CPU µs/req"
    );
    for (name, s) in [
        ("GET server", get_api.stats()),
        ("GET bare", get_bare.stats()),
        ("DELETE server", delete_api.stats()),
        ("DELETE bare", delete_bare.stats()),
        ("GET @1k", gs),
        ("GET @1M", gl),
        ("DELETE @1k", ds),
        ("DELETE @1M", dl),
    ] {
        println!(
            "{name:<26} {:>10.0} {:>9.1} {:>9.1} {:>12.1}",
            s.rps, s.p50_us, s.p99_us, s.server_cpu_us
        );
    }
    println!();
    println!("{:<26} {:>10} {:>8}", "figure", "value", "goal");
    let scale = |large: f64, small: f64| large / small;
    let rows: [(&str, f64, &str); 9] = [
        ("GET req/s server/bare", get.rps, "≥ 0.70"),
        ("DELETE req/s server/bare", delete.rps, "≥ 0.70"),
        ("GET p50 1M/1k", scale(gl.p50_us, gs.p50_us), "≤ 1.50"),
        ("GET p99 1M/1k", scale(gl.p99_us, gs.p99_us), "≤ 1.50"),
        ("DELETE p50 1M/1k", scale(dl.p50_us, ds.p50_us), "≤ 1.50"),
        ("DELETE p99 1M/1k", scale(dl.p99_us, ds.p99_us), "≤ 1.50"),
        ("bytes per stored task", bytes_per_task, "≤ 2048"),
        ("GET CPU bare/server", get.cpu, ""),
        ("DELETE CPU bare/server", delete.cpu, ""),
    ];
    for (name, value, goal) in rows {
        println!("{name:<26} {value:>10.2} {goal:>8}");
    }
    println!();

    report.run("get", &get_api);
    report.run("bare_get", &get_bare);
    report.figure("get_ratio", get.rps);
    report.figure("get_cpu_ratio", get.cpu);
    report.run("delete", &delete_api);
    report.run("bare_delete", &delete_bare);
    report.figure("delete_ratio", delete.rps);
    report.figure("delete_cpu_ratio", delete.cpu);
    report.figure("get_p50_us_1k", gs.p50_us);
    report.figure("get_p99_us_1k", gs.p99_us);
    report.figure("get_p50_us_1m", gl.p50_us);
    report.figure("get_p99_us_1m", gl.p99_us);
    report.figure("get_p50_scale_ratio", scale(gl.p50_us, gs.p50_us));
    report.figure("get_p99_scale_ratio", scale(gl.p99_us, gs.p99_us));
    report.figure("delete_p50_us_1k", ds.p50_us);
    report.figure("delete_p99_us_1k", ds.p99_us);
    report.figure("delete_p50_us_1m", dl.p50_us);
    report.figure("delete_p99_us_1m", dl.p99_us);
    report.figure("delete_p50_scale_ratio", scale(dl.p50_us, ds.p50_us));
    report.figure("delete_p99_scale_ratio", scale(dl.p99_us, ds.p99_us));
    report.figure("bulk_create_s", bulk_time.as_secs_f64());
    report.figure("bulk_create_rps", bulk_rps);
    report.figure("settle_1m_ms", catch_up.as_secs_f64() * 1e3);
    report.figure("rss_before_mib", mib(rss_before));
    report.figure("rss_after_mib", mib(rss_after));
    report.figure("bytes_per_task", bytes_per_task);
    report.figure("bench_wall_s", bench_started.elapsed().as_secs_f64());
    print!("{}", report.0);
}

/// One line per figure, `bench: name=value`, for scripts.
#[derive(Debug, Default)]
struct Report(String);

impl Report {
    fn figure(&mut self, name: &str, value: f64) {
        let _ = writeln!(self.0, "bench: {name}={value:.3}");
    }

    /// A run's throughput, latency percentiles and server CPU per request,
    /// each named `{prefix}_…`.
    fn run(&mut self, prefix: &str, pooled: &Pooled) {
        let s = pooled.stats();
        self.figure(&format!("{prefix}_rps"), s.rps);
        self.figure(&format!("{prefix}_p50_us"), s.p50_us);
        self.figure(&format!("{prefix}_p99_us"), s.p99_us);
        self.figure(&format!("{prefix}_server_cpu_us"), s.server_cpu_us);
    }
}
