//! The raw path of the HTTP client: a request target that must reach the server
//! byte for byte (percent-encoded `..` and `/`, empty segments) goes out through
//! hyper's connection API, because reqwest's URL type normalizes dot segments.
//! Only `http` targets take it; the answer is read as capped as on the reqwest
//! path. Its host is resolved by the client's in-process resolver, within the
//! exchange's deadline, and each address is tried in turn.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use super::client::{Client, header_pairs, wire_method};
use super::exchange::Received;
use super::outgoing::OutHeaders;
use super::request::Outgoing;

impl Client {
    /// Sends `out` to the request target `target`, exactly as given, over a
    /// connection of its own, within the client's timeout.
    pub(super) async fn send_raw(
        &self,
        out: &Outgoing,
        target: &str,
        headers: &OutHeaders,
    ) -> Result<Received, String> {
        let exchange = async {
            let stream = self
                .resolver
                .connect(&self.base.host, self.base.port)
                .await?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .map_err(|e| format!("HTTP handshake failed: {e}"))?;
            let driver = tokio::spawn(connection);
            let uri: hyper::Uri = target
                .parse()
                .map_err(|e| format!("request target {target:?} is not valid HTTP: {e}"))?;
            let body = Full::new(Bytes::from(out.body.clone().unwrap_or_default()));
            let mut builder = hyper::Request::builder()
                .method(wire_method(out.method))
                .uri(uri);
            for (name, value) in headers.wire() {
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
            let headers = header_pairs(response.headers());
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
        // The deadline covers the look-up, the connection and the answer.
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "no complete answer within {} ms",
                    self.timeout.as_millis()
                ))
            })
    }
}
