//! The load generator: which ids a run names, the closed-loop hyper
//! connections that send them, and the set-up of stores (creating, settling,
//! counting and deleting tasks over HTTP).

use super::*;
/// A contiguous range of task ids, `first..=last`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdRange {
    pub(crate) first: u64,
    pub(crate) last: u64,
}

impl IdRange {
    pub(crate) fn len(self) -> usize {
        (self.last - self.first + 1) as usize
    }

    pub(crate) fn ids(self) -> Vec<u64> {
        (self.first..=self.last).collect()
    }
}

/// The ids of the tasks stored, as ranges, so a million ids cost no memory
/// that would blur the RSS figure.
#[derive(Debug, Clone)]
pub(crate) struct IdSet(pub(crate) Vec<IdRange>);

impl IdSet {
    pub(crate) fn len(&self) -> usize {
        self.0.iter().map(|r| r.len()).sum()
    }

    pub(crate) fn nth(&self, mut n: usize) -> u64 {
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
pub(crate) enum Ids {
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
pub(crate) struct Load {
    pub(crate) method: Method,
    pub(crate) ids: Ids,
    pub(crate) body: Bytes,
    pub(crate) max_requests: usize,
    pub(crate) max_time: Duration,
    pub(crate) connections: usize,
    /// Creates report the ids they were given.
    pub(crate) collect_ids: bool,
    pub(crate) record_latency: bool,
}

impl Load {
    pub(crate) fn get(ids: Ids, max_requests: usize, max_time: Duration) -> Self {
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

    pub(crate) fn delete(ids: Vec<u64>, max_time: Duration) -> Self {
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

    pub(crate) fn create(n: usize, max_time: Duration) -> Self {
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

    pub(crate) fn uri(&self, i: usize) -> Uri {
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

pub(crate) fn collection_path() -> &'static str {
    // A literal, because `Uri::from_static` needs one; checked against PROJECT below.
    const PATH: &str = "/v1/0123456789abcdef0123456789abcdef/objectstorage/task";
    debug_assert_eq!(PATH, format!("/v1/{PROJECT}/objectstorage/task"));
    PATH
}

/// What one run measured.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) completed: usize,
    pub(crate) elapsed: Duration,
    pub(crate) latencies_ns: Vec<u64>,
    /// Answers other than 200; a bench with any is not measuring the path it claims.
    pub(crate) unexpected: usize,
    /// min, max and count of the ids creates returned.
    pub(crate) created: Option<(u64, u64, usize)>,
    pub(crate) server_cpu_ns: u64,
    pub(crate) load_cpu_ns: u64,
}

/// Runs one load: opens the connections, then lets each send requests
/// back to back until the request budget or the deadline is used up.
pub(crate) async fn run(addr: SocketAddr, load: Load) -> Outcome {
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

pub(crate) async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, BoxError> {
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
pub(crate) struct Created {
    pub(crate) id: u64,
}

pub(crate) async fn worker(
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
pub(crate) fn create_tasks(
    rt: &Runtime,
    addr: SocketAddr,
    n: usize,
    max_time: Duration,
) -> IdRange {
    create_tasks_measured(rt, addr, n, max_time).0
}

/// [`create_tasks`], also returning what the run measured.
pub(crate) fn create_tasks_measured(
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
pub(crate) fn settle(
    rt: &Runtime,
    addr: SocketAddr,
    clock: &ManualClock,
    expect_stored: usize,
) -> Duration {
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

pub(crate) fn count(rt: &Runtime, addr: SocketAddr) -> usize {
    rt.block_on(count_of(addr, ""))
}

pub(crate) async fn count_of(addr: SocketAddr, filter: &str) -> usize {
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
pub(crate) fn delete_leftovers(rt: &Runtime, addr: SocketAddr, ids: &[u64], left: usize) {
    if left == 0 {
        return;
    }
    let rest = ids[ids.len() - left..].to_vec();
    let out = rt.block_on(run(addr, Load::delete(rest, Duration::from_secs(30))));
    assert_eq!(out.completed, left, "leftover deletes");
}

/// A batch of fresh deletable tasks on top of a store of `stored`, in
/// random order.
pub(crate) fn fresh_batch(
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
