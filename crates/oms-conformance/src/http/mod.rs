//! The harness's HTTP client: the only module that knows reqwest and hyper's client.
//! Every request has a timeout, every response body is read up to a cap (a hostile
//! target may send an endless body), redirects are never followed (a 3xx is
//! reported as is), and every exchange is logged, redacted, for the reports.
//!
//! A project with an AK/SK signs each request here, once its wire form is
//! final (path and query as they go out, `Host`, body), with `crate::signing`;
//! the log shows that a request was signed, never the signature.
//!
//! Request targets that must reach the server byte for byte (percent-encoded `..`
//! and `/`, empty segments) go through hyper's connection API for `http` targets,
//! because reqwest's URL type normalizes dot segments.
//!
//! Host names are resolved in-process, by one resolver per client that both
//! paths share (`resolve`): the harness must reach `http://oms:8080` from a
//! static binary in a `scratch` image, whatever the C library it was linked
//! with can resolve there.
//!
//! `exchange` holds what is logged of each request and its answer; `outgoing`
//! builds each request's headers from one list and shows them (in the
//! log, in the `curl` line); `raw` is the hyper path; `resolve` the names.

mod exchange;
mod outgoing;
mod raw;
mod resolve;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use self::exchange::{Exchange, Received};
use self::outgoing::{OutHeaders, Shown, authorize, render_curl};
pub use self::resolve::{ResolveError, Resolver};
use crate::secret::{Secret, redacted};

/// The `User-Agent` of every request; signed requests sign it, as the SDKs do.
const USER_AGENT: &str = concat!("oms-conformance/", env!("CARGO_PKG_VERSION"));

/// An HTTP method the harness sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Method {
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "DELETE")]
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }
}

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    /// A project token; `env` names the variable a reproducing `curl` reads it from.
    Token {
        token: Secret,
        env: &'static str,
    },
    /// Literal headers that are not secrets (a deliberately bad token or signature).
    Headers(Vec<(String, String)>),
    /// An SDK-HMAC-SHA256 signature, made when the request is sent.
    Signed(Signing),
}

/// How to sign a request, and what to get deliberately wrong.
#[derive(Debug, Clone)]
pub struct Signing {
    pub ak: Secret,
    pub sk: Secret,
    pub security_token: Option<Secret>,
    /// Sent as `X-Project-Id` and signed, as the Python SDK does.
    pub project_id: String,
    /// Whose key it is, for the reproducing `curl` line ("the first project's AK/SK").
    pub whose: String,
    /// Seconds added to the clock for `X-Sdk-Date` (a deliberately skewed date).
    pub clock_offset: i64,
    /// Change the signature after signing (a deliberately tampered request).
    pub tamper: bool,
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: Method,
    /// Path and query below the base URL, exactly as it goes on the wire.
    pub target: String,
    pub auth: Auth,
    pub body: Option<Vec<u8>>,
    /// Send the request target unnormalized (hyper) where the scheme allows.
    pub raw: bool,
    /// Whose request it looks like: the kit's own, or a real client's.
    pub shape: Shape,
}

/// The headers a request goes out with, as a given client sends them
/// (`oms-v2-api.md` §5.1, §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// The kit's own: `Content-Type: application/json`, every header signed.
    #[default]
    Kit,
    /// The Python SDK's: its `User-Agent`, `Accept`, `Content-Type:
    /// application/json`, `X-Project-Id` signed with the rest, and an explicit
    /// `Content-Length: 0` on a request without a body.
    Sdk,
    /// The Terraform provider's (golangsdk): no `Content-Type` and no
    /// `Content-Length` on a request without a body, `Accept:
    /// application/json`, and `X-Project-Id` set after signing, so unsigned.
    Terraform,
}

/// The `User-Agent` of the SDK-shaped request: the one the v2 known-answer
/// signatures of `oms-v2-api.md` §5.1 were made with.
const SDK_USER_AGENT: &str = "huaweicloud-usdk-python/3.0";
/// The `User-Agent` of the Terraform-shaped request.
const TERRAFORM_USER_AGENT: &str = "terraform-provider-huaweicloud golangsdk";

/// The client could not be built or the target URL is unusable.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("bad target URL {url}: {message}")]
    BadUrl { url: String, message: String },
    #[error("cannot build the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

/// Replaces known secret values in text, and secret JSON fields in bodies.
#[derive(Debug, Default)]
pub struct Redactor {
    secrets: Vec<Secret>,
}

impl Redactor {
    pub fn new(mut secrets: Vec<String>) -> Self {
        // Longest first, so that a secret that contains another (an AK `DUMMYAKB`
        // beside `DUMMYAK`) is hidden whole, not left with a tail.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self {
            secrets: secrets.into_iter().map(Secret::new).collect(),
        }
    }

    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.expose()) {
                out = out.replace(secret.expose(), "***");
            }
        }
        out
    }

    fn body(&self, bytes: &[u8]) -> String {
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(value) => self.text(&redacted(&value).to_string()),
            Err(_) => self.text(&String::from_utf8_lossy(bytes)),
        }
    }
}

/// Most body text kept in a logged exchange.
const LOGGED_BODY: usize = 2048;

#[derive(Debug)]
struct Base {
    scheme: String,
    host: String,
    port: u16,
    /// The `Host` header: the host, and the port when the URL gives one.
    host_header: String,
    /// Path prefix of the base URL, without a trailing slash.
    prefix: String,
}

/// Where a request goes, as it goes on the wire.
enum Wire {
    /// The request target byte for byte, through hyper's connection API.
    Raw(String),
    /// Through reqwest, to the URL as its type normalized it.
    Url {
        url: reqwest::Url,
        /// Path and query of `url`.
        target: String,
        /// The `Host` header of `url`.
        host: String,
    },
}

impl Wire {
    fn target(&self) -> &str {
        match self {
            Self::Raw(target) | Self::Url { target, .. } => target,
        }
    }

    /// The `Host` header, when it is not the base URL's.
    fn host(&self) -> Option<&str> {
        match self {
            Self::Raw(_) => None,
            Self::Url { host, .. } => Some(host),
        }
    }
}

/// The client of one run.
#[derive(Debug)]
pub struct Client {
    inner: reqwest::Client,
    base_url: String,
    base: Base,
    /// The raw path's resolver; reqwest's connector holds a clone of it.
    resolver: Resolver,
    timeout: Duration,
    body_cap: usize,
    redactor: Arc<Redactor>,
    seq: AtomicU64,
}

/// Parses a base URL: `http` or `https`, a host, no credentials, no query or
/// fragment.
pub fn check_base_url(url: &str) -> Result<(), HttpError> {
    parse_base(url).map(|_| ())
}

fn parse_base(url: &str) -> Result<Base, HttpError> {
    let bad = |message: &str| HttpError::BadUrl {
        url: without_userinfo(url),
        message: message.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    // The base URL is printed, logged and written into every report, so it
    // must never carry a secret; the credentials have their own channels.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "a base URL carries no credentials (user:password@): give them in the profile or the environment",
        ));
    }
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("a base URL has no query or fragment"));
    }
    let host = parsed.host_str().ok_or_else(|| bad("no host"))?.to_owned();
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| bad("no port"))?;
    Ok(Base {
        scheme: parsed.scheme().to_owned(),
        host_header: host_header(&parsed).ok_or_else(|| bad("no host"))?,
        host,
        port,
        prefix: parsed.path().trim_end_matches('/').to_owned(),
    })
}

/// `url` with whatever stands between `://` and an `@` of its authority
/// replaced by `***`, so a refusal never echoes a password, even of a URL
/// that does not parse.
fn without_userinfo(url: &str) -> String {
    let Some(start) = url.find("://").map(|at| at + 3) else {
        return url.to_owned();
    };
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |at| start + at);
    match url[start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

/// `host[:port]` of a URL, the port only when it is not the scheme's default:
/// what hyper would send, set explicitly so that a signature covers it.
fn host_header(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
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
        let method = match out.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut request = self.inner.request(method, url);
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
    fn append_capped(&self, body: &mut Vec<u8>, chunk: &[u8]) -> bool {
        let room = self.body_cap.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        chunk.len() > room
    }

    fn received(
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

/// The request target of `url` as reqwest's URL type normalizes it, which is
/// what goes on the wire and what a signature covers.
fn url_target(url: &str) -> Result<Wire, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("bad request URL {url}: {e}"))?;
    let target = match parsed.query() {
        Some(query) => format!("{}?{query}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    let host = host_header(&parsed).unwrap_or_default();
    Ok(Wire::Url {
        url: parsed,
        target,
        host,
    })
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
fn header_pairs(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
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

/// An error and its causes on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_secret_values_and_fields() {
        let redactor = Redactor::new(vec!["dev-token-a".to_owned()]);
        assert_eq!(redactor.text("token dev-token-a here"), "token *** here");
        let body = br#"{"src_node":{"ak":"AKVALUE","bucket":"b"},"source_sk":"x"}"#;
        let text = redactor.body(body);
        assert!(!text.contains("AKVALUE"), "{text}");
        assert!(text.contains(r#""bucket":"b""#), "{text}");
        assert!(text.contains(r#""source_sk":"***""#), "{text}");
    }

    #[test]
    fn base_urls_are_checked() {
        assert!(check_base_url("http://127.0.0.1:8080").is_ok());
        assert!(check_base_url("https://oms.example/gw").is_ok());
        assert!(check_base_url("ftp://x").is_err());
        assert!(check_base_url("not a url").is_err());
        assert!(check_base_url("http://h/?q=1").is_err());
    }

    #[test]
    fn a_base_url_with_credentials_is_refused_without_echoing_them() {
        for url in [
            "http://user:hunter2@oms.example:8080/gw",
            "https://hunter2@oms.example",
            "http://user:hunter2@",
            "ftp://user:hunter2@oms.example/a@b",
        ] {
            let message = check_base_url(url)
                .expect_err("credentials in a base URL")
                .to_string();
            assert!(!message.contains("hunter2"), "{url}: {message}");
            assert!(message.contains("***@"), "{url}: {message}");
        }
        assert_eq!(
            without_userinfo("http://oms.example/a@b"),
            "http://oms.example/a@b"
        );
    }
}
