//! The [`Client`] of one run: every request with a timeout, every body read up
//! to a cap, no redirect followed, each request's headers built as its
//! [`Shape`] sends them, and every exchange logged redacted. The reqwest path
//! is here; the raw (hyper) path is `raw.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::base::{Base, HttpError, Wire, parse_base, url_target};
use super::exchange::{Exchange, Received, chain};
use super::outgoing::{OutHeaders, Shown, authorize, render_curl};
use super::redact::Redactor;
use super::request::{Method, Outgoing, Shape};
use super::resolve::Resolver;

/// The `User-Agent` of every request; signed requests sign it, as the SDKs do.
const USER_AGENT: &str = concat!("oms-conformance/", env!("CARGO_PKG_VERSION"));

/// The `User-Agent` of the SDK-shaped request: the one the v2 known-answer
/// signatures of `oms-v2-api.md` §5.1 were made with.
const SDK_USER_AGENT: &str = "huaweicloud-usdk-python/3.0";
/// The `User-Agent` of the Terraform-shaped request.
const TERRAFORM_USER_AGENT: &str = "terraform-provider-huaweicloud golangsdk";

/// Most body text kept in a logged exchange.
const LOGGED_BODY: usize = 2048;

/// The client of one run.
#[derive(Debug)]
pub struct Client {
    inner: reqwest::Client,
    base_url: String,
    pub(super) base: Base,
    /// The raw path's resolver; reqwest's connector holds a clone of it.
    pub(super) resolver: Resolver,
    pub(super) timeout: Duration,
    body_cap: usize,
    redactor: Arc<Redactor>,
    seq: AtomicU64,
}

impl Client {
    /// A client that resolves names with the system's configuration
    /// (`/etc/resolv.conf`, `/etc/hosts`), in-process.
    pub fn new(
        base_url: &str,
        timeout: Duration,
        body_cap: usize,
        redactor: Arc<Redactor>,
    ) -> Result<Self, HttpError> {
        Self::with_resolver(base_url, timeout, body_cap, redactor, Resolver::system())
    }

    /// A client whose every connection resolves its host through `resolver`.
    /// The timeout covers each exchange whole, the look-up included (reqwest's
    /// total timeout; the raw path's own deadline).
    pub fn with_resolver(
        base_url: &str,
        timeout: Duration,
        body_cap: usize,
        redactor: Arc<Redactor>,
        resolver: Resolver,
    ) -> Result<Self, HttpError> {
        let base = parse_base(base_url)?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(resolver.clone()))
            .timeout(timeout)
            .connect_timeout(timeout);
        if base.host == "127.0.0.1" || base.host == "localhost" || base.host == "[::1]" {
            // A proxy from the environment must not capture loopback traffic.
            builder = builder.no_proxy();
        }
        Ok(Self {
            inner: builder.build().map_err(HttpError::Build)?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            base,
            resolver,
            timeout,
            body_cap,
            redactor,
            seq: AtomicU64::new(0),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends one request and returns the logged exchange. Never fails: transport
    /// problems are recorded in [`Exchange::error`].
    pub async fn send(&self, out: &Outgoing) -> Exchange {
        let started = Instant::now();
        let url = format!("{}{}", self.base_url, out.target);
        let raw = out.raw && self.base.scheme == "http";
        let wire = if raw {
            Ok(self.raw_target(&out.target))
        } else {
            url_target(&url)
        };
        let headers = self.headers(out, wire.as_ref().ok());
        let result = match wire {
            Err(error) => Err(error),
            Ok(Wire::Raw(target)) => self.send_raw(out, &target, &headers).await,
            Ok(Wire::Url { url, .. }) => self.send_reqwest(out, url, &headers).await,
        };
        let request_body = out.body.as_deref().map(|b| self.redactor.body(b));
        let curl = render_curl(out, &url, raw, &headers, request_body.as_deref());
        let (response, error) = match result {
            Ok(received) => (Some(received), None),
            Err(error) => (None, Some(self.redactor.text(&error))),
        };
        let (response, error) = hide_echoes(&headers, response, error);
        Exchange {
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            method: out.method,
            url,
            raw,
            request_headers: headers.logged(&self.redactor),
            request_body,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            response,
            error,
            curl,
        }
    }

    /// The request target of a raw request: below the base URL's path, byte for
    /// byte.
    fn raw_target(&self, target: &str) -> Wire {
        Wire::Raw(format!("{}{target}", self.base.prefix))
    }

    /// Every header of the request, the ones its authentication adds last.
    fn headers(&self, out: &Outgoing, wire: Option<&Wire>) -> OutHeaders {
        let mut headers = OutHeaders::default();
        let host = wire.and_then(Wire::host).unwrap_or(&self.base.host_header);
        match out.shape {
            Shape::Kit => {
                headers.push("Content-Type", "application/json", Shown::Plain);
                headers.push("User-Agent", USER_AGENT, Shown::Omitted);
                headers.push("Host", host, Shown::Omitted);
            }
            Shape::Sdk => {
                headers.push("User-Agent", SDK_USER_AGENT, Shown::Plain);
                headers.push("Content-Type", "application/json", Shown::Plain);
                headers.push("Host", host, Shown::Omitted);
            }
            Shape::Terraform => {
                headers.push("User-Agent", TERRAFORM_USER_AGENT, Shown::Plain);
                headers.push("Accept", "application/json", Shown::Plain);
                headers.push("Host", host, Shown::Omitted);
            }
        }
        authorize(&mut headers, out, wire.map(Wire::target));
        // What the SDK's HTTP library adds after the SDK has signed: not signed.
        if out.shape == Shape::Sdk {
            headers.push("Accept", "*/*", Shown::Plain);
            if out.body.as_ref().is_none_or(Vec::is_empty) {
                headers.push("Content-Length", "0", Shown::Plain);
            }
        }
        headers
    }

    async fn send_reqwest(
        &self,
        out: &Outgoing,
        url: reqwest::Url,
        headers: &OutHeaders,
    ) -> Result<Received, String> {
        let mut request = self.inner.request(wire_method(out.method), url);
        for (name, value) in headers.wire() {
            request = request.header(name, value);
        }
        // An empty body is sent as none: what a client that has no body sends.
        if let Some(body) = out.body.as_ref().filter(|b| !b.is_empty()) {
            request = request.body(body.clone());
        }
        let mut response = request.send().await.map_err(|e| describe_reqwest(&e))?;
        let status = response.status().as_u16();
        let headers = header_pairs(response.headers());
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await.map_err(|e| describe_reqwest(&e))? {
            if self.append_capped(&mut body, &chunk) {
                truncated = true;
                break;
            }
        }
        Ok(self.received(status, headers, body, truncated))
    }

    /// Appends up to the cap; `true` when the cap was reached.
    pub(super) fn append_capped(&self, body: &mut Vec<u8>, chunk: &[u8]) -> bool {
        let room = self.body_cap.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        chunk.len() > room
    }

    pub(super) fn received(
        &self,
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        truncated: bool,
    ) -> Received {
        let json = if truncated {
            None
        } else {
            serde_json::from_slice(&body).ok()
        };
        let mut text = self.redactor.body(&body);
        if text.len() > LOGGED_BODY {
            let mut cut = LOGGED_BODY;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        Received {
            status,
            headers: headers
                .into_iter()
                .map(|(n, v)| {
                    let v = self.redactor.text(&v);
                    (n, v)
                })
                .collect(),
            body: text,
            body_len: body.len(),
            body_truncated: truncated,
            json,
        }
    }
}

/// The method as both paths send it: reqwest's and hyper's are the `http`
/// crate's.
pub(super) fn wire_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Delete => reqwest::Method::DELETE,
    }
}

/// The answer and the transport error of an exchange with every value of the
/// request that its log must not show replaced: a target that echoes the request
/// must not put its signature in the logs.
fn hide_echoes(
    headers: &OutHeaders,
    mut response: Option<Received>,
    mut error: Option<String>,
) -> (Option<Received>, Option<String>) {
    if let Some(received) = &mut response {
        headers.hide_in(&mut received.body);
        received
            .headers
            .iter_mut()
            .for_each(|(_, v)| headers.hide_in(v));
    }
    if let Some(error) = &mut error {
        headers.hide_in(error);
    }
    (response, error)
}

/// The headers of an answer, values as lossy UTF-8; reqwest and hyper share the
/// `http` crate's map.
pub(super) fn header_pairs(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn describe_reqwest(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else if error.is_body() || error.is_decode() {
        "broken body"
    } else {
        "request failed"
    };
    format!("{kind}: {}", chain(error))
}

/// Whether anything at `base_url` answers an HTTP request within `timeout`,
/// whatever the status: the readiness probe of a container target. Its URL is
/// always a mapped port on `127.0.0.1`, so it resolves no name. Were it given
/// one, reqwest's own hickory resolver (its `hickory-dns` feature) would look
/// it up in-process, but asking for both address families at once, unlike the
/// client's [`Resolver`] (see its `STRATEGY`): give it the client's resolver
/// before pointing it at a name.
pub async fn answers(base_url: &str, timeout: Duration) -> bool {
    let Ok(client) = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .build()
    else {
        return false;
    };
    client
        .get(format!("{}/", base_url.trim_end_matches('/')))
        .send()
        .await
        .is_ok()
}
