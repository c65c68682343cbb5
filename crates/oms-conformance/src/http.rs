//! The harness's HTTP client: the only module that knows reqwest and hyper's client.
//! Every request has a timeout, every response body is read up to a cap (a hostile
//! target may send an endless body), redirects are never followed (a 3xx is
//! reported as is), and every exchange is logged, redacted, for the reports.
//!
//! Request targets that must reach the server byte for byte (percent-encoded `..`
//! and `/`, empty segments) go through hyper's connection API for `http` targets,
//! because reqwest's URL type normalizes dot segments.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use crate::config::{Secret, redacted};

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
#[derive(Debug, Clone, serde::Serialize)]
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
    pub fn new(secrets: Vec<String>) -> Self {
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
        host,
        port,
        prefix: parsed.path().trim_end_matches('/').to_owned(),
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
        let mut headers: Vec<(String, String)> =
            vec![("Content-Type".to_owned(), "application/json".to_owned())];
        let mut logged_headers = headers.clone();
        let mut curl_auth = String::new();
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
        }
        let result = if raw {
            self.send_raw(out, &headers).await
        } else {
            self.send_reqwest(out, &url, &headers).await
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
            .unwrap_or_default();
        let (response, error) = match result {
            Ok(received) => (Some(received), None),
            Err(error) => (None, Some(self.redactor.text(&error))),
        };
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
        url: &str,
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
            let mut builder = hyper::Request::builder()
                .method(method)
                .uri(uri)
                .header("Host", format!("{}:{}", self.base.host, self.base.port));
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
