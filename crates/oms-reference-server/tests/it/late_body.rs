//! A request body that stops arriving mid-way, over a real socket to a
//! server with a short body timeout: past the timeout the route reading the
//! body answers 408 with the OMS error body and an `X-Request-Id`, then the
//! connection closes; the task is not created. And `Content-Length`
//! spellings hyper takes are served, not refused.

use std::sync::Arc;
use std::time::{Duration, Instant};

use oms_reference_server::clock::ManualClock;
use oms_reference_server::{Config, HttpLimits};

use crate::support::{EPOCH_MS, PROJECT_A, SDK_NOW, SUCCEEDING, TOKEN_A};
use crate::wire::*;

const BODY_TIMEOUT: Duration = Duration::from_millis(300);

fn server() -> InProcess {
    InProcess::start(Config {
        http: HttpLimits {
            body_timeout: BODY_TIMEOUT,
            ..HttpLimits::default()
        },
        // The signed request's `X-Sdk-Date` is `SDK_NOW`, this clock's start.
        clock: Arc::new(ManualClock::new(EPOCH_MS)),
        ..Config::default()
    })
}

/// Sends `head` promising 100 bytes, then 10 of them, and waits.
fn answer_to_a_late_body(server: &InProcess, head: &str) -> (Answer, Duration) {
    let mut stream = connect(server.addr);
    let sent = Instant::now();
    stream.send(format!("{head}Content-Length: 100\r\n\r\n{}", &SUCCEEDING[..10]).as_bytes());
    let Read1::Answer(answer) = stream.answer(Duration::from_secs(10)) else {
        panic!("a late body got no answer");
    };
    let waited = sent.elapsed();
    assert!(
        stream.closed_within(Duration::from_secs(5)),
        "the connection stayed open after the 408"
    );
    (answer, waited)
}

#[test]
fn a_body_that_stops_mid_way_gets_a_408() {
    let server = server();
    let tasks = format!("/v1/{PROJECT_A}/objectstorage/task");
    let token = format!(
        "POST {tasks} HTTP/1.1\r\nHost: t\r\nX-Auth-Token: {TOKEN_A}\r\nContent-Type: application/json\r\n"
    );
    // A signed request's body is read by the authentication, for its hash.
    let signed = format!(
        "POST /v2/{PROJECT_A}/tasks HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         X-Sdk-Date: {SDK_NOW}\r\nAuthorization: SDK-HMAC-SHA256 Access=DUMMYAK, \
         SignedHeaders=content-type;host;x-sdk-date, Signature={}\r\n",
        "0".repeat(64)
    );
    for (what, head) in [("token", token), ("signed", signed)] {
        let (answer, waited) = answer_to_a_late_body(&server, &head);
        answer.assert_oms_error(408, what);
        let body = answer.json();
        assert_eq!(body["error_code"], "APIGW.0201", "{what}: {answer:?}");
        assert_eq!(
            body["request_id"].as_str(),
            answer.headers.get("x-request-id").map(String::as_str),
            "{what}"
        );
        assert!(waited >= BODY_TIMEOUT, "{what}: answered after {waited:?}");
    }
    let list = exchange(server.addr, list_request().as_bytes());
    assert!(
        matches!(&list, Read1::Answer(a) if a.status == 200 && a.json() == serde_json::json!([])),
        "nothing was created: {list:?}"
    );
}

/// hyper takes one decimal a line, the same on two lines, and whitespace
/// around it; the framing passes each to it, and the route answers.
#[test]
fn content_length_spellings_hyper_takes_are_served() {
    let server = server();
    let tasks = format!("/v1/{PROJECT_A}/objectstorage/task");
    let head = format!("POST {tasks} HTTP/1.1\r\nHost: t\r\nX-Auth-Token: {TOKEN_A}\r\n");
    for length in [
        "Content-Length: 2",
        "Content-Length:2",
        "Content-Length:  2  ",
        "Content-Length: 002",
        "Content-Length: 2\r\nContent-Length: 2",
    ] {
        let request = format!("{head}{length}\r\n\r\n{{}}");
        let Read1::Answer(answer) = exchange(server.addr, request.as_bytes()) else {
            panic!("{length:?}: no answer");
        };
        // `{}` lacks every required field: the route's own refusal.
        answer.assert_oms_error(400, length);
        assert_eq!(
            answer.json()["error_code"],
            "OMS.1004",
            "{length:?}: {answer:?}"
        );
    }
}
