//! The one error type of the HTTP layer. Every refusal — validation, state,
//! auth, routing, rejected extractors — becomes an [`ApiError`], which renders
//! the OMS error body `{"error_code","error_msg"}` as `application/json`.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::engine::EngineError;

/// An error answer: status, OMS error code and message. The fields are
/// private: an error is built through a constructor, so the body is always
/// well-formed, and every code the faithful server sends is named below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    /// Gateway errors carry the request id in the body too.
    request_id: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error_code: &'a str,
    error_msg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            request_id: None,
        }
    }

    /// A 400 with any code: for fault injection's codes, which the faithful server never sends.
    pub(crate) fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn invalid_task_id() -> Self {
        Self::bad_request("OMS.0054", "Invalid task ID.")
    }

    pub fn not_found() -> Self {
        Self::bad_request("OMS.1009", "No resources found.")
    }

    pub fn invalid_params(detail: impl std::fmt::Display) -> Self {
        Self::bad_request("OMS.0064", format!("Invalid request parameters: {detail}"))
    }

    pub fn missing_param(detail: impl std::fmt::Display) -> Self {
        Self::bad_request("OMS.1004", format!("Missing required parameter: {detail}"))
    }

    pub fn not_json(detail: impl std::fmt::Display) -> Self {
        Self::bad_request(
            "OMS.1006",
            format!("The request body is not valid JSON: {detail}"),
        )
    }

    pub fn invalid_range(detail: impl std::fmt::Display) -> Self {
        Self::bad_request("OMS.0051", format!("Invalid range: {detail}"))
    }

    pub fn invalid_state() -> Self {
        Self::bad_request(
            "OMS.0052",
            "Invalid state value: expected an integer from 0 to 5.",
        )
    }

    pub fn invalid_status_v2() -> Self {
        Self::bad_request(
            "OMS.0052",
            "Invalid status value: expected an integer from 1 to 7.",
        )
    }

    pub fn invalid_description_v2() -> Self {
        Self::bad_request(
            "OMS.0078",
            "Invalid description: at most 255 characters, none of ^ < > & \" '.",
        )
    }

    pub fn invalid_thread_num() -> Self {
        Self::bad_request(
            "OMS.0059",
            "Invalid thread_num: expected an integer from 0 to 50.",
        )
    }

    pub fn invalid_description() -> Self {
        Self::bad_request(
            "OMS.0078",
            "Invalid description: at most 255 characters, none of < > ( ) \" ' &.",
        )
    }

    pub fn bandwidth(code: &'static str, detail: impl std::fmt::Display) -> Self {
        Self::bad_request(code, format!("Invalid bandwidth policy: {detail}"))
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "OMS.0064",
            format!("The request body exceeds the limit of {limit} bytes."),
        )
    }

    pub fn route_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "APIGW.0101",
            "The API does not exist or has not been published in the environment.",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "APIGW.0101",
            "The API does not support this method.",
        )
    }

    pub fn unauthorized(request_id: String) -> Self {
        Self::gateway_401(
            "APIGW.0301",
            "Incorrect IAM authentication information: the token is missing or not valid.",
            request_id,
        )
    }

    pub fn bad_signature(detail: &'static str, request_id: String) -> Self {
        Self::gateway_401(
            "APIGW.0301",
            format!("Incorrect IAM authentication information: {detail}."),
            request_id,
        )
    }

    pub fn sdk_date_skew(request_id: String) -> Self {
        Self::gateway_401(
            "APIGW.0303",
            "Incorrect app authentication information: X-Sdk-Date is more than 15 minutes off.",
            request_id,
        )
    }

    fn gateway_401(
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
        request_id: String,
    ) -> Self {
        Self {
            request_id: Some(request_id),
            ..Self::new(StatusCode::UNAUTHORIZED, code, message)
        }
    }

    /// A refusal of the HTTP layer, before any route: a malformed or
    /// oversized head, or a body framing the server does not take. The
    /// gateway's code for a bad request (APIG's error-code page: `APIGW.0201`
    /// "API request error", also at 413); like every gateway error, its body
    /// carries the request id (oms-v2-api.md §7).
    pub fn http_layer(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(status, "APIGW.0201", message)
    }

    /// A request head that did not arrive within the head timeout.
    pub fn request_timeout(limit: std::time::Duration) -> Self {
        Self::http_layer(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request head did not arrive within {} ms",
                limit.as_millis()
            ),
        )
    }

    /// A request body that did not arrive within the body timeout: the
    /// connection layer fails its read with an error of kind `TimedOut`
    /// (`conn/io.rs`), which whoever reads the body finds here. Like the
    /// head's 408, the connection layer's answer, so its body carries the
    /// request id.
    pub fn body_timed_out(
        err: &(dyn std::error::Error + 'static),
        request_id: &str,
    ) -> Option<Self> {
        let mut cause = Some(err);
        while let Some(err) = cause {
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            {
                return Some(Self {
                    request_id: Some(request_id.to_owned()),
                    ..Self::http_layer(StatusCode::REQUEST_TIMEOUT, err.to_string())
                });
            }
            cause = err.source();
        }
        None
    }

    /// A connection over the connection cap, with every connection busy:
    /// the gateway's throttling answer (`APIGW.0308`, 429).
    pub fn too_many_connections(cap: usize) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "APIGW.0308",
            format!(
                "The throttling threshold has been reached: the server holds its cap of {cap} connections, every one busy; try again later."
            ),
        )
    }

    /// The OMS error body, with `request_id` when one is given.
    fn body(&self, request_id: Option<&str>) -> Vec<u8> {
        // Serialising a struct of strings cannot fail.
        serde_json::to_vec(&Body {
            error_code: self.code,
            error_msg: &self.message,
            request_id,
        })
        .unwrap_or_default()
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The whole HTTP/1.1 answer, for the connection layer that writes it
    /// on the socket itself: the OMS error body with the request id in the
    /// body and in `X-Request-Id`, and `Connection: close`.
    pub fn to_http1(&self, request_id: &str) -> Vec<u8> {
        let body = self.body(Some(request_id));
        let retry = if self.status == StatusCode::TOO_MANY_REQUESTS {
            "retry-after: 1\r\n"
        } else {
            ""
        };
        let mut answer = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: {request_id}\r\n{retry}connection: close\r\ndate: {}\r\n\r\n",
            self.status.as_u16(),
            self.status.canonical_reason().unwrap_or("Error"),
            body.len(),
            httpdate::fmt_http_date(std::time::SystemTime::now()),
        )
        .into_bytes();
        answer.extend_from_slice(&body);
        answer
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "OMS.0072",
            "You do not have the required permissions: the credentials belong to another project.",
        )
    }
}

impl From<EngineError> for ApiError {
    fn from(err: EngineError) -> Self {
        match err {
            EngineError::NotFound => Self::not_found(),
            EngineError::Running => Self::bad_request("OMS.0063", "The task is in progress."),
            EngineError::NotRunning => Self::bad_request(
                "OMS.0066",
                "Failed to pause the task. The task is not in progress.",
            ),
            EngineError::AlreadyStarted => {
                Self::bad_request("OMS.0065", "The task has already started.")
            }
            EngineError::Complete => Self::bad_request(
                "OMS.0070",
                "The task is complete. You cannot start or stop it.",
            ),
            EngineError::PolicyOfCompleteTask => Self::bad_request(
                "OMS.0086",
                "Failed to update the bandwidth policy: the task is complete.",
            ),
            EngineError::TooManyWaiting => Self::bad_request(
                "OMS.0077",
                "Too many tasks are waiting to be scheduled; try again later.",
            ),
            EngineError::ProjectFull => Self::bad_request(
                "OMS.0077",
                "The project holds the maximum number of tasks; delete some first.",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let bytes = self.body(self.request_id.as_deref());
        let mut response = (self.status, bytes).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}
