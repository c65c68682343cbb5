//! The HTTP layer over a real socket: what it refuses before any route is an
//! OMS error body with a request id, and raw bytes of any shape neither
//! bring the server down nor get a bare answer.

use std::io::Write;
use std::net::Shutdown;
use std::time::Duration;

use oms_reference_server::{Config, HttpLimits};
use proptest::prelude::*;

use crate::support::{PROJECT_A, SUCCEEDING, TOKEN_A};
use crate::wire::*;

fn assert_refused_by_the_http_layer(addr: std::net::SocketAddr, request: &[u8], status: u16) {
    let what = String::from_utf8_lossy(&request[..request.len().min(60)]).into_owned();
    let mut stream = connect(addr);
    stream.send(request);
    let Read1::Answer(answer) = stream.answer(Duration::from_secs(10)) else {
        panic!("{what}: no answer");
    };
    answer.assert_oms_error(status, &what);
    assert_eq!(answer.json()["error_code"], "APIGW.0201", "{what}");
    assert!(answer.headers.contains_key("date"), "{what}");
    assert_eq!(
        answer.headers.get("connection").map(String::as_str),
        Some("close"),
        "{what}"
    );
    assert!(
        stream.closed_within(Duration::from_secs(5)),
        "{what}: the connection stayed open after the refusal"
    );
}

#[test]
fn refusals_of_the_http_layer_are_oms_errors_with_a_request_id() {
    let server = InProcess::start(Config::default());
    let task = format!("/v1/{PROJECT_A}/objectstorage/task/");
    let huge_id = format!(
        "GET {task}{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "9".repeat(70_000)
    );
    let headers: String = (0..101).map(|i| format!("X-H{i}: 1\r\n")).collect();
    let many = format!("GET {task}1 HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
    let large = format!(
        "GET {task}1 HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    // hyper refuses a `Content-Length` list with a bare 400 of its own.
    let list = format!("POST {task} HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n{{}}");
    let listed_twice = format!(
        "POST {task} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2,2\r\n\r\n{{}}"
    );
    let cases: [(&[u8], u16); 11] = [
        (list.as_bytes(), 400),
        (listed_twice.as_bytes(), 400),
        (huge_id.as_bytes(), 414),
        (many.as_bytes(), 431),
        (large.as_bytes(), 431),
        (b"GET\r\n\r\n", 400),
        (b"GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/3.0\r\nHost: x\r\n\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            400,
        ),
        (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400),
    ];
    for (request, status) in cases {
        assert_refused_by_the_http_layer(server.addr, request, status);
    }
    // Served as before: one id, then the request after it on the same connection.
    let mut stream = connect(server.addr);
    let two = format!("{}{}", list_request(), list_request());
    stream.send(two.as_bytes());
    for i in 0..2 {
        match stream.answer(Duration::from_secs(10)) {
            Read1::Answer(answer) => assert_eq!(answer.status, 200, "pipelined {i}: {answer:?}"),
            other => panic!("pipelined {i}: {other:?}"),
        }
    }
}

#[test]
fn a_refused_head_after_a_served_one_is_answered_after_it_in_order() {
    let server = InProcess::start(Config::default());
    let mut stream = connect(server.addr);
    let request = format!("{}GET / HTTP/1.1\r\n\r\n", list_request());
    stream.send(request.as_bytes());
    let first = stream.answer(Duration::from_secs(10));
    assert!(
        matches!(&first, Read1::Answer(a) if a.status == 200),
        "{first:?}"
    );
    let Read1::Answer(second) = stream.answer(Duration::from_secs(10)) else {
        panic!("the refused second head got no answer");
    };
    second.assert_oms_error(400, "no Host");
}

/// Requests the server takes, each with the status it answers.
fn well_formed() -> Vec<(Vec<u8>, u16)> {
    let tasks = format!("/v1/{PROJECT_A}/objectstorage/task");
    let auth = format!("Host: t\r\nX-Auth-Token: {TOKEN_A}\r\n");
    let chunked: String = SUCCEEDING
        .as_bytes()
        .chunks(7)
        .map(|c| format!("{:x}\r\n{}\r\n", c.len(), String::from_utf8_lossy(c)))
        .collect();
    vec![
        (list_request().into_bytes(), 200),
        (
            format!(
                "POST {tasks} HTTP/1.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{SUCCEEDING}",
                SUCCEEDING.len()
            )
            .into_bytes(),
            200,
        ),
        (
            format!(
                "POST {tasks} HTTP/1.1\r\n{auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}0\r\n\r\n"
            )
            .into_bytes(),
            200,
        ),
        (
            format!("DELETE {tasks}/999999 HTTP/1.1\r\n{auth}\r\n").into_bytes(),
            400,
        ),
        (format!("GET /v9/nothing HTTP/1.0\r\n{auth}\r\n").into_bytes(), 404),
    ]
}

/// A raw request: well-formed requests pipelined, one of them edited, or noise.
#[derive(Debug, Clone)]
enum Raw {
    Pipelined(Vec<usize>),
    Edited {
        base: usize,
        edits: Vec<(prop::sample::Index, u8, bool)>,
    },
    Noise(Vec<u8>),
}

fn raw() -> impl Strategy<Value = Raw> {
    let count = well_formed().len();
    let interesting = prop::sample::select(b"\r\n :;,0123456789aAzZ\t\x00\x7f\xff-/%?=".to_vec());
    prop_oneof![
        prop::collection::vec(0..count, 1..4).prop_map(Raw::Pipelined),
        (
            0..count,
            prop::collection::vec(
                (
                    any::<prop::sample::Index>(),
                    prop_oneof![interesting, any::<u8>()],
                    any::<bool>()
                ),
                1..4
            )
        )
            .prop_map(|(base, edits)| Raw::Edited { base, edits }),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Raw::Noise),
    ]
}

impl Raw {
    /// The bytes, and the statuses of the answers they must get when they
    /// are well-formed (`None`: any OMS answer, or none, will do).
    fn bytes(&self) -> (Vec<u8>, Option<Vec<u16>>) {
        let base = well_formed();
        match self {
            Raw::Pipelined(which) => {
                // An HTTP/1.0 request without keep-alive is the connection's last.
                let answered = which
                    .iter()
                    .position(|&i| base[i].0.windows(8).any(|w| w == b"HTTP/1.0"))
                    .map_or(which.len(), |last| last + 1);
                (
                    which.iter().flat_map(|&i| base[i].0.clone()).collect(),
                    Some(which[..answered].iter().map(|&i| base[i].1).collect()),
                )
            }
            Raw::Edited { base: i, edits } => {
                let mut bytes = base[*i].0.clone();
                for (at, byte, insert) in edits {
                    let at = at.index(bytes.len());
                    if *insert {
                        bytes.insert(at, *byte);
                    } else {
                        bytes[at] = *byte;
                    }
                }
                (bytes, None)
            }
            Raw::Noise(bytes) => (bytes.clone(), None),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Whatever bytes arrive: every answer is a whole HTTP/1.1 answer with a
    /// request id, a refusal is an OMS error body, nothing is a 5xx, the
    /// well-formed requests get their answers in order, and the server
    /// serves the next client.
    #[test]
    fn raw_bytes_on_the_socket_get_oms_answers_or_a_close_and_the_server_stays_up(raw in raw()) {
        let server = shared_server();
        let (bytes, expected) = raw.bytes();
        let mut stream = connect(server);
        // The socket may be closed (refused) before every byte is taken.
        let _ = stream.stream.write_all(&bytes);
        let _ = stream.stream.shutdown(Shutdown::Write);
        let mut statuses = Vec::new();
        loop {
            match stream.answer(Duration::from_secs(10)) {
                Read1::Answer(answer) => {
                    prop_assert!(answer.status < 500, "{answer:?}");
                    prop_assert!(answer.headers.contains_key("x-request-id"), "{answer:?}");
                    if answer.status >= 400 {
                        answer.assert_oms_error(answer.status, "a refusal");
                    }
                    statuses.push(answer.status);
                }
                Read1::Closed => break,
                Read1::Silent => prop_assert!(false, "no answer and no close within 10 s"),
            }
        }
        if let Some(expected) = expected {
            prop_assert_eq!(statuses, expected);
        }
        let next = exchange(server, list_request().as_bytes());
        prop_assert!(matches!(&next, Read1::Answer(a) if a.status == 200), "{:?}", next);
    }
}

/// One server for every case of the proptest, with short deadlines so an
/// unfinished head or body is dropped quickly.
fn shared_server() -> std::net::SocketAddr {
    static SERVER: std::sync::OnceLock<InProcess> = std::sync::OnceLock::new();
    SERVER
        .get_or_init(|| {
            let mut config = Config {
                http: HttpLimits {
                    head_timeout: Duration::from_millis(500),
                    body_timeout: Duration::from_millis(500),
                    ..HttpLimits::default()
                },
                ..Config::default()
            };
            config.limits.max_tasks = 100_000;
            config.limits.max_waiting = 100_000;
            InProcess::start(config)
        })
        .addr
}

/// Blank lines between requests (old clients send a CRLF after a body) are
/// idleness, not a slow head: the head timeout does not close the connection.
#[test]
fn blank_lines_between_requests_are_idle_not_a_slow_head() {
    let server = InProcess::start(Config {
        http: HttpLimits {
            head_timeout: Duration::from_millis(200),
            idle_timeout: Duration::from_secs(30),
            ..HttpLimits::default()
        },
        ..Config::default()
    });
    let mut stream = connect(server.addr);
    stream.send(list_request().as_bytes());
    let first = stream.answer(Duration::from_secs(10));
    assert!(
        matches!(&first, Read1::Answer(a) if a.status == 200),
        "{first:?}"
    );
    stream.send(b"\r\n");
    assert!(
        !stream.closed_within(Duration::from_millis(800)),
        "a blank line after an answer was taken for a head that never ended"
    );
    stream.send(list_request().as_bytes());
    let second = stream.answer(Duration::from_secs(10));
    assert!(
        matches!(&second, Read1::Answer(a) if a.status == 200),
        "{second:?}"
    );
}

/// A chunked body whose framing breaks mid-way ends early: the route
/// reading it answers 400 `OMS.1006`, and nothing is created.
#[test]
fn a_chunked_body_broken_mid_way_gets_the_routes_400() {
    let server = InProcess::start(Config::default());
    let tasks = format!("/v1/{PROJECT_A}/objectstorage/task");
    let mut stream = connect(server.addr);
    stream.send(
        format!(
            "POST {tasks} HTTP/1.1\r\nHost: t\r\nX-Auth-Token: {TOKEN_A}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
             5\r\n{{\"a\":\r\nzz\r\n"
        )
        .as_bytes(),
    );
    let Read1::Answer(answer) = stream.answer(Duration::from_secs(10)) else {
        panic!("a broken chunked body got no answer");
    };
    answer.assert_oms_error(400, "broken chunk framing");
    assert_eq!(answer.json()["error_code"], "OMS.1006", "{answer:?}");
    let list = exchange(server.addr, list_request().as_bytes());
    assert!(
        matches!(&list, Read1::Answer(a) if a.status == 200 && a.json() == serde_json::json!([])),
        "{list:?}"
    );
}
