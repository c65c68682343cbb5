//! What the client reports of one request: the answer as [`Received`] (headers,
//! the body redacted and cut for the reports, the parsed JSON kept only to judge
//! it) and the whole logged [`Exchange`], which never holds a token, AK, SK or
//! signature.

use std::fmt;

use super::request::Method;

/// What came back.
#[derive(Clone, serde::Serialize)]
pub struct Received {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8), redacted and cut for the reports.
    pub body: String,
    /// Body bytes received (up to the cap).
    pub body_len: usize,
    /// The body reached the cap and was not read further.
    pub body_truncated: bool,
    /// The body parsed as JSON, if it did.
    #[serde(skip)]
    pub json: Option<serde_json::Value>,
}

impl fmt::Debug for Received {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The parsed body is left out: it is the unredacted answer, kept only to
        // judge it, and a target may echo credentials in it.
        f.debug_struct("Received")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .field("body_len", &self.body_len)
            .field("body_truncated", &self.body_truncated)
            .finish_non_exhaustive()
    }
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `error_code` of a JSON error body, if there is one.
    pub fn error_code(&self) -> Option<&str> {
        self.json.as_ref()?.get("error_code")?.as_str()
    }
}

/// A logged request and its outcome, redacted: no token, AK or SK appears here.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Exchange {
    pub seq: u64,
    pub method: Method,
    pub url: String,
    pub raw: bool,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    pub elapsed_ms: u64,
    pub response: Option<Received>,
    /// Transport failure (timeout, refused connection, broken answer).
    pub error: Option<String>,
    /// A `curl` command that repeats the request (tokens read from the environment).
    pub curl: String,
}

impl Exchange {
    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }

    /// `STATUS` or `STATUS CODE`, or `transport error`.
    pub fn observed(&self) -> String {
        match &self.response {
            Some(r) => match r.error_code() {
                Some(code) => format!("{} {code}", r.status),
                None => r.status.to_string(),
            },
            None => "transport error".to_owned(),
        }
    }

    /// A few lines for a failure message.
    pub fn render(&self) -> String {
        let mut out = format!(
            "  > {} {}{}\n",
            self.method.as_str(),
            self.url,
            if self.raw { " (raw)" } else { "" }
        );
        for (name, value) in &self.request_headers {
            out.push_str(&format!("  > {name}: {value}\n"));
        }
        if let Some(body) = &self.request_body {
            out.push_str(&format!("  > {body}\n"));
        }
        match (&self.response, &self.error) {
            (Some(r), _) => {
                out.push_str(&format!("  < {}\n", r.status));
                for (name, value) in &r.headers {
                    out.push_str(&format!("  < {name}: {value}\n"));
                }
                if !r.body.is_empty() {
                    out.push_str(&format!("  < {}\n", r.body));
                }
            }
            (None, Some(error)) => out.push_str(&format!("  ! {error}\n")),
            (None, None) => {}
        }
        out
    }
}

/// An error and its causes on one line.
pub(super) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
