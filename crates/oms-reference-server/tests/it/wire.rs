//! Raw HTTP/1.1 over real sockets, for the tests of the connection layer: a
//! server in this process or as a child process, blocking sockets with
//! deadlines, and a reader that takes one answer off a connection.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use oms_reference_server::Config;
use serde_json::Value;

use crate::support::{PROJECT_A, TOKEN_A};

/// One answer read off a connection.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// Header names lower-cased; a repeated header keeps its last value.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// Panics unless this is the OMS error shape: `application/json`
    /// `{"error_code","error_msg"}`, and an `X-Request-Id`.
    pub fn assert_oms_error(&self, status: u16, what: &str) {
        assert_eq!(self.status, status, "{what}: {self:?}");
        assert_eq!(
            self.headers.get("content-type").map(String::as_str),
            Some("application/json"),
            "{what}: {self:?}"
        );
        let id = self.headers.get("x-request-id");
        assert!(
            id.is_some_and(|id| id.len() == 32),
            "{what}: no X-Request-Id: {self:?}"
        );
        let body = self.json();
        for field in ["error_code", "error_msg"] {
            assert!(
                body[field].as_str().is_some_and(|v| !v.is_empty()),
                "{what}: no {field}: {body}"
            );
        }
        if let Some(in_body) = body["request_id"].as_str() {
            assert_eq!(Some(in_body), id.map(String::as_str), "{what}");
        }
    }
}

/// What reading one answer found.
#[derive(Debug)]
pub enum Read1 {
    Answer(Answer),
    /// The connection was closed (or reset) before any byte of an answer.
    Closed,
    /// Nothing within the deadline.
    Silent,
}

/// A client connection: the socket, and what was read past the last answer.
#[derive(Debug)]
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

/// A connection to `addr`.
pub fn connect(addr: SocketAddr) -> Conn {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream.set_nodelay(true).unwrap();
    Conn {
        stream,
        buf: Vec::new(),
    }
}

impl Conn {
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Reads one whole answer (its head, then `Content-Length` bytes of
    /// body) within `within`, past any interim `1xx`. Panics on bytes that
    /// are not an HTTP/1.1 answer.
    pub fn answer(&mut self, within: Duration) -> Read1 {
        let deadline = Instant::now() + within;
        loop {
            if let Some((head_len, status, headers)) = parse_head(&self.buf) {
                if (100..200).contains(&status) {
                    self.buf.drain(..head_len);
                    continue;
                }
                let length: usize = headers
                    .get("content-length")
                    .and_then(|v| v.parse().ok())
                    .expect("every answer of the server has a Content-Length");
                if self.buf.len() >= head_len + length {
                    let body = self.buf[head_len..head_len + length].to_vec();
                    self.buf.drain(..head_len + length);
                    return Read1::Answer(Answer {
                        status,
                        body,
                        headers,
                    });
                }
            }
            match self.read_some(deadline) {
                Some(true) => {}
                Some(false) if self.buf.is_empty() => return Read1::Closed,
                Some(false) => panic!(
                    "the answer was cut: {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
                None => return Read1::Silent,
            }
        }
    }

    /// Reads what arrives by `deadline` into the buffer: `Some(true)` if
    /// bytes came, `Some(false)` at the end of the stream (or a reset),
    /// `None` if nothing came in time.
    fn read_some(&mut self, deadline: Instant) -> Option<bool> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        self.stream.set_read_timeout(Some(left)).unwrap();
        let mut chunk = [0u8; 8192];
        match self.stream.read(&mut chunk) {
            Ok(0) => Some(false),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Some(true)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
            Err(_) => Some(false),
        }
    }

    /// Reads the interim `100 Continue` that a request with `Expect:
    /// 100-continue` gets once the router reads its body: proof that the
    /// head is in the server's hands.
    pub fn read_continue(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while parse_head(&self.buf).is_none() {
            assert_eq!(
                self.read_some(deadline),
                Some(true),
                "no 100 Continue within 10 s"
            );
        }
        let (head_len, status, _) = parse_head(&self.buf).unwrap();
        assert_eq!(status, 100, "{:?}", String::from_utf8_lossy(&self.buf));
        self.buf.drain(..head_len);
    }

    /// Whether the peer closes the connection by `within` (EOF or reset),
    /// reading and dropping whatever answer comes first.
    pub fn closed_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            match self.read_some(deadline) {
                Some(true) => self.buf.clear(),
                Some(false) => return true,
                None => return false,
            }
        }
    }
}

/// The length, status and headers of a whole answer head at the front of
/// `bytes`; panics on bytes that are not an HTTP/1.1 answer.
fn parse_head(bytes: &[u8]) -> Option<(usize, u16, HashMap<String, String>)> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let parsed = response.parse(bytes).unwrap_or_else(|e| {
        panic!(
            "not an HTTP answer ({e}): {:?}",
            String::from_utf8_lossy(bytes)
        )
    });
    let httparse::Status::Complete(head_len) = parsed else {
        return None;
    };
    let headers = response
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    Some((head_len, response.code.unwrap_or(0), headers))
}

/// Sends `request` on a new connection and reads one answer.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Read1 {
    let mut conn = connect(addr);
    conn.send(request);
    conn.answer(Duration::from_secs(10))
}

/// A request any server state answers 200: list project A's tasks.
pub fn list_request() -> String {
    format!(
        "GET /v1/{PROJECT_A}/objectstorage/task?start=0&limit=1 HTTP/1.1\r\nHost: t\r\nX-Auth-Token: {TOKEN_A}\r\n\r\n"
    )
}

/// Polls `check` every 10 ms until it holds or `within` passes.
pub fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// The server in this process, on a real listener on `127.0.0.1` and the wall
/// clock, on its own runtime thread, until [`InProcess::stop`] or drop: for the
/// tests of the connection layer, and for those whose client is another process
/// (the official Python SDK, schemathesis).
pub struct InProcess {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<std::io::Result<()>>>,
}

impl InProcess {
    pub fn start(config: Config) -> Self {
        let (ready, addr) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let _ = ready.send(listener.local_addr()?);
                oms_reference_server::serve(listener, config, async move {
                    // A dropped sender (a panicking test) stops the server too.
                    let _ = stopped.await;
                })
                .await
            })
        });
        let addr = addr
            .recv_timeout(Duration::from_secs(10))
            .expect("the server starts");
        Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts the server down gracefully and fails the test if it failed.
    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            match thread.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("the reference server failed: {e}"),
                Err(_) => panic!("the reference server thread panicked"),
            }
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The server binary as a child process, killed when dropped.
pub struct Spawned {
    child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Spawned {
    /// Starts the binary on an ephemeral port with `args`, and waits (10 s at
    /// most) for its "listening on" line.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_oms-reference-server"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server binary");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = BufReader::new(child.stderr.take().unwrap());
        let kept = stderr.clone();
        thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        let mut spawned = Self {
            child,
            addr: "0.0.0.0:0".parse().unwrap(),
            stderr,
        };
        let found = eventually(Duration::from_secs(10), || {
            spawned.line("listening on http://").is_some()
        });
        assert!(found, "the server did not start:\n{}", spawned.log());
        let line = spawned.line("listening on http://").unwrap();
        spawned.addr = line.rsplit("http://").next().unwrap().parse().unwrap();
        spawned
    }

    /// The first line of its stderr containing `needle`.
    pub fn line(&self, needle: &str) -> Option<String> {
        self.stderr
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains(needle))
            .cloned()
    }

    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the exit, `within` at most; the exit status and how long it took.
    pub fn wait_exit(&mut self, within: Duration) -> Option<(ExitStatus, Duration)> {
        let started = Instant::now();
        let mut status = None;
        eventually(within, || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        status.map(|status| (status, started.elapsed()))
    }

    /// A field of `/proc/PID/status` in KiB (`VmHWM`: the peak resident set).
    pub fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read /proc/PID/status (Linux)");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/PID/status"))
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
