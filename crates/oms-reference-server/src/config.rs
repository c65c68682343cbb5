//! The server's typed configuration. `main.rs` builds it from flags and
//! `OMS_*` variables; tests build it directly. Nothing below reads the
//! process environment.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::engine::Limits;
use crate::faults::catalogue::Fault;

/// A credential that must never reach a log, a report or a `Debug` string.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// An `X-Auth-Token` and the one project it is scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBinding {
    pub token: Secret,
    pub project_id: String,
}

/// An access key, its secret, and the one project it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AkSkBinding {
    pub ak: String,
    pub sk: Secret,
    pub project_id: String,
}

/// The development AK/SK pairs used when none are configured, one per
/// development project. Public by design, like [`DEV_TOKENS`]; the first is the
/// pair of the known-answer vectors in `signing.md`.
pub const DEV_AKSK: [(&str, &str, &str); 2] = [
    ("DUMMYAK", "DUMMYSK", "0123456789abcdef0123456789abcdef"),
    ("DUMMYAKB", "DUMMYSKB", "fedcba9876543210fedcba9876543210"),
];

/// The development credentials used when none are configured: two tokens for
/// two projects, so project-isolation rules can run out of the box. They are
/// public by design and printed at start-up; never use them outside a laptop or CI.
pub const DEV_TOKENS: [(&str, &str); 2] = [
    ("dev-token-a", "0123456789abcdef0123456789abcdef"),
    ("dev-token-b", "fedcba9876543210fedcba9876543210"),
];

/// Everything the server needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    pub tokens: Vec<TokenBinding>,
    pub aksk: Vec<AkSkBinding>,
    pub limits: Limits,
    /// Largest accepted request body, in bytes; larger ones get 413.
    pub max_body_bytes: usize,
    pub clock: Arc<dyn Clock>,
    /// The connection layer's limits and deadlines.
    pub http: HttpLimits,
    /// A deliberate bug to inject; `None` is the faithful server. Only a
    /// build with the `faults` feature can inject one: the others refuse a
    /// `Some` when the state is built.
    pub fault: Option<Fault>,
}

impl Config {
    /// The development AK/SK set.
    pub fn dev_aksk() -> Vec<AkSkBinding> {
        DEV_AKSK
            .iter()
            .map(|(ak, sk, project)| AkSkBinding {
                ak: (*ak).to_owned(),
                sk: Secret::new(*sk),
                project_id: (*project).to_owned(),
            })
            .collect()
    }

    /// The development token set.
    pub fn dev_tokens() -> Vec<TokenBinding> {
        DEV_TOKENS
            .iter()
            .map(|(token, project)| TokenBinding {
                token: Secret::new(*token),
                project_id: (*project).to_owned(),
            })
            .collect()
    }
}

impl Default for Config {
    /// Development credentials, default limits, the wall clock.
    fn default() -> Self {
        Self {
            tokens: Self::dev_tokens(),
            aksk: Self::dev_aksk(),
            limits: Limits::default(),
            max_body_bytes: 64 * 1024,
            clock: Arc::new(SystemClock),
            http: HttpLimits::default(),
            fault: None,
        }
    }
}

/// What one client may cost the connection layer, and how long shutdown
/// waits. Every limit is enforced before a request reaches the router, so a
/// slow or hostile client holds at most one connection slot, a bounded
/// buffer and a bounded time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    /// From a connection's accept, or the first byte of a later request's
    /// head, to the end of that head. Past it a connection that sent part of
    /// a head gets 408; one that sent nothing is closed.
    pub head_timeout: Duration,
    /// From the end of a head to the last byte of its body. Past it the
    /// body's reader fails, the route answers 408 and the connection is
    /// closed; one whose route gives no answer within a second more is
    /// closed unanswered.
    pub body_timeout: Duration,
    /// How long a kept-alive connection may wait, idle, for its next request.
    pub idle_timeout: Duration,
    /// After a shutdown signal: how long requests in flight (a head received,
    /// the body still arriving, or the answer being written) may take to
    /// finish before what is left is closed.
    pub drain_timeout: Duration,
    /// Connections served at once. At the cap a new connection takes the
    /// place of the one that has waited longest for a request (idle, or a
    /// head still arriving); if every connection is busy it gets 429.
    pub max_connections: usize,
    /// The largest request head (request line and headers), in bytes.
    pub max_head_bytes: usize,
    /// The longest request target (path and query), in bytes: 414 beyond.
    pub max_uri_bytes: usize,
    /// Header fields per request at most: 431 beyond.
    pub max_headers: usize,
}

impl HttpLimits {
    /// The most header fields a head may be allowed (the parser's array lives on the stack).
    pub const MAX_HEADERS_CAP: usize = 256;
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            head_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(5),
            max_connections: 1024,
            max_head_bytes: 16 * 1024,
            max_uri_bytes: 8 * 1024,
            max_headers: 100,
        }
    }
}
