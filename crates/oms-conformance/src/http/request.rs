//! What a request is before it goes out: its [`Method`], how it authenticates
//! ([`Auth`], a [`Signing`] with what to get deliberately wrong), whose
//! request it looks like ([`Shape`]), and the whole [`Outgoing`] request.

use crate::secret::Secret;

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
