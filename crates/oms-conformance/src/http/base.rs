//! Where a request goes: the base URL of a run, checked once (`http` or
//! `https`, a host, no credentials, no query or fragment; a refusal never
//! echoes a password), and the [`Wire`] form of each request, byte for byte
//! or as reqwest's URL type normalizes it.

/// The client could not be built or the target URL is unusable.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("bad target URL {url}: {message}")]
    BadUrl { url: String, message: String },
    #[error("cannot build the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

#[derive(Debug)]
pub(super) struct Base {
    pub(super) scheme: String,
    pub(super) host: String,
    pub(super) port: u16,
    /// The `Host` header: the host, and the port when the URL gives one.
    pub(super) host_header: String,
    /// Path prefix of the base URL, without a trailing slash.
    pub(super) prefix: String,
}

/// Where a request goes, as it goes on the wire.
pub(super) enum Wire {
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
    pub(super) fn target(&self) -> &str {
        match self {
            Self::Raw(target) | Self::Url { target, .. } => target,
        }
    }

    /// The `Host` header, when it is not the base URL's.
    pub(super) fn host(&self) -> Option<&str> {
        match self {
            Self::Raw(_) => None,
            Self::Url { host, .. } => Some(host),
        }
    }
}

/// Parses a base URL: `http` or `https`, a host, no credentials, no query or
/// fragment.
pub fn check_base_url(url: &str) -> Result<(), HttpError> {
    parse_base(url).map(|_| ())
}

pub(super) fn parse_base(url: &str) -> Result<Base, HttpError> {
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

/// The request target of `url` as reqwest's URL type normalizes it, which is
/// what goes on the wire and what a signature covers.
pub(super) fn url_target(url: &str) -> Result<Wire, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
