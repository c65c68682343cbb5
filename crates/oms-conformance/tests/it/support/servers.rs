//! The in-process servers of the tests, each in a runtime of the test's own:
//! the reference server (faithful or with a configuration of the test's), a
//! proxy in front of it that alters one behaviour, and a server that records
//! what it receives; and the requests and canned answers the in-process client
//! tests exchange with them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use oms_conformance::http::{Auth, Method, Outgoing, Shape};

/// A runtime of the test's own, hosting its servers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Starts the reference server with its development credentials.
pub fn reference_server(rt: &tokio::runtime::Runtime) -> SocketAddr {
    reference_server_with(rt, oms_reference_server::Config::default())
}

/// Starts the reference server with `config` on `127.0.0.1:0`, in `rt`, through
/// the harness's own launcher. It serves until `rt` is dropped.
pub fn reference_server_with(
    rt: &tokio::runtime::Runtime,
    config: oms_reference_server::Config,
) -> SocketAddr {
    let server = rt
        .block_on(oms_conformance::embedded::Embedded::start_with(config))
        .expect("the reference server starts");
    let addr = server.addr();
    // Dropping the handle would shut the server down; a task of `rt` keeps it
    // until the runtime itself ends.
    rt.spawn(async move {
        let _server = server;
        std::future::pending::<()>().await;
    });
    addr
}

/// One answer as the proxy sees it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// An alteration of the reference server's behaviour: given the request's method
/// and path and the upstream answer, the answer to send instead.
pub type Alteration = fn(&str, &str, Answer) -> Answer;

/// Serves `handler` on `127.0.0.1:0`, in `rt`, one task per connection.
pub fn serve<F, Fut>(rt: &tokio::runtime::Runtime, handler: F) -> SocketAddr
where
    F: Fn(hyper::Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = hyper::Response<Full<Bytes>>> + Send + 'static,
{
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = handler.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let handler = handler.clone();
                        async move { Ok::<_, std::convert::Infallible>(handler(request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        addr
    })
}

/// The reference server behind a proxy that applies `alter` to every answer,
/// both serving while `rt` lives; the proxy's URL, the target of a negative
/// control.
pub fn altered_reference(rt: &tokio::runtime::Runtime, alter: Alteration) -> String {
    let upstream = reference_server(rt);
    format!("http://{}", altering_proxy(rt, upstream, alter))
}

/// A proxy in front of `upstream` that applies `alter` to every answer.
fn altering_proxy(
    rt: &tokio::runtime::Runtime,
    upstream: SocketAddr,
    alter: Alteration,
) -> SocketAddr {
    serve(rt, move |request: hyper::Request<Incoming>| async move {
        let method = request.method().as_str().to_owned();
        let target = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let answer = forward(upstream, request).await;
        let answer = alter(&method, &target, answer);
        let mut response = hyper::Response::builder().status(answer.status);
        for (name, value) in &answer.headers {
            if !name.eq_ignore_ascii_case("content-length") {
                response = response.header(name, value);
            }
        }
        response
            .body(Full::new(Bytes::from(answer.body)))
            .expect("response")
    })
}

async fn forward(upstream: SocketAddr, request: hyper::Request<Incoming>) -> Answer {
    let (parts, body) = request.into_parts();
    let body = collected(body).await;
    let (parts, body) = send_upstream(upstream, parts, body).await.into_parts();
    let headers = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    Answer {
        status: parts.status.as_u16(),
        headers,
        body: body.to_vec(),
    }
}

/// A body read to its end; empty if reading it failed.
pub async fn collected(body: Incoming) -> Bytes {
    body.collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default()
}

/// Sends one request to `upstream` over a fresh connection; the answer comes
/// back with its body read.
pub async fn send_upstream(
    upstream: SocketAddr,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> hyper::Response<Bytes> {
    let stream = tokio::net::TcpStream::connect(upstream)
        .await
        .expect("upstream");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let response = sender
        .send_request(hyper::Request::from_parts(parts, Full::new(body)))
        .await
        .expect("upstream answers");
    let (parts, body) = response.into_parts();
    let body = collected(body).await;
    hyper::Response::from_parts(parts, body)
}

/// An answer with status `status` and the JSON body `body`.
pub fn json_answer(status: u16, body: &'static [u8]) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body)))
        .expect("answer")
}

/// A request shaped as the harness's own (`Shape::Kit`), with no body, sent on
/// the raw path if `raw`.
pub fn kit_request(method: Method, target: &str, auth: Auth, raw: bool) -> Outgoing {
    Outgoing {
        method,
        target: target.to_owned(),
        auth,
        body: None,
        raw,
        shape: Shape::Kit,
    }
}

/// What a recording server received of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub target: String,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A server that records every request it receives (target and headers) and
/// answers `answer`.
pub fn recording_server(
    rt: &tokio::runtime::Runtime,
    answer: fn() -> hyper::Response<Full<Bytes>>,
) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let addr = serve(rt, move |request: hyper::Request<Incoming>| {
        let log = Arc::clone(&log);
        async move {
            let target = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default();
            let headers = request
                .headers()
                .iter()
                .map(|(n, v)| {
                    let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                    (n.as_str().to_owned(), value)
                })
                .collect();
            log.lock().expect("log").push(Seen { target, headers });
            answer()
        }
    });
    (addr, seen)
}
