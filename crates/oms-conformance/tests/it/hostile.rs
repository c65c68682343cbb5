//! Hostile targets: raw TCP servers that misbehave (never answer, answer one
//! byte a second, hang up mid-answer, send garbage, non-JSON or an endless body,
//! redirect in a loop, answer 503). Each runs twice: misbehaving on every request
//! (the run ends at the preflight), and misbehaving on DELETEs only while every
//! other request goes to a reference server (the scenarios, their cleanup and the
//! whole-run rules all meet the misbehaviour). Every run must end within a bound
//! derived from its deadlines (a watchdog kills it and fails the test past that),
//! with a meaningful exit status, a readable `results.json`, and a peak resident
//! memory under [`RSS_LIMIT_KIB`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{self, Watched};

/// The deadlines every hostile run gets. Every run must end within its run
/// deadline, both dialects judged (a run the deadline cuts short fails the
/// test): the DELETE-only runs, whose every delete costs a request deadline
/// and whose five `@serial` scenarios run one after another, measured 10–23 s
/// beside the other tests (see the guide's performance page), and this is
/// about twice that.
const DEADLINES: [&str; 6] = [
    "--request-timeout",
    "1s",
    "--state-timeout",
    "3s",
    "--run-timeout",
    "45s",
];

/// What the deadlines promise: the preflight (two counts, a request deadline
/// each), the run deadline, the final sweep (a state deadline, plus the request
/// in flight when it passes), and a margin for start-up and the reports.
const PROMISED: Duration = Duration::from_secs(2 + 45 + 3 + 1 + 4);

/// The rules each dialect judges: every rule of the catalogue that applies to it.
const V1_RULES: usize = 18;
const V2_RULES: usize = 23;

/// Past this the watchdog kills the harness (and the test fails).
const WATCHDOG: Duration = Duration::from_secs(90);

/// Peak resident memory allowed to the harness process.
const RSS_LIMIT_KIB: u64 = 200 * 1024;

/// Most bytes a server may push down one connection of the endless answer before
/// the harness hangs up. The harness reads 64 KiB of a body; loopback and socket
/// buffers take a few MiB more before a write blocks or fails.
const ENDLESS_LIMIT: u64 = 16 * 1024 * 1024;

/// How a hostile server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Misbehaviour {
    /// Reads the request and holds the connection open without a byte in return.
    Silent,
    /// A 200 head, then a body of one byte a second that never ends.
    Trickle,
    /// The head and half a body, then the connection closes.
    HangUp,
    /// Bytes that are not HTTP, then the connection closes.
    Garbage,
    /// A well-formed 200 whose body is HTML.
    NotJson,
    /// A 200 with a chunked body that never ends.
    Endless,
    /// A 302 to the very same request target.
    RedirectLoop,
    /// 503 with `Retry-After`.
    Unavailable,
}

/// Which requests meet the misbehaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Everything,
    /// DELETEs only; every other request is forwarded to a reference server.
    Deletes,
}

/// A request as read off the socket.
struct Request {
    method: String,
    target: String,
    /// The head without its final blank line, and the body.
    head: String,
    body: Vec<u8>,
}

/// Reads one request (head and `Content-Length` body); `None` at end of stream
/// or on anything unreadable.
async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if buffer.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    let mut body = buffer[end + 4..].to_vec();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let mut words = head.split_whitespace();
    let method = words.next()?.to_owned();
    let target = words.next()?.to_owned();
    Some(Request {
        method,
        target,
        head,
        body,
    })
}

/// Sends `request` to `upstream` with `Connection: close` and copies the answer
/// back; the client's connection closes with it, so each forwarded request
/// has a connection of its own.
async fn forward(stream: &mut TcpStream, upstream: SocketAddr, request: &Request) {
    let Ok(mut up) = TcpStream::connect(upstream).await else {
        return;
    };
    let mut head: String = request
        .head
        .lines()
        .filter(|line| {
            !line
                .split_once(':')
                .is_some_and(|(name, _)| name.trim().eq_ignore_ascii_case("connection"))
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    head.push_str("\r\nConnection: close\r\n\r\n");
    if up.write_all(head.as_bytes()).await.is_err() || up.write_all(&request.body).await.is_err() {
        return;
    }
    let _ = tokio::io::copy(&mut up, stream).await;
    let _ = stream.shutdown().await;
}

/// A fixed answer that closes the connection.
fn answer(status: &str, headers: &[&str], body: &str) -> Vec<u8> {
    let mut text = format!("HTTP/1.1 {status}\r\n");
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    text.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    text.into_bytes()
}

/// Bytes that are not HTTP: a fixed pseudo-random sequence.
fn garbage() -> Vec<u8> {
    let mut state: u32 = 0x2545_f491;
    (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect()
}

async fn misbehave(
    stream: &mut TcpStream,
    misbehaviour: Misbehaviour,
    request: &Request,
    endless_max: &AtomicU64,
) {
    match misbehaviour {
        Misbehaviour::Silent => {
            // Hold the connection until the client gives up on it.
            let mut sink = [0u8; 1024];
            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
        }
        Misbehaviour::Trickle => {
            // The head at once, so the harness holds a 200; then a body that
            // never ends, one byte a second. The pace is the misbehaviour itself,
            // not a wait for a condition.
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut pace = tokio::time::interval(Duration::from_secs(1));
            loop {
                pace.tick().await;
                if stream.write_all(b"1\r\n \r\n").await.is_err() {
                    return;
                }
            }
        }
        Misbehaviour::HangUp => {
            let whole = answer(
                "200 OK",
                &["Content-Type: application/json"],
                r#"{"taskcount":0,"padding":"......................................"}"#,
            );
            let _ = stream.write_all(&whole[..whole.len() - 30]).await;
            let _ = stream.shutdown().await;
        }
        Misbehaviour::Garbage => {
            let _ = stream.write_all(&garbage()).await;
            let _ = stream.shutdown().await;
        }
        Misbehaviour::NotJson => {
            let body = "<html><body><h1>It works!</h1></body></html>";
            let _ = stream
                .write_all(&answer("200 OK", &["Content-Type: text/html"], body))
                .await;
        }
        Misbehaviour::Endless => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            // A JSON array that never closes, as fast as the socket takes it.
            let item = r#"{"id":1,"name":"endless","status":2},"#.repeat(400);
            let chunk = format!("{:x}\r\n{item}\r\n", item.len());
            let mut sent = 0u64;
            while stream.write_all(chunk.as_bytes()).await.is_ok() {
                sent += chunk.len() as u64;
                endless_max.fetch_max(sent, Ordering::Relaxed);
            }
        }
        Misbehaviour::RedirectLoop => {
            let location = format!("Location: {}", request.target);
            let _ = stream
                .write_all(&answer("302 Found", &[location.as_str()], ""))
                .await;
        }
        Misbehaviour::Unavailable => {
            let _ = stream
                .write_all(&answer(
                    "503 Service Unavailable",
                    &["Content-Type: application/json", "Retry-After: 1"],
                    r#"{"error_code":"APIGW.0503","error_msg":"service unavailable"}"#,
                ))
                .await;
        }
    }
}

/// A hostile server in `rt`; returns its address and the most bytes the
/// endless answer pushed down one connection.
fn hostile_server(
    rt: &tokio::runtime::Runtime,
    misbehaviour: Misbehaviour,
    upstream: Option<SocketAddr>,
) -> (SocketAddr, Arc<AtomicU64>) {
    let endless_max = Arc::new(AtomicU64::new(0));
    let max = Arc::clone(&endless_max);
    let addr = rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let max = Arc::clone(&max);
                // One request per connection: every answer here closes it.
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut stream).await else {
                        return;
                    };
                    match upstream {
                        Some(upstream) if request.method != "DELETE" => {
                            forward(&mut stream, upstream, &request).await;
                        }
                        _ => misbehave(&mut stream, misbehaviour, &request, &max).await,
                    }
                });
            }
        });
        addr
    });
    (addr, endless_max)
}

/// Runs the harness against the misbehaving server and checks what it promises;
/// returns the run for case-specific checks.
fn survive(misbehaviour: Misbehaviour, scope: Scope, expected_exit: i32) -> (Watched, Value) {
    let rt = support::runtime();
    let upstream = (scope == Scope::Deletes).then(|| support::reference_server(&rt));
    let (addr, endless_max) = hostile_server(&rt, misbehaviour, upstream);
    let target = format!("http://{addr}");
    // Both dialects, as the default profile judges them.
    let mut args = vec!["--target", target.as_str(), "--seed", "7"];
    args.extend(DEADLINES);
    let name = format!("hostile-{misbehaviour:?}-{scope:?}").to_lowercase();
    let watched = support::run_watched(&name, &args, WATCHDOG);
    let endless = endless_max.load(Ordering::Relaxed);
    drop(rt);
    let ran = &watched.ran;
    eprintln!(
        "hostile {misbehaviour:?} ({scope:?}): exit {}, {:.1} s, peak RSS {:.1} MiB{}",
        ran.code,
        watched.wall.as_secs_f64(),
        watched.peak_rss_kib as f64 / 1024.0,
        if misbehaviour == Misbehaviour::Endless {
            format!(
                ", at most {:.1} MiB sent down one connection",
                endless as f64 / 1048576.0
            )
        } else {
            String::new()
        }
    );
    assert!(
        watched.wall <= PROMISED,
        "{misbehaviour:?} ({scope:?}): the run took {:.1} s, past the {} s its deadlines promise\n{}",
        watched.wall.as_secs_f64(),
        PROMISED.as_secs(),
        ran.explain()
    );
    assert_eq!(
        ran.code,
        expected_exit,
        "{misbehaviour:?} ({scope:?})\n{}",
        ran.explain()
    );
    let results = ran.results();
    assert_eq!(
        results["exit_code"], expected_exit,
        "results.json disagrees with the exit status"
    );
    let judged = |dialect: &str| {
        results["rules"]
            .as_array()
            .map(|rules| rules.iter().filter(|r| r["dialect"] == dialect).count())
    };
    assert_eq!(
        (judged("v1"), judged("v2")),
        (Some(V1_RULES), Some(V2_RULES)),
        "every rule of both dialects has a verdict in results.json"
    );
    assert!(
        !notes(&results).contains("run deadline"),
        "{misbehaviour:?} ({scope:?}): the run deadline cut the run short: {}",
        notes(&results)
    );
    assert!(
        ran.stdout
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("conformance: ")),
        "{}",
        ran.explain()
    );
    assert!(
        watched.peak_rss_kib > 0 && watched.peak_rss_kib < RSS_LIMIT_KIB,
        "{misbehaviour:?} ({scope:?}): peak RSS {} KiB (limit {RSS_LIMIT_KIB} KiB)",
        watched.peak_rss_kib
    );
    if misbehaviour == Misbehaviour::Endless {
        assert!(
            endless > 0 && endless < ENDLESS_LIMIT,
            "the harness read {endless} bytes of an endless body"
        );
    }
    (watched, results)
}

/// The reason the run could not be judged, from results.json's notes.
fn notes(results: &Value) -> String {
    results["notes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

/// A rule's verdict.
fn verdict<'a>(results: &'a Value, id: &str) -> &'a str {
    results["rules"]
        .as_array()
        .and_then(|rules| rules.iter().find(|r| r["id"] == id))
        .and_then(|r| r["verdict"].as_str())
        .unwrap_or_default()
}

/// Both scopes at once (two harness processes), so that the slower DELETE-only
/// runs overlap.
fn both(misbehaviour: Misbehaviour, everything_exit: i32, deletes_exit: i32) -> [Value; 2] {
    std::thread::scope(|scope| {
        let everything =
            scope.spawn(move || survive(misbehaviour, Scope::Everything, everything_exit).1);
        let deletes = scope.spawn(move || survive(misbehaviour, Scope::Deletes, deletes_exit).1);
        [
            everything.join().expect("everything"),
            deletes.join().expect("deletes"),
        ]
    })
}

/// Both scopes of a misbehaviour that yields no HTTP answer: misbehaving in
/// everything, the target is unreachable; misbehaving in its deletes only, the
/// delete rules are in error (both exit 2). Returns the DELETE-only run's
/// results.
fn no_answer(misbehaviour: Misbehaviour) -> Value {
    let [everything, deletes] = both(misbehaviour, 2, 2);
    assert!(notes(&everything).contains("unreachable"), "{everything:#}");
    assert_eq!(verdict(&deletes, "OMS-DEL-001"), "error");
    deletes
}

#[test]
fn a_target_that_never_answers_is_judged_unreachable() {
    let deletes = no_answer(Misbehaviour::Silent);
    // Every delete timed out: the rules could not be judged, none passed or failed
    // on a non-answer.
    assert_eq!(verdict(&deletes, "OMS-DEL-003"), "error");
}

#[test]
fn a_target_that_answers_a_byte_a_second_times_out() {
    no_answer(Misbehaviour::Trickle);
}

#[test]
fn a_target_that_hangs_up_mid_answer_is_a_transport_error() {
    no_answer(Misbehaviour::HangUp);
}

#[test]
fn a_target_that_sends_garbage_is_a_transport_error() {
    no_answer(Misbehaviour::Garbage);
}

#[test]
fn a_target_that_answers_html_is_not_judged_conformant() {
    // Everything HTML: the count answers 200, so the run starts, but no task can
    // be created; a delete answered with a page is a success with a body.
    let [everything, deletes] = both(Misbehaviour::NotJson, 2, 1);
    assert_ne!(verdict(&everything, "OMS-DEL-001"), "pass");
    assert_eq!(verdict(&deletes, "OMS-DEL-001"), "fail");
}

#[test]
fn an_endless_body_is_read_up_to_the_cap() {
    let [everything, deletes] = both(Misbehaviour::Endless, 2, 1);
    assert_ne!(verdict(&everything, "OMS-DEL-001"), "pass");
    assert_eq!(verdict(&deletes, "OMS-DEL-001"), "fail");
}

#[test]
fn a_redirect_loop_is_not_followed() {
    let [everything, deletes] = both(Misbehaviour::RedirectLoop, 2, 1);
    assert!(notes(&everything).contains("(302)"), "{everything:#}");
    // A 302 is neither a success nor a refusal with an error body.
    assert_eq!(verdict(&deletes, "OMS-DEL-001"), "fail");
    assert_eq!(verdict(&deletes, "OMS-DEL-003"), "fail");
}

#[test]
fn a_target_that_answers_503_is_unavailable_or_failing() {
    let [everything, deletes] = both(Misbehaviour::Unavailable, 2, 1);
    assert!(notes(&everything).contains("(503)"), "{everything:#}");
    assert_eq!(verdict(&deletes, "OMS-DEL-017"), "fail");
}
