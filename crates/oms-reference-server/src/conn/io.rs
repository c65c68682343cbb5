//! The socket as hyper sees it: reads go through the [`Framer`], so hyper
//! only ever gets heads that passed every check, and the connection's
//! [`Track`] follows each request's phase.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Sleep, sleep};

use super::framing::{Framer, Step};
use super::track::{Phase, Track};
use crate::config::HttpLimits;
use crate::error::ApiError;

/// Room for a whole head at its limit and a read beyond it.
const READ_ROOM: usize = 4096;

/// A connection's socket with its framing. The buffer holds bytes read and
/// not yet handed on: `[start, start + ready)` passed the framing,
/// `[start + ready, end)` await a decision. It grows to at most the head
/// limit plus [`READ_ROOM`], the most one connection ever buffers here.
#[derive(Debug)]
pub(crate) struct FramedIo {
    stream: TcpStream,
    framer: Framer,
    buf: Vec<u8>,
    start: usize,
    ready: usize,
    end: usize,
    capacity: usize,
    /// hyper reads end of stream from here on.
    eof: bool,
    /// The head that was refused, to be answered once hyper is done.
    refusal: Option<ApiError>,
    /// Bytes were written and not yet flushed.
    unflushed: bool,
    track: Arc<Track>,
    body_timeout: Duration,
    /// While a body is arriving: when it must have arrived.
    body_deadline: Option<Pin<Box<Sleep>>>,
    /// A body did not arrive within the body timeout: its reader was told so.
    body_timed_out: bool,
}

impl FramedIo {
    pub fn new(stream: TcpStream, limits: &HttpLimits, track: Arc<Track>) -> Self {
        Self {
            stream,
            framer: Framer::new(limits),
            buf: Vec::new(),
            start: 0,
            ready: 0,
            end: 0,
            capacity: limits.max_head_bytes + READ_ROOM,
            eof: false,
            refusal: None,
            unflushed: false,
            track,
            body_timeout: limits.body_timeout,
            body_deadline: None,
            body_timed_out: false,
        }
    }

    /// Whether a body did not arrive in time (and its reader got an error
    /// of kind `TimedOut`, which the route answers with 408).
    pub fn body_timed_out(&self) -> bool {
        self.body_timed_out
    }

    /// The refused head's answer, if a head was refused.
    pub fn take_refusal(&mut self) -> Option<ApiError> {
        self.refusal.take()
    }

    /// Whether everything hyper wrote has been flushed, so an answer of our
    /// own cannot land inside one of its.
    pub fn flushed(&self) -> bool {
        !self.unflushed
    }

    /// Whether part of a request head has arrived and not been passed on.
    pub fn head_begun(&self) -> bool {
        !self.framer.in_body() && (self.end > self.start + self.ready || !self.framer.at_rest())
    }

    pub fn into_stream(self) -> TcpStream {
        self.stream
    }

    fn sync_phase(&mut self, head_passed: bool) {
        let phase = if self.framer.in_body() {
            Phase::Body
        } else if self.head_begun() {
            Phase::Head
        } else {
            Phase::Waiting
        };
        if phase != Phase::Body {
            self.body_deadline = None;
        } else if head_passed || self.body_deadline.is_none() {
            self.body_deadline = Some(Box::pin(sleep(self.body_timeout)));
        }
        self.track.set_phase(phase, head_passed);
    }

    /// Whether the body being read is past its deadline. Then its read fails
    /// with `TimedOut`: hyper hands the error to the body's reader, the route
    /// answers 408, and hyper writes that answer and closes, as it does after
    /// any body that ended early. (Closing instead, as the connection's own
    /// deadline would, leaves the client with no answer at all.)
    fn body_late(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.body_deadline.as_mut() else {
            return false;
        };
        if deadline.as_mut().poll(cx).is_pending() {
            return false;
        }
        self.body_deadline = None;
        self.body_timed_out = true;
        self.eof = true;
        true
    }

    /// Makes room to read into: moves undecided bytes to the front, or grows
    /// the buffer up to its capacity.
    fn room(&mut self) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end < self.buf.len() {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() && self.buf.len() < self.capacity {
            let grown = (self.buf.len() * 2).clamp(READ_ROOM, self.capacity);
            self.buf.resize(grown, 0);
        }
    }
}

impl hyper::rt::Read for FramedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut out: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.ready > 0 {
                let n = this.ready.min(out.remaining());
                out.put_slice(&this.buf[this.start..this.start + n]);
                this.start += n;
                this.ready -= n;
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                // The end of the stream waits until hyper has begun every
                // request it was given, or it would drop the pipelined ones;
                // inside a body it comes at once, for that body's reader.
                return if this.framer.in_body() || this.track.all_answered(cx.waker()) {
                    Poll::Ready(Ok(()))
                } else {
                    Poll::Pending
                };
            }
            let was_head = !this.framer.in_body();
            match this.framer.step(&this.buf[this.start..this.end]) {
                Step::Pass(n) => {
                    this.ready = n;
                    this.sync_phase(was_head);
                    continue;
                }
                Step::Skip(n) => {
                    // Blank lines between requests are no head: a client
                    // that sends them is idle, not slow.
                    this.start += n;
                    this.sync_phase(false);
                    continue;
                }
                Step::Refuse(refusal) => {
                    this.refusal = Some(refusal);
                    this.eof = true;
                    continue;
                }
                Step::Broken => {
                    this.eof = true;
                    continue;
                }
                Step::More => {}
            }
            if this.framer.in_body() && this.body_late(cx) {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the request body did not arrive within {} ms",
                        this.body_timeout.as_millis()
                    ),
                )));
            }
            this.room();
            let mut read = ReadBuf::new(&mut this.buf[this.end..]);
            ready!(Pin::new(&mut this.stream).poll_read(cx, &mut read))?;
            let n = read.filled().len();
            if n == 0 {
                this.eof = true;
                continue;
            }
            this.end += n;
            this.sync_phase(false);
        }
    }
}

impl hyper::rt::Write for FramedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.unflushed = true;
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.unflushed = true;
        Pin::new(&mut this.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.stream).poll_flush(cx))?;
        this.unflushed = false;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
