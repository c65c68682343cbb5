//! What goes out with a request, and how each part of it is shown. Every header
//! is pushed once into [`OutHeaders`], with how it is [`Shown`]; the headers on
//! the wire, the headers in the logged exchange and the `-H` arguments of the
//! reproducing `curl` line all come from that one list. This is where the
//! request side keeps "never log a secret": a token is logged as `***` and read
//! from the environment by the `curl` line, a signature is neither logged nor
//! repeated (it goes stale with its date), and every logged value still passes
//! through the run's [`Redactor`].

use std::time::{SystemTime, UNIX_EPOCH};

use super::redact::Redactor;
use super::request::{Auth, Outgoing, Shape, Signing};
use crate::secret::Secret;
use crate::signing;

/// How one outgoing header appears outside the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Shown {
    /// In the log (through the redactor) and in the `curl` line, as it is.
    Plain,
    /// In the log as `***`; the `curl` line reads it from this environment variable.
    FromEnv(&'static str),
    /// In the log as this text instead of its value, and not in the `curl` line.
    LoggedAs(String),
    /// Neither in the log nor in the `curl` line: what any client sends by itself
    /// (`User-Agent`, `Host`), set here only so that a signature covers it.
    Omitted,
}

#[derive(Debug)]
struct OutHeader {
    name: String,
    value: String,
    shown: Shown,
}

/// Every header of one request, in the order they go out, with how each is shown;
/// and what else of this request must stay out of its log.
#[derive(Debug, Default)]
pub(super) struct OutHeaders {
    headers: Vec<OutHeader>,
    /// Values of this request alone that the log must not show wherever they come
    /// back (a signature, which a target may echo); the run's secrets are the
    /// redactor's.
    hidden: Vec<String>,
    /// Appended to the `curl` line: how to make the headers it leaves out.
    curl_note: String,
}

impl OutHeaders {
    pub(super) fn push(&mut self, name: impl Into<String>, value: impl Into<String>, shown: Shown) {
        self.headers.push(OutHeader {
            name: name.into(),
            value: value.into(),
            shown,
        });
    }

    /// The headers as they go on the wire.
    pub(super) fn wire(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_str()))
    }

    /// The headers as the logged exchange shows them.
    pub(super) fn logged(&self, redactor: &Redactor) -> Vec<(String, String)> {
        self.headers
            .iter()
            .filter_map(|h| {
                let shown = match &h.shown {
                    Shown::Plain => h.value.as_str(),
                    Shown::FromEnv(_) => "***",
                    Shown::LoggedAs(text) => text.as_str(),
                    Shown::Omitted => return None,
                };
                Some((h.name.clone(), redactor.text(shown)))
            })
            .collect()
    }

    /// The `-H` arguments of the `curl` line.
    fn curl_headers(&self) -> String {
        self.headers
            .iter()
            .filter_map(|h| match &h.shown {
                Shown::Plain => Some(format!(
                    " -H {}",
                    shell_quote(&format!("{}: {}", h.name, h.value))
                )),
                Shown::FromEnv(env) => Some(format!(" -H \"{}: ${env}\"", h.name)),
                Shown::LoggedAs(_) | Shown::Omitted => None,
            })
            .collect()
    }

    /// Replaces every value [`OutHeaders::hidden`] holds by `***` in `text`.
    pub(super) fn hide_in(&self, text: &mut String) {
        for value in &self.hidden {
            if text.contains(value.as_str()) {
                *text = text.replace(value.as_str(), "***");
            }
        }
    }
}

/// Adds the headers `out.auth` asks for. `target` is the request target as it
/// goes on the wire, which a signature covers; without one (an unusable URL,
/// so nothing is sent) nothing is signed.
pub(super) fn authorize(headers: &mut OutHeaders, out: &Outgoing, target: Option<&str>) {
    match &out.auth {
        Auth::None => {}
        Auth::Token { token, env } => {
            headers.push("X-Auth-Token", token.expose(), Shown::FromEnv(env));
        }
        Auth::Headers(extra) => {
            for (name, value) in extra {
                headers.push(name.as_str(), value.as_str(), Shown::Plain);
            }
        }
        Auth::Signed(how) => {
            // golangsdk sets `X-Project-Id` after signing: it is sent, not signed.
            let unsigned_project = out.shape == Shape::Terraform;
            if !unsigned_project {
                headers.push("X-Project-Id", how.project_id.as_str(), Shown::Plain);
            }
            if let Some(target) = target {
                let signed = sign(how, out, target, headers);
                for (name, value) in &signed.headers {
                    let logged = logged_signing_header(name, value, &signed);
                    headers.push(*name, value.as_str(), Shown::LoggedAs(logged));
                }
                headers.hidden.push(signed.signature);
            }
            if unsigned_project {
                headers.push("X-Project-Id", how.project_id.as_str(), Shown::Plain);
            }
            headers.curl_note = signed_curl_note(how);
        }
    }
}

/// A `curl` command that repeats the request; `url` is the full request URL and
/// `body` the request body as logged.
pub(super) fn render_curl(
    out: &Outgoing,
    url: &str,
    raw: bool,
    headers: &OutHeaders,
    body: Option<&str>,
) -> String {
    let data = body
        .map(|b| format!(" --data {}", shell_quote(b)))
        .unwrap_or_default();
    format!(
        "curl -sS -i{} -X {} {}{}{data}{}",
        if raw { " --path-as-is" } else { "" },
        out.method.as_str(),
        shell_quote(url),
        headers.curl_headers(),
        headers.curl_note
    )
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

/// Signs `out`, whose request target on the wire is `target`, with every header
/// in `headers` (which must be every header sent) and the clock.
fn sign(how: &Signing, out: &Outgoing, target: &str, headers: &OutHeaders) -> signing::Signed {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let date = signing::sdk_date(now.saturating_add_signed(how.clock_offset));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs: Vec<(&str, &str)> = headers.wire().collect();
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

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::request::Method;

    fn token_request() -> Outgoing {
        Outgoing {
            method: Method::Delete,
            target: "/v1/p/objectstorage/task/1".to_owned(),
            auth: Auth::Token {
                token: Secret::new("the-token"),
                env: "OMS_CONFORMANCE_TOKEN_FIRST",
            },
            body: None,
            raw: false,
            shape: Shape::Kit,
        }
    }

    #[test]
    fn one_list_gives_the_wire_the_log_and_the_curl_line() {
        let out = token_request();
        let mut headers = OutHeaders::default();
        headers.push("Content-Type", "application/json", Shown::Plain);
        headers.push("Host", "h:1", Shown::Omitted);
        authorize(&mut headers, &out, Some(&out.target));
        let wire: Vec<(&str, &str)> = headers.wire().collect();
        assert_eq!(
            wire,
            [
                ("Content-Type", "application/json"),
                ("Host", "h:1"),
                ("X-Auth-Token", "the-token")
            ]
        );
        let logged = headers.logged(&Redactor::default());
        assert_eq!(
            logged,
            [
                ("Content-Type".to_owned(), "application/json".to_owned()),
                ("X-Auth-Token".to_owned(), "***".to_owned())
            ]
        );
        assert_eq!(
            render_curl(&out, "http://h:1/x", false, &headers, None),
            "curl -sS -i -X DELETE 'http://h:1/x' -H 'Content-Type: application/json' \
             -H \"X-Auth-Token: $OMS_CONFORMANCE_TOKEN_FIRST\""
        );
    }

    #[test]
    fn a_signature_is_hidden_wherever_it_comes_back() {
        let out = Outgoing {
            auth: Auth::Signed(Signing {
                ak: Secret::new("AK"),
                sk: Secret::new("SK"),
                security_token: None,
                project_id: "p".to_owned(),
                whose: "the first project's AK/SK".to_owned(),
                clock_offset: 0,
                tamper: false,
            }),
            ..token_request()
        };
        let mut headers = OutHeaders::default();
        authorize(&mut headers, &out, Some(&out.target));
        let (_, authorization) = headers
            .wire()
            .find(|(name, _)| *name == "Authorization")
            .expect("signed");
        let mut echo = format!("you sent {authorization}");
        headers.hide_in(&mut echo);
        assert!(echo.ends_with("Signature=***"), "{echo}");
        let logged = format!("{:?}", headers.logged(&Redactor::default()));
        assert!(
            logged.contains("Access=***") && logged.contains("Signature=***"),
            "{logged}"
        );
        let curl = render_curl(&out, "http://h:1/x", false, &headers, None);
        assert!(!curl.contains("Authorization:"), "{curl}");
    }
}
