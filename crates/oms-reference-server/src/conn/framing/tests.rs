//! The framer's unit tests: streams fed in pieces as a socket might deliver
//! them, the refusals of the HTTP layer and its limits, and broken chunked
//! bodies.

use axum::http::StatusCode;

use super::*;

fn framer() -> Framer {
    Framer::new(&HttpLimits::default())
}

/// Feeds `input` in pieces of `split` bytes, as a socket might deliver
/// it, and returns what was passed and how the stream ended.
fn run(input: &[u8], split: usize) -> (Vec<u8>, Option<Step>) {
    let mut framer = framer();
    let mut buffered: Vec<u8> = Vec::new();
    let mut passed = Vec::new();
    for piece in input.chunks(split.max(1)) {
        buffered.extend_from_slice(piece);
        loop {
            match framer.step(&buffered) {
                Step::Pass(n) => {
                    passed.extend(buffered.drain(..n));
                }
                Step::Skip(n) => {
                    buffered.drain(..n);
                }
                Step::More => break,
                end => return (passed, Some(end)),
            }
        }
    }
    (passed, None)
}

fn refused(input: &[u8]) -> StatusCode {
    match run(input, input.len()).1 {
        Some(Step::Refuse(r)) => r.status(),
        other => panic!(
            "{:?}: expected a refusal, got {other:?}",
            String::from_utf8_lossy(input)
        ),
    }
}

#[test]
fn a_pipelined_stream_passes_whole_whatever_the_split() {
    let stream: &[u8] = b"\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n\
        POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
        PUT /c HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n\
        5;ext=1\r\nhello\r\n0\r\nx-trailer: 1\r\n\r\n\
        GET /d HTTP/1.0\r\n\r\n";
    for split in [1, 2, 3, 7, 64, stream.len()] {
        let (passed, end) = run(stream, split);
        assert_eq!(end, None, "split {split}");
        assert_eq!(
            passed,
            &stream[2..],
            "split {split}: only the leading blank line is dropped"
        );
    }
}

#[test]
fn a_head_is_held_back_until_it_is_whole() {
    let mut framer = framer();
    assert_eq!(framer.step(b"GET / HTTP/1.1\r\nHost: x\r\n"), Step::More);
    assert!(!framer.at_rest());
    assert_eq!(
        framer.step(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        Step::Pass(27)
    );
    assert!(framer.at_rest());
}

#[test]
fn the_refusals_of_the_http_layer() {
    let cases: [(&[u8], StatusCode); 15] = [
        (b"GET / HTTP/1.1\r\n\r\n", StatusCode::BAD_REQUEST),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", StatusCode::BAD_REQUEST),
        (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", StatusCode::BAD_REQUEST),
        (b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n", StatusCode::BAD_REQUEST),
        (b"\x16\x03\x01\x02\x00\x01", StatusCode::BAD_REQUEST),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", StatusCode::BAD_REQUEST),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            StatusCode::BAD_REQUEST,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            StatusCode::BAD_REQUEST,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            StatusCode::BAD_REQUEST,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            StatusCode::BAD_REQUEST,
        ),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", StatusCode::BAD_REQUEST),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n", StatusCode::BAD_REQUEST),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2,\r\n\r\n", StatusCode::BAD_REQUEST),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", StatusCode::BAD_REQUEST),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", StatusCode::BAD_REQUEST),
    ];
    for (input, status) in cases {
        assert_eq!(
            refused(input),
            status,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn limits_refuse_as_soon_as_they_are_passed() {
    let limits = HttpLimits::default();
    let many: String = (0..=limits.max_headers)
        .map(|i| format!("x-{i}: 1\r\n"))
        .collect();
    let cases = [
        // No end of the request line in sight: refused before it ends.
        (
            format!("GET /{} HTTP/1.1", "9".repeat(70_000)),
            StatusCode::URI_TOO_LONG,
        ),
        (
            format!(
                "GET /{} HTTP/1.1\r\nHost: x\r\n\r\n",
                "9".repeat(limits.max_uri_bytes)
            ),
            StatusCode::URI_TOO_LONG,
        ),
        (
            format!("GET / HTTP/1.1\r\nHost: x\r\n{many}"),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ),
        (
            format!(
                "GET / HTTP/1.1\r\nHost: x\r\nx-big: {}",
                "a".repeat(limits.max_head_bytes)
            ),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ),
    ];
    for (input, status) in cases {
        assert_eq!(refused(input.as_bytes()), status, "{}", &input[..40]);
    }
}

#[test]
fn exactly_the_header_limit_passes() {
    let limits = HttpLimits::default();
    let fields: String = (1..limits.max_headers)
        .map(|i| format!("x-{i}: 1\r\n"))
        .collect();
    let head = format!("GET / HTTP/1.1\r\nHost: x\r\n{fields}\r\n");
    assert_eq!(run(head.as_bytes(), 5), (head.into_bytes(), None));
}

#[test]
fn broken_chunk_framing_stops_the_stream() {
    let head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for body in [
        &b"zz\r\n"[..],
        b"5\r\nhelloXX",
        b"5\nhello\r\n",
        b"11111111111111111\r\n",
        b"0\r\nbad\n",
    ] {
        let input = [&head[..], body].concat();
        let (_, end) = run(&input, 3);
        assert_eq!(
            end,
            Some(Step::Broken),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
}
