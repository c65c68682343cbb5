//! Helpers: running the binary with a deadline, reading its reports, and small
//! hyper servers in a runtime of their own (a reference server, a proxy that
//! alters one behaviour of it, a server that records what it receives).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("oms-conformance-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// What one run of the binary left behind.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub report_dir: PathBuf,
}

impl Ran {
    pub fn results(&self) -> Value {
        let text =
            std::fs::read_to_string(self.report_dir.join("results.json")).unwrap_or_else(|e| {
                panic!(
                    "no results.json ({e}); stdout:\n{}\nstderr:\n{}",
                    self.stdout, self.stderr
                )
            });
        serde_json::from_str(&text).expect("results.json is JSON")
    }

    pub fn rule(&self, id: &str) -> Value {
        self.results()["rules"]
            .as_array()
            .and_then(|rules| rules.iter().find(|r| r["id"] == id).cloned())
            .unwrap_or_else(|| panic!("no rule {id} in results.json"))
    }

    pub fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }

    pub fn explain(&self) -> String {
        format!(
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the binary with `args` (and `--report-dir` in a scratch folder), killing
/// it after 60 s.
pub fn run_binary(name: &str, args: &[&str]) -> Ran {
    run_binary_env(name, args, &[])
}

/// [`run_binary`] with extra environment variables.
pub fn run_binary_env(name: &str, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let dir = scratch(&format!("run-{name}"));
    let report_dir = dir.join("reports");
    let stdout_path = dir.join("stdout");
    let stderr_path = dir.join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_oms-conformance"))
        .args(args)
        .arg("--report-dir")
        .arg(&report_dir)
        .env_remove("CI")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("oms-conformance {args:?} ran past 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ran {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(stdout_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(stderr_path).unwrap_or_default(),
        report_dir,
    }
}

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
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(oms_reference_server::serve(
            listener,
            oms_reference_server::Config::default(),
            std::future::pending(),
        ));
        addr
    })
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

/// Serves `handler` on `127.0.0.1:0`, one task per connection.
fn serve<F, Fut>(rt: &tokio::runtime::Runtime, handler: F) -> SocketAddr
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

/// A proxy in front of `upstream` that applies `alter` to every answer.
pub fn altering_proxy(
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
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let stream = tokio::net::TcpStream::connect(upstream)
        .await
        .expect("upstream");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let request = hyper::Request::from_parts(parts, Full::new(body));
    let response = sender
        .send_request(request)
        .await
        .expect("upstream answers");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    Answer {
        status,
        headers,
        body,
    }
}

/// A server that records every request target it receives and answers `answer`.
pub fn recording_server(
    rt: &tokio::runtime::Runtime,
    answer: fn() -> hyper::Response<Full<Bytes>>,
) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
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
            log.lock().expect("log").push(target);
            answer()
        }
    });
    (addr, seen)
}

/// A profile like the reference one, with `extra` TOML appended to its top level
/// (before any table) and create bodies by absolute path; returns its path.
pub fn profile(dir: &Path, top: &str, tables: &str) -> PathBuf {
    let fixtures = root().join("fixtures/create");
    let text = format!(
        r#"name = "test"
{top}
[first_project]
id = "0123456789abcdef0123456789abcdef"
token = "dev-token-a"

[second_project]
id = "fedcba9876543210fedcba9876543210"
token = "dev-token-b"

[create]
running = "{running}"
succeeding = "{succeeding}"
failing = "{failing}"

{tables}
"#,
        running = fixtures.join("running.json").display(),
        succeeding = fixtures.join("succeeding.json").display(),
        failing = fixtures.join("failing.json").display(),
    );
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).expect("profile");
    path
}
