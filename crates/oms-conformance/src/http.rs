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

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use crate::secret::{Secret, redacted};
use crate::signing;

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
}

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

/// The client of one run.
#[derive(Debug)]
pub struct Client {
    inner: reqwest::Client,
    base_url: String,
    base: Base,
    timeout: Duration,
    body_cap: usize,
    redactor: Arc<Redactor>,
    seq: AtomicU64,
}

/// Parses a base URL: `http` or `https`, a host, no query or fragment.
pub fn check_base_url(url: &str) -> Result<(), HttpError> {
    parse_base(url).map(|_| ())
}

fn parse_base(url: &str) -> Result<Base, HttpError> {
    let bad = |message: &str| HttpError::BadUrl {
        url: url.to_owned(),
        message: message.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
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
    pub fn new(
        base_url: &str,
        timeout: Duration,
        body_cap: usize,
        redactor: Arc<Redactor>,
    ) -> Result<Self, HttpError> {
        let base = parse_base(base_url)?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
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
        // The request target as it goes on the wire: byte for byte when raw, else
        // as reqwest's URL type normalizes it (which is what a signature covers).
        let wire = if raw {
            Ok((format!("{}{}", self.base.prefix, out.target), None))
        } else {
            reqwest::Url::parse(&url)
                .map(|parsed| {
                    let target = match parsed.query() {
                        Some(query) => format!("{}?{query}", parsed.path()),
                        None => parsed.path().to_owned(),
                    };
                    let host = host_header(&parsed).unwrap_or_default();
                    (target, Some((parsed, host)))
                })
                .map_err(|e| format!("bad request URL {url}: {e}"))
        };
        let mut headers: Vec<(String, String)> =
            vec![("Content-Type".to_owned(), "application/json".to_owned())];
        let mut logged_headers = headers.clone();
        headers.push(("User-Agent".to_owned(), USER_AGENT.to_owned()));
        let host = match &wire {
            Ok((_, Some((_, host)))) => host.clone(),
            _ => self.base.host_header.clone(),
        };
        headers.push(("Host".to_owned(), host));
        let mut curl_auth = String::new();
        let mut curl_note = String::new();
        let mut signature = None;
        match &out.auth {
            Auth::None => {}
            Auth::Token { token, env } => {
                headers.push(("X-Auth-Token".to_owned(), token.expose().to_owned()));
                logged_headers.push(("X-Auth-Token".to_owned(), "***".to_owned()));
                curl_auth = format!(" -H \"X-Auth-Token: ${env}\"");
            }
            Auth::Headers(extra) => {
                for (name, value) in extra {
                    headers.push((name.clone(), value.clone()));
                    logged_headers.push((name.clone(), self.redactor.text(value)));
                    curl_auth
                        .push_str(&format!(" -H {}", shell_quote(&format!("{name}: {value}"))));
                }
            }
            Auth::Signed(how) => {
                headers.push(("X-Project-Id".to_owned(), how.project_id.clone()));
                logged_headers.push(("X-Project-Id".to_owned(), how.project_id.clone()));
                curl_auth = format!(
                    " -H {}",
                    shell_quote(&format!("X-Project-Id: {}", how.project_id))
                );
                if let Ok((target, _)) = &wire {
                    let signed = sign(how, out, target, &headers);
                    for (name, value) in &signed.headers {
                        headers.push(((*name).to_owned(), value.clone()));
                        logged_headers.push((
                            (*name).to_owned(),
                            logged_signing_header(name, value, &signed),
                        ));
                    }
                    signature = Some(signed.signature);
                }
                curl_note = signed_curl_note(how);
            }
        }
        let result = match wire {
            Err(error) => Err(error),
            Ok(_) if raw => self.send_raw(out, &headers).await,
            Ok((_, Some((parsed, _)))) => self.send_reqwest(out, parsed, &headers).await,
            Ok((_, None)) => unreachable!("a request that is not raw has a parsed URL"),
        };
        let request_body = out.body.as_deref().map(|b| self.redactor.body(b));
        let curl = format!(
            "curl -sS -i{} -X {} {}{}{}",
            if raw { " --path-as-is" } else { "" },
            out.method.as_str(),
            shell_quote(&url),
            " -H 'Content-Type: application/json'",
            curl_auth
        ) + &request_body
            .as_deref()
            .map(|b| format!(" --data {}", shell_quote(b)))
            .unwrap_or_default()
            + &curl_note;
        let (mut response, mut error) = match result {
            Ok(received) => (Some(received), None),
            Err(error) => (None, Some(self.redactor.text(&error))),
        };
        // A target that echoes the request must not put its signature in the logs.
        if let Some(signature) = signature {
            let hide = |text: &mut String| {
                if text.contains(&signature) {
                    *text = text.replace(&signature, "***");
                }
            };
            if let Some(received) = &mut response {
                hide(&mut received.body);
                received.headers.iter_mut().for_each(|(_, v)| hide(v));
            }
            if let Some(error) = &mut error {
                hide(error);
            }
        }
        Exchange {
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            method: out.method,
            url,
            raw,
            request_headers: logged_headers,
            request_body,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            response,
            error,
            curl,
        }
    }

    async fn send_reqwest(
        &self,
        out: &Outgoing,
        url: reqwest::Url,
        headers: &[(String, String)],
    ) -> Result<Received, String> {
        let method = match out.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut request = self.inner.request(method, url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(body) = &out.body {
            request = request.body(body.clone());
        }
        let mut response = request.send().await.map_err(|e| describe_reqwest(&e))?;
        let status = response.status().as_u16();
        let headers = header_pairs(
            response
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_bytes())),
        );
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

    async fn send_raw(
        &self,
        out: &Outgoing,
        headers: &[(String, String)],
    ) -> Result<Received, String> {
        let exchange = async {
            let stream = tokio::net::TcpStream::connect((self.base.host.as_str(), self.base.port))
                .await
                .map_err(|e| {
                    format!(
                        "cannot connect to {}:{}: {e}",
                        self.base.host, self.base.port
                    )
                })?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .map_err(|e| format!("HTTP handshake failed: {e}"))?;
            let driver = tokio::spawn(connection);
            let target = format!("{}{}", self.base.prefix, out.target);
            let uri: hyper::Uri = target
                .parse()
                .map_err(|e| format!("request target {target:?} is not valid HTTP: {e}"))?;
            let method = match out.method {
                Method::Get => hyper::Method::GET,
                Method::Post => hyper::Method::POST,
                Method::Put => hyper::Method::PUT,
                Method::Delete => hyper::Method::DELETE,
            };
            let body = Full::new(Bytes::from(out.body.clone().unwrap_or_default()));
            let mut builder = hyper::Request::builder().method(method).uri(uri);
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            let request = builder
                .body(body)
                .map_err(|e| format!("cannot build the request: {e}"))?;
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| format!("request failed: {e}"))?;
            let status = response.status().as_u16();
            let headers = header_pairs(
                response
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_bytes())),
            );
            let mut incoming = response.into_body();
            let mut body = Vec::new();
            let mut truncated = false;
            while let Some(frame) = incoming.frame().await {
                let frame = frame.map_err(|e| format!("reading the body failed: {e}"))?;
                if let Some(data) = frame.data_ref()
                    && self.append_capped(&mut body, data)
                {
                    truncated = true;
                    break;
                }
            }
            driver.abort();
            Ok(self.received(status, headers, body, truncated))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "no complete answer within {} ms",
                    self.timeout.as_millis()
                ))
            })
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

/// How a header that signing added is logged: the date as it is, the
/// `Authorization` without its key or signature, anything else (the security
/// token) not at all.
fn logged_signing_header(name: &str, value: &str, signed: &signing::Signed) -> String {
    match name {
        "X-Sdk-Date" => value.to_owned(),
        "Authorization" => signing::authorization("***", &signed.signed_headers, "***"),
        _ => "***".to_owned(),
    }
}

/// The end of the `curl` line of a signed request. A signature is bound to its
/// date: repeating the request means signing it anew, so the line says how it
/// was signed instead of showing a signature that has gone stale.
fn signed_curl_note(how: &Signing) -> String {
    let date = match how.clock_offset {
        0 => String::new(),
        ahead @ 1.. => format!(", with an X-Sdk-Date {ahead} s ahead of the clock"),
        behind => format!(
            ", with an X-Sdk-Date {} s behind the clock",
            behind.unsigned_abs()
        ),
    };
    let tampered = if how.tamper {
        ", then tampered with"
    } else {
        ""
    };
    format!(
        "  # add X-Sdk-Date and an SDK-HMAC-SHA256 Authorization signed with {}{date}{tampered}",
        how.whose
    )
}

/// Signs `out`, whose request target on the wire is `target`, with everything in
/// `headers` (which must be every header sent) and the clock.
fn sign(
    how: &Signing,
    out: &Outgoing,
    target: &str,
    headers: &[(String, String)],
) -> signing::Signed {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let date = signing::sdk_date(now.saturating_add_signed(how.clock_offset));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let request = signing::Request {
        method: out.method.as_str(),
        path,
        query,
        headers: &pairs,
        body: out.body.as_deref().unwrap_or_default(),
    };
    let key = signing::Key {
        ak: how.ak.expose(),
        sk: how.sk.expose(),
        security_token: how.security_token.as_ref().map(Secret::expose),
    };
    let mut signed = signing::sign(&request, &date, &key);
    if how.tamper {
        let tampered = signing::tampered(&signed.signature);
        for (name, value) in &mut signed.headers {
            if *name == "Authorization" {
                *value = signing::authorization(key.ak, &signed.signed_headers, &tampered);
            }
        }
        signed.signature = tampered;
    }
    signed
}

fn header_pairs<'a>(headers: impl Iterator<Item = (&'a str, &'a [u8])>) -> Vec<(String, String)> {
    headers
        .map(|(name, value)| (name.to_owned(), String::from_utf8_lossy(value).into_owned()))
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
    let mut message = format!("{kind}: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Whether anything at `base_url` answers an HTTP request within `timeout`,
/// whatever the status: the readiness probe of a container target.
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
}
