//! The connection layer: accepting, the connection cap, each connection's
//! deadlines, the refusals the HTTP layer writes itself, and shutdown.
//!
//! hyper's HTTP/1 server runs each connection, over a socket whose reads go
//! through the request framing first ([`framing`]). Around it:
//!
//! - **Deadlines.** A head must arrive within `head_timeout` (from the
//!   accept, or from a later request's first byte), a body within
//!   `body_timeout` of its head, and a kept-alive connection may wait
//!   `idle_timeout` for its next request. A connection's [`track::Track`]
//!   knows which applies; its task sleeps until it and closes the connection
//!   when it passes (with a 408 if part of a head had arrived). A late body
//!   is answered before that: at its deadline the framed reader fails the
//!   body's read (`io`), and the route reading it answers 408; the
//!   connection's own deadline comes a second later, for a route that does
//!   not answer.
//! - **The cap.** At `max_connections`, a new connection takes the place of
//!   the one that has waited longest for a request; if none is waiting, it
//!   gets a 429 and is closed. Over the cap the server spends one small task
//!   a connection (at most [`MAX_REFUSING`] at once; beyond, a connection is
//!   closed unanswered).
//! - **Refusals.** Every answer the layer writes itself is an OMS error body
//!   with an `X-Request-Id`, as the router's are.
//! - **Shutdown.** The listener closes; connections with no request in
//!   flight close at once; requests in flight get `drain_timeout` to finish
//!   (answered with `Connection: close`); then what is left is closed.

mod framing;
mod io;
mod track;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use hyper::body::Incoming;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, timeout};
use tower_service::Service;

use crate::config::HttpLimits;
use crate::error::ApiError;
use crate::middleware::RequestId;

use io::FramedIo;
use track::{IdleQueue, Timeout, Track, far_future};

/// Connections being answered with a refusal at once, at most; over the
/// cap, further ones are closed without an answer.
const MAX_REFUSING: usize = 64;
/// How long writing one of the layer's own answers may take, and how long
/// the connection then lingers, reading, so the client sees the answer
/// instead of a reset.
const ANSWER_DEADLINE: Duration = Duration::from_secs(1);
/// Bytes read and dropped while lingering after an answer, at most.
const LINGER_BYTES: usize = 64 * 1024;

/// Counts of what the limits did, logged once a second when any is non-zero.
#[derive(Debug, Default)]
struct Alarms {
    over_cap: AtomicU64,
    evicted: AtomicU64,
    head_timeouts: AtomicU64,
    body_timeouts: AtomicU64,
    accept_errors: AtomicU64,
}

impl Alarms {
    fn flush(&self, cap: usize) {
        let take = |counter: &AtomicU64| counter.swap(0, Ordering::Relaxed);
        let (over_cap, evicted) = (take(&self.over_cap), take(&self.evicted));
        let (head, body) = (take(&self.head_timeouts), take(&self.body_timeouts));
        let accept_errors = take(&self.accept_errors);
        if over_cap + evicted > 0 {
            tracing::warn!(
                max_connections = cap,
                refused = over_cap,
                evicted,
                "connection cap reached in the last second: refused new connections with 429, or evicted idle ones for them"
            );
        }
        if head + body > 0 {
            tracing::warn!(
                head_timeouts = head,
                body_timeouts = body,
                "closed connections whose request head or body did not arrive in time"
            );
        }
        if accept_errors > 0 {
            tracing::warn!(
                accept_errors,
                "accepting connections failed (out of file descriptors?)"
            );
        }
    }
}

/// What every connection task shares.
#[derive(Debug)]
struct Shared {
    limits: HttpLimits,
    alarms: Alarms,
    idle: Arc<IdleQueue>,
    open: AtomicUsize,
    refusing: AtomicUsize,
    http: hyper::server::conn::http1::Builder,
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.half_close(true)
        .max_headers(limits.max_headers)
        .max_buf_size((limits.max_head_bytes + 8192).max(64 * 1024))
        .header_read_timeout(None);
    let shared = Arc::new(Shared {
        limits,
        alarms: Alarms::default(),
        idle: Arc::new(IdleQueue::default()),
        open: AtomicUsize::new(0),
        refusing: AtomicUsize::new(0),
        http,
    });
    let (stage, draining) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => admit(stream, &shared, &router, &draining, &mut tasks),
                Err(err) => {
                    // Out of descriptors, or a connection reset before it
                    // was accepted: back off briefly rather than spin.
                    shared.alarms.accept_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%err, "accept failed");
                    sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = tick.tick() => shared.alarms.flush(shared.limits.max_connections),
        }
    }
    drop(listener);
    let open_at_shutdown = tasks.len();
    let _ = stage.send(true);
    let drain = sleep(shared.limits.drain_timeout);
    tokio::pin!(drain);
    loop {
        tokio::select! {
            biased;
            next = tasks.join_next() => if next.is_none() { break },
            () = &mut drain => {
                tracing::warn!(
                    left = tasks.len(),
                    drain_timeout_ms = shared.limits.drain_timeout.as_millis() as u64,
                    "the drain deadline passed: closing the connections left"
                );
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                break;
            }
        }
    }
    shared.alarms.flush(shared.limits.max_connections);
    tracing::info!(open_at_shutdown, "stopped");
    Ok(())
}

/// Takes a new connection in, in place of an idle one at the cap, or refuses it.
fn admit(
    stream: TcpStream,
    shared: &Arc<Shared>,
    router: &Router,
    draining: &watch::Receiver<bool>,
    tasks: &mut JoinSet<()>,
) {
    let _ = stream.set_nodelay(true);
    if shared.open.load(Ordering::Relaxed) >= shared.limits.max_connections {
        if shared.idle.evict_oldest() {
            shared.alarms.evicted.fetch_add(1, Ordering::Relaxed);
        } else {
            shared.alarms.over_cap.fetch_add(1, Ordering::Relaxed);
            if shared.refusing.fetch_add(1, Ordering::Relaxed) < MAX_REFUSING {
                let shared = shared.clone();
                tasks.spawn(async move {
                    let refusal = ApiError::too_many_connections(shared.limits.max_connections);
                    answer(stream, &refusal).await;
                    shared.refusing.fetch_sub(1, Ordering::Relaxed);
                });
            } else {
                shared.refusing.fetch_sub(1, Ordering::Relaxed);
            }
            return;
        }
    }
    shared.open.fetch_add(1, Ordering::Relaxed);
    // Made here, not in the task: a connection is in the eviction queue from
    // its admission, before its task first runs.
    let track = Track::new(shared.idle.clone(), shared.limits.max_connections);
    tasks.spawn(connection(
        stream,
        track,
        shared.clone(),
        router.clone(),
        draining.clone(),
    ));
}

/// How a connection's serving ended.
enum End {
    /// hyper is done: the client closed, keep-alive ended, or a head was refused.
    Done,
    TimedOut(Timeout),
    Evicted,
}

/// Runs one connection to its end, then answers a refused head, if any.
async fn connection(
    stream: TcpStream,
    track: Arc<Track>,
    shared: Arc<Shared>,
    router: Router,
    mut draining: watch::Receiver<bool>,
) {
    let limits = &shared.limits;
    let io = FramedIo::new(stream, limits, track.clone());
    let service = Answer {
        router,
        track: track.clone(),
    };
    let mut conn = shared.http.serve_connection(io, service);
    let mut drain_started = *draining.borrow();
    if drain_started {
        Pin::new(&mut conn).graceful_shutdown();
    }
    let deadline = sleep(Duration::ZERO);
    tokio::pin!(deadline);
    let end = loop {
        if track.evicted() {
            break End::Evicted;
        }
        let due = track.deadline(limits);
        deadline
            .as_mut()
            .reset(due.map_or_else(far_future, |(at, _)| at));
        tokio::select! {
            biased;
            done = std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)) => {
                if let Err(err) = done {
                    tracing::debug!(%err, "connection ended with an error");
                }
                break End::Done;
            }
            () = track.changed.notified() => {}
            () = &mut deadline => {
                if let Some((at, kind)) = track.deadline(limits)
                    && at <= Instant::now()
                {
                    break End::TimedOut(kind);
                }
            }
            _ = draining.changed(), if !drain_started => {
                drain_started = true;
                Pin::new(&mut conn).graceful_shutdown();
            }
        }
    };
    let mut io = conn.into_parts().io;
    if io.body_timed_out() {
        shared.alarms.body_timeouts.fetch_add(1, Ordering::Relaxed);
    }
    let refusal = match end {
        End::Done => io.take_refusal(),
        End::TimedOut(Timeout::Head) => {
            shared.alarms.head_timeouts.fetch_add(1, Ordering::Relaxed);
            // A head that had begun gets its 408, unless an answer of
            // hyper's might still be half written; silence gets silence.
            (io.head_begun() && io.flushed())
                .then(|| ApiError::request_timeout(limits.head_timeout))
        }
        End::TimedOut(Timeout::Body) => {
            if !io.body_timed_out() {
                shared.alarms.body_timeouts.fetch_add(1, Ordering::Relaxed);
            }
            None
        }
        End::TimedOut(Timeout::Idle) | End::Evicted => None,
    };
    let stream = io.into_stream();
    match refusal {
        Some(refusal) => answer(stream, &refusal).await,
        None => drop(stream),
    }
    shared.open.fetch_sub(1, Ordering::Relaxed);
}

/// Writes one of the layer's own answers and closes, lingering briefly so
/// the client reads the answer before the close.
async fn answer(mut stream: TcpStream, refusal: &ApiError) {
    let id = RequestId::next();
    tracing::info!(
        status = refusal.status().as_u16(),
        error_code = refusal.code(),
        reason = %refusal.message(),
        request_id = %id,
        "refused by the HTTP layer"
    );
    let bytes = refusal.to_http1(id.as_str());
    let written = timeout(ANSWER_DEADLINE, async {
        stream.write_all(&bytes).await?;
        stream.shutdown().await
    })
    .await;
    if !matches!(written, Ok(Ok(()))) {
        return;
    }
    let _ = timeout(ANSWER_DEADLINE, async {
        let mut sink = [0u8; 4096];
        let mut left = LINGER_BYTES;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}

/// The router as hyper's service, telling the connection's track when each
/// request is in the router's hands.
#[derive(Debug, Clone)]
struct Answer {
    router: Router,
    track: Arc<Track>,
}

type Answering = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for Answer {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Answering;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let mut router = self.router.clone();
        let in_flight = InFlight::begin(self.track.clone());
        Box::pin(async move {
            let answer = router.call(request).await;
            drop(in_flight);
            answer
        })
    }
}

/// A request in the router's hands; dropping it (answered, or the
/// connection gone) ends it on the track.
struct InFlight(Arc<Track>);

impl InFlight {
    fn begin(track: Arc<Track>) -> Self {
        track.begin();
        Self(track)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.end();
    }
}
