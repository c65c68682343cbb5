//! HTTP/1.1 request framing (RFC 9112), checked before hyper sees a byte.
//!
//! hyper answers a head it cannot take (a bad request line, a target over
//! 64 KiB, more than 100 headers, …) with a bare status and no body, and it
//! reads `Transfer-Encoding: gzip, chunked` as plain chunked. So the
//! connection's bytes pass through a [`Framer`] first: it holds a head back
//! until the whole of it has arrived and passed every check hyper makes and
//! a few more (a `Host` on HTTP/1.1, one framing of the body), and then lets
//! it and its body through, following the body's framing to find where the
//! next head starts. A refused head never reaches hyper; the connection
//! writes the refusal itself, as an OMS error body ([`ApiError::http_layer`]).
//!
//! Pure and synchronous: the unit tests and the proptest drive it with bytes.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use axum::http::{Method, StatusCode, Uri, uri::Authority};

use crate::config::HttpLimits;
use crate::error::ApiError;

/// A 400 of the HTTP layer.
fn bad(message: impl Into<Cow<'static, str>>) -> ApiError {
    ApiError::http_layer(StatusCode::BAD_REQUEST, message)
}

/// What to do with the bytes at the front of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Hand the first `n` bytes to hyper.
    Pass(usize),
    /// Drop the first `n` bytes: empty lines before a request line, which
    /// RFC 9112 §2.2 lets a server ignore.
    Skip(usize),
    /// Nothing can be decided before more bytes arrive.
    More,
    /// The head at the front is refused: answer it and close.
    Refuse(ApiError),
    /// A chunked body broke its framing: pass nothing more. hyper sees the
    /// body end early, and the handler reading it answers 400.
    Broken,
}

/// Where in the request stream the next byte falls.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Head(HeadScan),
    /// A `Content-Length` body with this many bytes still to come.
    Length(u64),
    Chunked(Chunk),
}

/// How far the head at the front has been scanned, so each byte is looked
/// at once however the head is split across reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct HeadScan {
    scanned: usize,
    /// Bytes of the current line, carriage returns not counted.
    line_len: usize,
    /// Lines ended so far (the request line is the first).
    lines: usize,
    /// The request line's method is over (its first space was seen).
    method_done: bool,
}

/// The chunked-body decoder's state, as strict as hyper's (CRLF only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// In a chunk-size line: hex digits so far and their value.
    Size {
        digits: u8,
        value: u64,
    },
    /// Whitespace after the size.
    SizeWs {
        value: u64,
    },
    /// A chunk extension, this many bytes long so far.
    Ext {
        value: u64,
        len: usize,
    },
    /// The LF ending a size line.
    SizeLf {
        value: u64,
    },
    /// Inside a chunk's data.
    Data(u64),
    DataCr,
    DataLf,
    /// In the trailer section after the last chunk: bytes of the current
    /// field line, and the lines so far.
    Trailer {
        len: usize,
        lines: usize,
    },
    /// The LF ending a trailer line (`line` is false for the empty one).
    TrailerLf {
        line: bool,
        lines: usize,
    },
}

/// A chunk extension, or a trailer field line, longer than this breaks the body.
const MAX_CHUNK_LINE: usize = 4096;
/// Trailer fields after the last chunk at most.
const MAX_TRAILERS: usize = 64;

/// The framing of one connection's request stream.
#[derive(Debug)]
pub(crate) struct Framer {
    state: State,
    max_head_bytes: usize,
    max_uri_bytes: usize,
    max_headers: usize,
}

impl Framer {
    pub fn new(limits: &HttpLimits) -> Self {
        Self {
            state: State::Head(HeadScan::default()),
            max_head_bytes: limits.max_head_bytes,
            max_uri_bytes: limits.max_uri_bytes,
            max_headers: limits.max_headers.min(HttpLimits::MAX_HEADERS_CAP),
        }
    }

    /// Between requests: no byte of a head or a body is pending.
    pub fn at_rest(&self) -> bool {
        matches!(&self.state, State::Head(scan) if scan.scanned == 0)
    }

    /// In a body.
    pub fn in_body(&self) -> bool {
        !matches!(self.state, State::Head(_))
    }

    /// Decides about the front of `input`, the bytes not yet passed or
    /// skipped. Call again with the rest after a `Pass` or a `Skip`; after
    /// `More`, call with the same bytes and whatever arrived since.
    pub fn step(&mut self, input: &[u8]) -> Step {
        if input.is_empty() {
            return Step::More;
        }
        match &mut self.state {
            State::Head(scan) => {
                if scan.scanned == 0 {
                    let blank = input
                        .iter()
                        .take_while(|b| matches!(b, b'\r' | b'\n'))
                        .count();
                    if blank > 0 {
                        return Step::Skip(blank);
                    }
                }
                self.head(input)
            }
            State::Length(left) => {
                let n = usize::try_from(*left)
                    .unwrap_or(usize::MAX)
                    .min(input.len());
                *left -= n as u64;
                if *left == 0 {
                    self.state = State::Head(HeadScan::default());
                }
                Step::Pass(n)
            }
            State::Chunked(chunk) => match walk_chunked(chunk, input) {
                Some((n, done)) => {
                    if done {
                        self.state = State::Head(HeadScan::default());
                    }
                    Step::Pass(n)
                }
                None => Step::Broken,
            },
        }
    }

    fn head(&mut self, input: &[u8]) -> Step {
        let State::Head(scan) = &mut self.state else {
            unreachable!("head() is called in the head state");
        };
        let mut end = None;
        for (i, &b) in input.iter().enumerate().skip(scan.scanned) {
            if scan.lines == 0 && !scan.method_done {
                if b == b' ' {
                    if i == 0 {
                        return Step::Refuse(malformed_line());
                    }
                    scan.method_done = true;
                } else if !is_tchar(b) {
                    return Step::Refuse(malformed_line());
                }
            }
            match b {
                b'\n' if scan.line_len == 0 && scan.lines > 0 => {
                    end = Some(i + 1);
                    break;
                }
                b'\n' => {
                    scan.lines += 1;
                    scan.line_len = 0;
                    if scan.lines > self.max_headers + 1 {
                        return Step::Refuse(self.too_many_headers());
                    }
                }
                b'\r' => {}
                _ => scan.line_len += 1,
            }
        }
        let Some(end) = end else {
            scan.scanned = input.len();
            if input.len() > self.max_head_bytes {
                return Step::Refuse(if scan.lines == 0 {
                    self.uri_too_long()
                } else {
                    self.head_too_large()
                });
            }
            return Step::More;
        };
        if end > self.max_head_bytes {
            return Step::Refuse(self.head_too_large());
        }
        match self.check_head(&input[..end]) {
            Ok(next) => {
                self.state = next;
                Step::Pass(end)
            }
            Err(refusal) => Step::Refuse(refusal),
        }
    }

    /// Parses a whole head and decides its body's framing.
    fn check_head(&self, head: &[u8]) -> Result<State, ApiError> {
        // Uninitialised, as hyper's: a zeroed array would cost 8 KiB of
        // writes a request.
        let mut headers = [const { MaybeUninit::uninit() }; HttpLimits::MAX_HEADERS_CAP];
        let mut request = httparse::Request::new(&mut []);
        match request.parse_with_uninit_headers(head, &mut headers[..self.max_headers]) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => {
                return Err(bad("the request head is cut short"));
            }
            Err(httparse::Error::TooManyHeaders) => return Err(self.too_many_headers()),
            // RFC 9110 would have 505 here, and 501 for a transfer coding
            // below: the emulator answers a client's mistake with a 4xx, so
            // that a 5xx always means a bug of the server's.
            Err(httparse::Error::Version) => {
                return Err(bad("only HTTP/1.0 and HTTP/1.1 are served"));
            }
            Err(httparse::Error::HeaderName | httparse::Error::HeaderValue) => {
                return Err(bad("a header field is malformed"));
            }
            Err(_) => return Err(malformed_line()),
        }
        let (Some(method), Some(target), Some(version)) =
            (request.method, request.path, request.version)
        else {
            return Err(malformed_line());
        };
        if target.len() > self.max_uri_bytes {
            return Err(self.uri_too_long());
        }
        if Method::from_bytes(method.as_bytes()).is_err() || Uri::try_from(target).is_err() {
            return Err(malformed_line());
        }
        let http11 = version == 1;
        let mut hosts = 0;
        let mut length: Option<u64> = None;
        let mut codings: Vec<String> = Vec::new();
        for header in request.headers.iter() {
            if header.name.eq_ignore_ascii_case("host") {
                hosts += 1;
                let valid = header.value.is_empty()
                    || std::str::from_utf8(header.value)
                        .ok()
                        .is_some_and(|v| Authority::try_from(v).is_ok());
                if !valid {
                    return Err(bad("the Host header is not a valid host"));
                }
            } else if header.name.eq_ignore_ascii_case("content-length") {
                for value in header.value.split(|&b| b == b',') {
                    let value = parse_length(value)
                        .ok_or_else(|| bad("Content-Length is not a decimal byte count"))?;
                    if length.is_some_and(|seen| seen != value) {
                        return Err(bad("Content-Length is given twice, with two values"));
                    }
                    length = Some(value);
                }
            } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                let value = std::str::from_utf8(header.value)
                    .map_err(|_| bad("Transfer-Encoding is not a list of codings"))?;
                codings.extend(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_ascii_lowercase),
                );
            }
        }
        if http11 && hosts != 1 {
            return Err(bad(if hosts == 0 {
                "an HTTP/1.1 request needs a Host header"
            } else {
                "the Host header is given more than once"
            }));
        }
        if codings.is_empty() {
            return Ok(match length {
                Some(n) if n > 0 => State::Length(n),
                _ => State::Head(HeadScan::default()),
            });
        }
        if !http11 {
            return Err(bad("HTTP/1.0 has no Transfer-Encoding"));
        }
        if length.is_some() {
            return Err(bad(
                "a request with both Content-Length and Transfer-Encoding is ambiguous",
            ));
        }
        match codings.as_slice() {
            [only] if only == "chunked" => Ok(State::Chunked(Chunk::Size {
                digits: 0,
                value: 0,
            })),
            [.., last] if last == "chunked" => Err(bad(
                "no transfer coding but chunked is implemented (gzip, chunked is not)",
            )),
            _ => Err(bad(
                "chunked must be the final transfer coding of a request",
            )),
        }
    }

    fn uri_too_long(&self) -> ApiError {
        ApiError::http_layer(
            StatusCode::URI_TOO_LONG,
            format!(
                "the request target exceeds the limit of {} bytes",
                self.max_uri_bytes
            ),
        )
    }

    fn head_too_large(&self) -> ApiError {
        ApiError::http_layer(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "the request head exceeds the limit of {} bytes",
                self.max_head_bytes
            ),
        )
    }

    fn too_many_headers(&self) -> ApiError {
        ApiError::http_layer(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "the request has more than {} header fields",
                self.max_headers
            ),
        )
    }
}

fn malformed_line() -> ApiError {
    bad("the request line is not METHOD SP TARGET SP HTTP/1.x")
}

/// RFC 9110 §5.6.2: the characters of a token, which a method is.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// One `Content-Length` value: decimal digits only, and small enough that
/// hyper takes it too.
fn parse_length(value: &[u8]) -> Option<u64> {
    let value = value.trim_ascii();
    if value.is_empty() || value.len() > 18 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// Follows a chunked body through `input`: the bytes it may pass and whether
/// the body ended with them, or `None` where the framing breaks.
fn walk_chunked(chunk: &mut Chunk, input: &[u8]) -> Option<(usize, bool)> {
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        *chunk = match *chunk {
            Chunk::Data(left) => {
                let n = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(input.len() - i);
                i += n;
                let left = left - n as u64;
                *chunk = if left == 0 {
                    Chunk::DataCr
                } else {
                    Chunk::Data(left)
                };
                continue;
            }
            Chunk::Size { digits, value } => match hex(b) {
                Some(d) if digits < 16 => Chunk::Size {
                    digits: digits + 1,
                    value: value.checked_mul(16)? | u64::from(d),
                },
                Some(_) => return None,
                None if digits == 0 => return None,
                None => match b {
                    b' ' | b'\t' => Chunk::SizeWs { value },
                    b';' => Chunk::Ext { value, len: 0 },
                    b'\r' => Chunk::SizeLf { value },
                    _ => return None,
                },
            },
            Chunk::SizeWs { value } => match b {
                b' ' | b'\t' => Chunk::SizeWs { value },
                b';' => Chunk::Ext { value, len: 0 },
                b'\r' => Chunk::SizeLf { value },
                _ => return None,
            },
            Chunk::Ext { value, len } => match b {
                b'\r' => Chunk::SizeLf { value },
                b'\n' => return None,
                _ if len >= MAX_CHUNK_LINE => return None,
                _ => Chunk::Ext {
                    value,
                    len: len + 1,
                },
            },
            Chunk::SizeLf { value } => match b {
                b'\n' if value == 0 => Chunk::Trailer { len: 0, lines: 0 },
                b'\n' => Chunk::Data(value),
                _ => return None,
            },
            Chunk::DataCr => match b {
                b'\r' => Chunk::DataLf,
                _ => return None,
            },
            Chunk::DataLf => match b {
                b'\n' => Chunk::Size {
                    digits: 0,
                    value: 0,
                },
                _ => return None,
            },
            Chunk::Trailer { len, lines } => match b {
                b'\r' => Chunk::TrailerLf {
                    line: len > 0,
                    lines,
                },
                b'\n' => return None,
                _ if len >= MAX_CHUNK_LINE => return None,
                _ => Chunk::Trailer {
                    len: len + 1,
                    lines,
                },
            },
            Chunk::TrailerLf { line, lines } => match b {
                b'\n' if !line => return Some((i + 1, true)),
                b'\n' if lines + 1 >= MAX_TRAILERS => return None,
                b'\n' => Chunk::Trailer {
                    len: 0,
                    lines: lines + 1,
                },
                _ => return None,
            },
        };
        i += 1;
    }
    Some((i, false))
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
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
        let cases: [(&[u8], StatusCode); 13] = [
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
}
