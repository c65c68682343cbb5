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

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The development credentials of `Config::default()`.
const TOKEN: &str = "dev-token-a";
const PROJECT: &str = "0123456789abcdef0123456789abcdef";
/// A task that succeeds within about a second of simulated time.
const CREATE_BODY: &str = include_str!("../../../fixtures/create/succeeding.json");

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

    report.figure("get_rps", get_api.stats().rps);
    report.figure("get_p50_us", get_api.stats().p50_us);
    report.figure("get_p99_us", get_api.stats().p99_us);
    report.figure("get_server_cpu_us", get_api.stats().server_cpu_us);
    report.figure("bare_get_rps", get_bare.stats().rps);
    report.figure("bare_get_p50_us", get_bare.stats().p50_us);
    report.figure("bare_get_p99_us", get_bare.stats().p99_us);
    report.figure("bare_get_server_cpu_us", get_bare.stats().server_cpu_us);
    report.figure("get_ratio", get.rps);
    report.figure("get_cpu_ratio", get.cpu);
    report.figure("delete_rps", delete_api.stats().rps);
    report.figure("delete_p50_us", delete_api.stats().p50_us);
    report.figure("delete_p99_us", delete_api.stats().p99_us);
    report.figure("delete_server_cpu_us", delete_api.stats().server_cpu_us);
    report.figure("bare_delete_rps", delete_bare.stats().rps);
    report.figure("bare_delete_p50_us", delete_bare.stats().p50_us);
    report.figure("bare_delete_p99_us", delete_bare.stats().p99_us);
    report.figure(
        "bare_delete_server_cpu_us",
        delete_bare.stats().server_cpu_us,
    );
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
}

fn runtime(name: &str) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("build a tokio runtime")
}

/// A server running on the server runtime until stopped.
#[derive(Debug)]
struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    fn stop(self, rt: &Runtime) {
        let _ = self.stop.send(());
        // Every generator connection is closed by now, so graceful shutdown is
        // immediate; the deadline only keeps a bug from hanging the bench.
        let done = self.done;
        match rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), done).await }) {
            Ok(Ok(Ok(()))) => {}
            other => panic!("server did not shut down cleanly: {other:?}"),
        }
    }
}

fn bind(rt: &Runtime) -> (TcpListener, SocketAddr) {
    let listener = rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    (listener, addr)
}

/// The real server, with a manual clock and limits that let a project hold
/// and run any number of tasks at once (the defaults queue all but five).
fn start_api(rt: &Runtime, clock: &Arc<ManualClock>) -> Running {
    let config = Config {
        limits: Limits {
            max_parallel: usize::MAX,
            max_waiting: usize::MAX,
            ..Limits::default()
        },
        clock: clock.clone(),
        ..Config::default()
    };
    let (listener, addr) = bind(rt);
    let (stop, stopped) = oneshot::channel::<()>();
    let done = rt.spawn(oms_reference_server::serve(listener, config, async {
        let _ = stopped.await;
    }));
    Running { addr, stop, done }
}

/// The baseline: the task route of the API answering 200 with an empty body,
/// with nothing in front of it.
fn start_bare(rt: &Runtime) -> Running {
    async fn ok() -> StatusCode {
        StatusCode::OK
    }
    let app = Router::new().route(
        "/v1/{project_id}/objectstorage/task/{task_id}",
        axum::routing::get(ok).delete(ok),
    );
    let (listener, addr) = bind(rt);
    let (stop, stopped) = oneshot::channel::<()>();
    let done = rt.spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Running { addr, stop, done }
}

/// A contiguous range of task ids, `first..=last`.
#[derive(Debug, Clone, Copy)]
struct IdRange {
    first: u64,
    last: u64,
}

impl IdRange {
    fn len(self) -> usize {
        (self.last - self.first + 1) as usize
    }

    fn ids(self) -> Vec<u64> {
        (self.first..=self.last).collect()
    }
}

/// The ids of the tasks stored, as ranges, so a million ids cost no memory
/// that would blur the RSS figure.
#[derive(Debug, Clone)]
struct IdSet(Vec<IdRange>);

impl IdSet {
    fn len(&self) -> usize {
        self.0.iter().map(|r| r.len()).sum()
    }

    fn nth(&self, mut n: usize) -> u64 {
        for range in &self.0 {
            if n < range.len() {
                return range.first + n as u64;
            }
            n -= range.len();
        }
        unreachable!("index within the set")
    }
}

/// Which task each request of a run names.
#[derive(Debug)]
enum Ids {
    /// No task: the collection (`POST …/task`).
    None,
    /// The i-th request names the i-th id.
    InOrder(Vec<u64>),
    /// Uniformly random ids from the set, a deterministic function of the
    /// request index, so a big store is read all over, as clients would.
    Random(IdSet, u64),
}

/// One load run: what to send, how many at most, for how long at most.
#[derive(Debug)]
struct Load {
    method: Method,
    ids: Ids,
    body: Bytes,
    max_requests: usize,
    max_time: Duration,
    connections: usize,
    /// Creates report the ids they were given.
    collect_ids: bool,
    record_latency: bool,
}

impl Load {
    fn get(ids: Ids, max_requests: usize, max_time: Duration) -> Self {
        Self {
            method: Method::GET,
            ids,
            body: Bytes::new(),
            max_requests,
            max_time,
            connections: CONNECTIONS,
            collect_ids: false,
            record_latency: true,
        }
    }

    fn delete(ids: Vec<u64>, max_time: Duration) -> Self {
        Self {
            method: Method::DELETE,
            max_requests: ids.len(),
            ids: Ids::InOrder(ids),
            body: Bytes::new(),
            max_time,
            connections: CONNECTIONS,
            collect_ids: false,
            record_latency: true,
        }
    }

    fn create(n: usize, max_time: Duration) -> Self {
        Self {
            method: Method::POST,
            ids: Ids::None,
            body: Bytes::from_static(CREATE_BODY.as_bytes()),
            max_requests: n,
            max_time,
            connections: CREATE_CONNECTIONS,
            collect_ids: true,
            record_latency: false,
        }
    }

    fn uri(&self, i: usize) -> Uri {
        let id = match &self.ids {
            Ids::None => return Uri::from_static(collection_path()),
            Ids::InOrder(ids) => ids[i],
            Ids::Random(set, seed) => {
                let pick = SplitMix(seed ^ i as u64).next() % set.len() as u64;
                set.nth(pick as usize)
            }
        };
        Uri::try_from(format!("/v1/{PROJECT}/objectstorage/task/{id}")).expect("a valid path")
    }
}

fn collection_path() -> &'static str {
    // A literal, because `Uri::from_static` needs one; checked against PROJECT below.
    const PATH: &str = "/v1/0123456789abcdef0123456789abcdef/objectstorage/task";
    debug_assert_eq!(PATH, format!("/v1/{PROJECT}/objectstorage/task"));
    PATH
}

/// What one run measured.
#[derive(Debug, Default)]
struct Outcome {
    completed: usize,
    elapsed: Duration,
    latencies_ns: Vec<u64>,
    /// Answers other than 200; a bench with any is not measuring the path it claims.
    unexpected: usize,
    /// min, max and count of the ids creates returned.
    created: Option<(u64, u64, usize)>,
    server_cpu_ns: u64,
    load_cpu_ns: u64,
}

/// Runs one load: opens the connections, then lets each send requests
/// back to back until the request budget or the deadline is used up.
async fn run(addr: SocketAddr, load: Load) -> Outcome {
    let load = Arc::new(load);
    let mut senders = Vec::with_capacity(load.connections);
    for _ in 0..load.connections {
        senders.push(connect(addr).await.expect("connect to the server"));
    }
    let next = Arc::new(AtomicUsize::new(0));
    let (server_cpu, load_cpu) = (thread_cpu_ns(SERVER_THREADS), thread_cpu_ns(LOAD_THREADS));
    let started = Instant::now();
    let deadline = started + load.max_time;
    let workers: Vec<_> = senders
        .into_iter()
        .map(|sender| tokio::spawn(worker(sender, load.clone(), next.clone(), deadline)))
        .collect();
    let mut total = Outcome::default();
    for worker in workers {
        let part = worker
            .await
            .expect("load worker panicked")
            .expect("load worker failed");
        total.completed += part.completed;
        total.unexpected += part.unexpected;
        total.latencies_ns.extend(part.latencies_ns);
        total.created = match (total.created, part.created) {
            (Some((a, b, n)), Some((c, d, m))) => Some((a.min(c), b.max(d), n + m)),
            (x, y) => x.or(y),
        };
    }
    total.elapsed = started.elapsed();
    total.server_cpu_ns = thread_cpu_ns(SERVER_THREADS) - server_cpu;
    total.load_cpu_ns = thread_cpu_ns(LOAD_THREADS) - load_cpu;
    assert_eq!(
        total.unexpected, 0,
        "{} {} requests were not answered 200",
        total.unexpected, load.method
    );
    total
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, BoxError> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends when the sender is dropped at the end of the run.
        let _ = connection.await;
    });
    Ok(sender)
}

#[derive(serde::Deserialize)]
struct Created {
    id: u64,
}

async fn worker(
    mut sender: SendRequest<Full<Bytes>>,
    load: Arc<Load>,
    next: Arc<AtomicUsize>,
    deadline: Instant,
) -> Result<Outcome, BoxError> {
    let mut out = Outcome::default();
    if load.record_latency {
        out.latencies_ns
            .reserve(load.max_requests.min(1 << 20) / load.connections + 1);
    }
    loop {
        // The deadline is checked before an index is taken, so the indices
        // sent are always a prefix: a cut-short delete run leaves exactly
        // the tail of its ids standing.
        if Instant::now() >= deadline {
            break;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= load.max_requests {
            break;
        }
        let request = Request::builder()
            .method(load.method.clone())
            .uri(load.uri(i))
            .header(hyper::header::HOST, "127.0.0.1")
            .header("x-auth-token", TOKEN)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(load.body.clone()))?;
        let sent = Instant::now();
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let latency = sent.elapsed();
        out.completed += 1;
        if load.record_latency {
            out.latencies_ns.push(latency.as_nanos() as u64);
        }
        if status != StatusCode::OK {
            out.unexpected += 1;
            continue;
        }
        if load.collect_ids {
            let id = serde_json::from_slice::<Created>(&body)?.id;
            out.created = Some(match out.created {
                None => (id, id, 1),
                Some((lo, hi, n)) => (lo.min(id), hi.max(id), n + 1),
            });
        }
    }
    Ok(out)
}

/// Creates `n` succeeding tasks through the API and returns their ids.
fn create_tasks(rt: &Runtime, addr: SocketAddr, n: usize, max_time: Duration) -> IdRange {
    create_tasks_measured(rt, addr, n, max_time).0
}

/// [`create_tasks`], also returning what the run measured.
fn create_tasks_measured(
    rt: &Runtime,
    addr: SocketAddr,
    n: usize,
    max_time: Duration,
) -> (IdRange, Pooled) {
    let out = rt.block_on(run(addr, Load::create(n, max_time)));
    assert_eq!(
        out.completed, n,
        "created only {} of {n} tasks within {max_time:?}",
        out.completed
    );
    let (first, last, count) = out.created.expect("creates returned ids");
    // Ids come from one counter and nothing else creates tasks meanwhile, so
    // a batch is contiguous; the bench relies on that to name tasks cheaply.
    assert_eq!(
        (last - first + 1) as usize,
        count,
        "created ids are not contiguous"
    );
    (IdRange { first, last }, Pooled::from(out))
}

/// Moves the clock past the end of every task created so far and lets one
/// request replay the transitions, outside any measured run. Returns how
/// long that request took.
fn settle(rt: &Runtime, addr: SocketAddr, clock: &ManualClock, expect_stored: usize) -> Duration {
    clock.advance(SETTLE_ADVANCE_MS);
    let started = Instant::now();
    let succeeded = rt.block_on(count_of(addr, "&state=5"));
    let took = started.elapsed();
    assert_eq!(
        succeeded, expect_stored,
        "every stored task should have succeeded (status 5, deletable)"
    );
    assert_eq!(count(rt, addr), expect_stored, "tasks stored");
    took
}

fn count(rt: &Runtime, addr: SocketAddr) -> usize {
    rt.block_on(count_of(addr, ""))
}

async fn count_of(addr: SocketAddr, filter: &str) -> usize {
    let mut sender = connect(addr).await.expect("connect to the server");
    let request = Request::builder()
        .uri(format!("{}?totalcount=true{filter}", collection_path()))
        .header(hyper::header::HOST, "127.0.0.1")
        .header("x-auth-token", TOKEN)
        .body(Full::new(Bytes::new()))
        .expect("a valid request");
    let response = sender.send_request(request).await.expect("count answered");
    assert_eq!(response.status(), StatusCode::OK, "count");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("count body")
        .to_bytes();
    let value: serde_json::Value = serde_json::from_slice(&body).expect("count is JSON");
    value["taskcount"].as_u64().expect("taskcount") as usize
}

/// Deletes the tasks of a delete run that its deadline left standing: the
/// tail of its ids, since runs send a prefix.
fn delete_leftovers(rt: &Runtime, addr: SocketAddr, ids: &[u64], left: usize) {
    if left == 0 {
        return;
    }
    let rest = ids[ids.len() - left..].to_vec();
    let out = rt.block_on(run(addr, Load::delete(rest, Duration::from_secs(30))));
    assert_eq!(out.completed, left, "leftover deletes");
}

/// A batch of fresh deletable tasks on top of a store of `stored`, in
/// random order.
fn fresh_batch(
    rt: &Runtime,
    api: &Running,
    clock: &ManualClock,
    rng: &mut SplitMix,
    stored: usize,
) -> Vec<u64> {
    let batch = create_tasks(rt, api.addr, SCALE_DELETE_BATCH, Duration::from_secs(30));
    settle(rt, api.addr, clock, stored + SCALE_DELETE_BATCH);
    let mut ids = batch.ids();
    rng.shuffle(&mut ids);
    ids
}

/// Runs two loads one after the other, which goes first alternating by
/// round, and pools each side's outcome.
fn in_turn(
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
struct Pooled {
    completed: usize,
    elapsed: Duration,
    latencies_ns: Vec<u64>,
    server_cpu_ns: u64,
    load_cpu_ns: u64,
}

impl Pooled {
    fn add(&mut self, out: Outcome) {
        self.completed += out.completed;
        self.elapsed += out.elapsed;
        self.latencies_ns.extend(out.latencies_ns);
        self.server_cpu_ns += out.server_cpu_ns;
        self.load_cpu_ns += out.load_cpu_ns;
    }

    fn stats(&self) -> Stats {
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
struct Stats {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    server_cpu_us: f64,
    load_cpu_us: f64,
    /// Share of the run the thread was on a CPU: near 1.0 is the bottleneck.
    server_busy: f64,
    load_busy: f64,
}

/// Server over bare: throughput, and CPU cost per request (bare/server, so
/// both read "higher is better").
#[derive(Debug)]
struct Ratio {
    rps: f64,
    cpu: f64,
}

impl Ratio {
    fn of(api: &Pooled, bare: &Pooled) -> Self {
        let (a, b) = (api.stats(), bare.stats());
        Self {
            rps: a.rps / b.rps,
            cpu: b.server_cpu_us / a.server_cpu_us,
        }
    }
}

fn print_run(name: &str, pooled: &Pooled) {
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
fn thread_cpu_ns(prefix: &str) -> u64 {
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
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// Resident set size from `/proc/self/status`.
fn rss_bytes() -> u64 {
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

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// splitmix64: a tiny deterministic generator, so runs pick the same ids.
#[derive(Debug)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn shuffle(&mut self, items: &mut [u64]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}
