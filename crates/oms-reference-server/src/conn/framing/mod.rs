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
//! Here: the [`Framer`] and its step, which hands the front of the input to
//! the head checks (`head`) or follows the body (a `Content-Length` count
//! here, a chunked body in `chunked`).
//!
//! Pure and synchronous: the unit tests and the proptest drive it with bytes.

mod chunked;
mod head;

use chunked::{Chunk, walk_chunked};

use crate::config::HttpLimits;
use crate::error::ApiError;

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
}

// Last in the file: the tidy test reads a module's imports up to its first test item.
#[cfg(test)]
mod tests;
