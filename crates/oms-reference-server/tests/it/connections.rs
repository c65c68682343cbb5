//! The connection layer of the server binary under slow, stuck and hostile
//! clients: shutdown behind half-sent requests, slowloris past the cap and
//! the deadlines, a cap whose every connection is busy, and what a slow
//! client costs in memory. Every wait is a poll with a deadline.

use std::time::{Duration, Instant};

use crate::support::{PROJECT_A, SUCCEEDING, TOKEN_A};
use crate::wire::*;

/// Slack for a loaded CI machine on top of every deadline the server keeps.
const MARGIN: Duration = Duration::from_secs(5);

/// A create request's head, asking for `100 Continue` before its body.
fn create_head(length: usize) -> String {
    format!(
        "POST /v1/{PROJECT_A}/objectstorage/task HTTP/1.1\r\nHost: t\r\nX-Auth-Token: {TOKEN_A}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\nExpect: 100-continue\r\n\r\n"
    )
}

/// A connection that has had one request answered (so the server holds it),
/// then sent `then`.
fn held(server: &Spawned, then: &[u8]) -> Conn {
    let mut stream = connect(server.addr);
    stream.send(list_request().as_bytes());
    match stream.answer(Duration::from_secs(10)) {
        Read1::Answer(answer) => assert_eq!(answer.status, 200, "{answer:?}"),
        other => panic!("the first request was not answered: {other:?}"),
    }
    stream.send(then);
    stream
}

/// A connection in the middle of a body: its head is in the router's hands
/// (the `100 Continue` proves it) and one byte of the body has been sent.
fn mid_body(server: &Spawned) -> Conn {
    let mut stream = connect(server.addr);
    stream.send(create_head(SUCCEEDING.len()).as_bytes());
    stream.read_continue();
    stream.send(&SUCCEEDING.as_bytes()[..1]);
    stream
}

fn assert_exits_0(server: &mut Spawned, within: Duration, what: &str) -> Duration {
    let Some((status, took)) = server.wait_exit(within) else {
        panic!(
            "{what}: still running {within:?} after SIGTERM\n{}",
            server.log()
        );
    };
    assert_eq!(status.code(), Some(0), "{what}: {status}\n{}", server.log());
    took
}

#[test]
fn sigterm_behind_a_half_sent_head_exits_0_at_once() {
    let drain = Duration::from_millis(3_000);
    let mut server = Spawned::start(&["--drain-timeout-ms", "3000"]);
    let mut stream = held(&server, b"GET /v1/x/version HTTP/1.1\r\nHost: x\r\n");
    server.signal("TERM");
    // No request is in flight: the connection is closed without waiting.
    let took = assert_exits_0(&mut server, drain + MARGIN, "half-sent head");
    assert!(
        took < drain,
        "a half-sent head held the shutdown for {took:?}"
    );
    assert!(stream.closed_within(MARGIN));
}

#[test]
fn sigterm_behind_a_half_sent_body_exits_0_at_the_drain_deadline() {
    let drain = Duration::from_millis(1_000);
    let mut server = Spawned::start(&["--drain-timeout-ms", "1000"]);
    let mut stream = mid_body(&server);
    server.signal("TERM");
    let took = assert_exits_0(&mut server, drain + MARGIN, "half-sent body");
    // The request was in flight, so it had its drain deadline.
    assert!(
        took >= drain - Duration::from_millis(50),
        "exited after {took:?}, before the drain deadline"
    );
    assert!(stream.closed_within(MARGIN));
    assert!(
        server.line("the drain deadline passed").is_some(),
        "{}",
        server.log()
    );
}

#[test]
fn a_request_in_flight_at_sigterm_gets_its_answer_then_the_server_exits_0() {
    let drain = Duration::from_millis(10_000);
    let mut server = Spawned::start(&["--drain-timeout-ms", "10000"]);
    let mut stream = mid_body(&server);
    server.signal("TERM");
    assert!(
        eventually(MARGIN, || server.line("shutting down").is_some()),
        "{}",
        server.log()
    );
    // New connections are refused from now on; this one finishes its body.
    stream.send(&SUCCEEDING.as_bytes()[1..]);
    let Read1::Answer(answer) = stream.answer(MARGIN) else {
        panic!("the request in flight was not answered\n{}", server.log());
    };
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.json()["id"].is_u64(), "{answer:?}");
    // Then the connection is closed (with `Connection: close` on the answer
    // if the drain had begun when it was written).
    assert!(stream.closed_within(MARGIN));
    let took = assert_exits_0(&mut server, drain + MARGIN, "after the answer");
    assert!(took < drain, "the server waited out the drain: {took:?}");
}

#[test]
fn slowloris_past_the_cap_and_the_head_timeout_is_dropped_while_clients_are_served() {
    let head_timeout = Duration::from_millis(1_500);
    let server = Spawned::start(&["--max-connections", "40", "--head-timeout-ms", "1500"]);
    let started = Instant::now();
    // Three times the cap, each stuck in the middle of a header line.
    let mut lorises: Vec<Conn> = (0..120)
        .map(|_| {
            let mut stream = connect(server.addr);
            stream.send(b"GET /v1/x/version HTTP/1.1\r\nHost: x\r\nX-Slow: ");
            stream
        })
        .collect();
    // While they are held, every client is served: a newcomer at the cap
    // takes the place of the connection that has waited longest.
    for i in 0..20 {
        match exchange(server.addr, list_request().as_bytes()) {
            Read1::Answer(answer) => assert_eq!(answer.status, 200, "client {i}: {answer:?}"),
            other => panic!("client {i} was not served: {other:?}\n{}", server.log()),
        }
    }
    // Every slowloris ends by the head timeout: the evicted ones closed
    // unanswered, the rest with a 408.
    let (mut timed_out, mut evicted) = (0, 0);
    for (i, loris) in lorises.iter_mut().enumerate() {
        let left = (head_timeout + MARGIN).saturating_sub(started.elapsed());
        match loris.answer(left) {
            Read1::Answer(answer) => {
                answer.assert_oms_error(408, &format!("slowloris {i}"));
                timed_out += 1;
            }
            Read1::Closed => evicted += 1,
            Read1::Silent => panic!(
                "slowloris {i} still held {:?} after it connected",
                started.elapsed()
            ),
        }
    }
    assert!(
        timed_out > 0 && evicted >= 80,
        "{timed_out} timed out, {evicted} evicted"
    );
    assert!(
        eventually(MARGIN, || {
            server.line("connection cap reached").is_some()
                && server.line("did not arrive in time").is_some()
        }),
        "the limits were enforced without a log line:\n{}",
        server.log()
    );
}

#[test]
fn at_the_cap_with_every_connection_busy_a_newcomer_gets_429_until_the_body_timeout() {
    let server = Spawned::start(&["--max-connections", "4", "--body-timeout-ms", "1500"]);
    let mut busy: Vec<Conn> = (0..4).map(|_| mid_body(&server)).collect();
    match exchange(server.addr, list_request().as_bytes()) {
        Read1::Answer(answer) => {
            answer.assert_oms_error(429, "over the cap");
            assert_eq!(answer.json()["error_code"], "APIGW.0308");
            assert_eq!(
                answer.headers.get("retry-after").map(String::as_str),
                Some("1")
            );
        }
        other => panic!("a newcomer over the cap got {other:?}"),
    }
    for stream in &mut busy {
        assert!(
            stream.closed_within(Duration::from_millis(1_500) + MARGIN),
            "a body that never came held its connection past the body timeout"
        );
    }
    assert!(
        eventually(MARGIN, || matches!(
            exchange(server.addr, list_request().as_bytes()),
            Read1::Answer(a) if a.status == 200
        )),
        "{}",
        server.log()
    );
}

/// What 1,000 slow connections cost the server, each holding a head just
/// under the head limit (the most a connection buffers before it is
/// refused). The figure is printed (`--nocapture`) and bounded; hyper's own
/// read buffer may grow to about 400 KiB (the issue measured 390 KiB a
/// slowloris before the connection layer).
#[test]
fn a_slow_client_costs_a_bounded_amount_of_memory() {
    const CONNECTIONS: usize = 1_000;
    const BOUND_KIB: u64 = 64;
    let head_timeout = Duration::from_millis(5_000);
    let server = Spawned::start(&["--max-connections", "2000", "--head-timeout-ms", "5000"]);
    let before = server.status_kib("VmRSS");
    let partial = format!(
        "GET /v1/x/version HTTP/1.1\r\nHost: x\r\nX-Slow: {}",
        "a".repeat(16 * 1024 - 100)
    );
    let started = Instant::now();
    let mut streams: Vec<Conn> = (0..CONNECTIONS)
        .map(|_| held(&server, partial.as_bytes()))
        .collect();
    let set_up = started.elapsed();
    assert!(
        set_up < head_timeout - Duration::from_secs(1),
        "setting up took {set_up:?}: the first heads may have timed out before the last came"
    );
    // A 408 is written only to a connection whose partial head the server
    // read and holds: once every one has its 408, all were held at once
    // (the last came before the first timed out), and the peak counts them.
    for (i, stream) in streams.iter_mut().enumerate() {
        match stream.answer(head_timeout + MARGIN) {
            Read1::Answer(answer) => answer.assert_oms_error(408, &format!("connection {i}")),
            other => panic!("connection {i}: no 408 for its partial head: {other:?}"),
        }
    }
    let peak = server.status_kib("VmHWM");
    let per_connection = peak.saturating_sub(before) / CONNECTIONS as u64;
    println!(
        "{CONNECTIONS} connections with a 16 KiB partial head: resident {before} KiB before, peak {peak} KiB, {per_connection} KiB a connection"
    );
    assert!(
        per_connection <= BOUND_KIB,
        "{per_connection} KiB a connection (bound {BOUND_KIB} KiB)"
    );
}
