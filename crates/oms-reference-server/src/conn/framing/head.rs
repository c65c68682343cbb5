//! The head of a request: scanned as its bytes arrive, so a limit refuses as
//! soon as it is passed, then parsed whole (with httparse, as hyper does) and
//! checked, which decides how its body is framed. Each refusal is the OMS
//! error body the connection writes itself.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use axum::http::{Method, StatusCode, Uri, uri::Authority};

use super::chunked::Chunk;
use super::{Framer, HeadScan, State, Step};
use crate::config::HttpLimits;
use crate::error::ApiError;

/// A 400 of the HTTP layer.
fn bad(message: impl Into<Cow<'static, str>>) -> ApiError {
    ApiError::http_layer(StatusCode::BAD_REQUEST, message)
}

impl Framer {
    /// Scans the head at the front of `input` from where the last call
    /// stopped, refusing as soon as a limit is passed, and checks it once
    /// it is whole.
    pub(super) fn head(&mut self, input: &[u8]) -> Step {
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
    pub(super) fn check_head(&self, head: &[u8]) -> Result<State, ApiError> {
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
                // One count a field line, as hyper reads it: hyper refuses a
                // list (`2, 2`, which RFC 9110 §8.6 lets a recipient refuse)
                // with a bare 400 of its own, so it is refused here first.
                // The same count on two lines hyper takes, and so does this.
                if header.value.contains(&b',') {
                    return Err(bad("Content-Length is a list, not one byte count"));
                }
                let value = parse_length(header.value)
                    .ok_or_else(|| bad("Content-Length is not a decimal byte count"))?;
                if length.is_some_and(|seen| seen != value) {
                    return Err(bad("Content-Length is given twice, with two values"));
                }
                length = Some(value);
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
