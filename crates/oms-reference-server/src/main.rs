//! `oms-reference-server`: parse flags and `OMS_*` variables into a
//! [`Config`], bind, serve until SIGINT or SIGTERM.

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use oms_reference_server::faults::{self, Fault};
use oms_reference_server::{AkSkBinding, Config, HttpLimits, Limits, Secret, TokenBinding};

/// File descriptors kept free of connections, for the listener, logs and the runtime.
const FD_RESERVE: u64 = 32;

/// The reference implementation of the Huawei Cloud OMS v1 and v2 task APIs, usable as a local emulator.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "OMS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// An X-Auth-Token and the project it is scoped to, as TOKEN=PROJECT_ID; repeatable
    /// (comma-separated in the variable). With no --token and no --aksk, the development sets are used.
    #[arg(long = "token", env = "OMS_TOKENS", value_delimiter = ',', value_parser = parse_token, hide_env_values = true)]
    tokens: Vec<TokenBinding>,

    /// An access key pair and the project it is bound to, as AK:SK=PROJECT_ID; repeatable
    /// (comma-separated in the variable). Requests signed with it (SDK-HMAC-SHA256) are accepted.
    #[arg(long = "aksk", env = "OMS_AKSK", value_delimiter = ',', value_parser = parse_aksk, hide_env_values = true)]
    aksk: Vec<AkSkBinding>,

    /// Largest accepted request body in bytes; larger bodies get 413.
    #[arg(long, env = "OMS_MAX_BODY_BYTES", default_value_t = Config::default().max_body_bytes)]
    max_body_bytes: usize,

    /// MaxParallelTaskNum: tasks running at once per project; the rest wait in status 1.
    #[arg(long, env = "OMS_MAX_PARALLEL_TASKS", default_value_t = Limits::default().max_parallel)]
    max_parallel_tasks: usize,

    /// No new task is accepted while this many wait in a project (OMS.0077).
    #[arg(long, env = "OMS_MAX_WAITING_TASKS", default_value_t = Limits::default().max_waiting)]
    max_waiting_tasks: usize,

    /// Tasks stored per project at most (OMS.0077 beyond).
    #[arg(long, env = "OMS_MAX_TASKS_PER_PROJECT", default_value_t = Limits::default().max_tasks)]
    max_tasks_per_project: usize,

    /// How long a new task stays in status 0 (initializing), in milliseconds.
    #[arg(long, env = "OMS_INIT_MS", default_value_t = Limits::default().init_ms)]
    init_ms: u64,

    /// How long a stopped task stays pausing (status 7 in v2, 2 in v1) before it is stopped,
    /// in milliseconds; 0 stops at once.
    #[arg(long, env = "OMS_PAUSE_MS", default_value_t = Limits::default().pause_ms)]
    pause_ms: u64,

    /// A request head (request line and headers) must arrive within this many
    /// milliseconds of the connection's accept or of its first byte; past it, a
    /// begun head gets 408 and the connection is closed.
    #[arg(long, env = "OMS_HEAD_TIMEOUT_MS", default_value_t = ms(HttpLimits::default().head_timeout), value_parser = clap::value_parser!(u64).range(1..))]
    head_timeout_ms: u64,

    /// A request body must arrive within this many milliseconds of its head;
    /// past it, the connection is closed.
    #[arg(long, env = "OMS_BODY_TIMEOUT_MS", default_value_t = ms(HttpLimits::default().body_timeout), value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout_ms: u64,

    /// A kept-alive connection is closed after this many milliseconds without a request.
    #[arg(long, env = "OMS_IDLE_TIMEOUT_MS", default_value_t = ms(HttpLimits::default().idle_timeout), value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout_ms: u64,

    /// On SIGINT or SIGTERM, requests in flight get this many milliseconds to
    /// finish; then the rest is closed and the server exits 0. A second signal exits at once.
    #[arg(long, env = "OMS_DRAIN_TIMEOUT_MS", default_value_t = ms(HttpLimits::default().drain_timeout))]
    drain_timeout_ms: u64,

    /// Connections served at once [default: 1024, or the file-descriptor limit less 32 if
    /// lower]. At the cap a new connection replaces the one idle longest, or gets 429.
    #[arg(long, env = "OMS_MAX_CONNECTIONS", value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: Option<u64>,

    /// Largest request head (request line and headers) in bytes; 431 beyond.
    #[arg(long, env = "OMS_MAX_HEAD_BYTES", default_value_t = HttpLimits::default().max_head_bytes as u64, value_parser = clap::value_parser!(u64).range(1024..=1_048_576))]
    max_head_bytes: u64,

    /// Longest request target (path and query) in bytes; 414 beyond.
    #[arg(long, env = "OMS_MAX_URI_BYTES", default_value_t = HttpLimits::default().max_uri_bytes as u64, value_parser = clap::value_parser!(u64).range(64..=1_048_576))]
    max_uri_bytes: u64,

    /// Most header fields a request may have; 431 beyond.
    #[arg(long, env = "OMS_MAX_HEADERS", default_value_t = HttpLimits::default().max_headers as u64, value_parser = clap::value_parser!(u64).range(8..=HttpLimits::MAX_HEADERS_CAP as u64))]
    max_headers: u64,

    /// The listen backlog: connections the kernel queues before they are
    /// accepted (capped by net.core.somaxconn).
    #[arg(long, env = "OMS_LISTEN_BACKLOG", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    listen_backlog: u32,

    /// Inject one deliberate bug, by name, to prove a conformance kit (only a build with the
    /// `faults` feature has them; any other build refuses this flag; see the README).
    #[arg(long, env = "OMS_FAULT", value_parser = faults::parse_fault)]
    fault: Option<Fault>,
}

fn ms(duration: Duration) -> u64 {
    duration.as_millis() as u64
}

/// The soft limit on open file descriptors (Linux; `None` elsewhere or unlimited).
fn fd_soft_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Splits `CREDENTIAL=PROJECT_ID`, checking both parts.
fn split_binding<'a>(raw: &'a str, shape: &str) -> Result<(&'a str, &'a str), String> {
    match raw.rsplit_once('=') {
        Some((credential, project))
            if !credential.is_empty() && !project.is_empty() && !project.contains('/') =>
        {
            Ok((credential, project))
        }
        _ => Err(format!(
            "expected {shape}=PROJECT_ID, both non-empty, no '/' in the project id"
        )),
    }
}

fn parse_token(raw: &str) -> Result<TokenBinding, String> {
    let (token, project) = split_binding(raw, "TOKEN")?;
    Ok(TokenBinding {
        token: Secret::new(token),
        project_id: project.to_owned(),
    })
}

fn parse_aksk(raw: &str) -> Result<AkSkBinding, String> {
    let (pair, project) = split_binding(raw, "AK:SK")?;
    match pair.split_once(':') {
        Some((ak, sk)) if !ak.is_empty() && !sk.is_empty() => Ok(AkSkBinding {
            ak: ak.to_owned(),
            sk: Secret::new(sk),
            project_id: project.to_owned(),
        }),
        _ => Err("expected AK:SK=PROJECT_ID with a non-empty AK and SK".to_owned()),
    }
}

/// The signals that end the server.
struct Signals {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Installs the handlers; one that cannot be installed never fires.
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                terminate: signal(SignalKind::terminate()).ok(),
                interrupt: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The next signal's name and number.
    async fn next(&mut self) -> (&'static str, i32) {
        #[cfg(unix)]
        {
            async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = recv(&mut self.terminate) => ("SIGTERM", 15),
                () = recv(&mut self.interrupt) => ("SIGINT", 2),
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            ("Ctrl-C", 2)
        }
    }
}

/// Resolves at the first SIGINT or SIGTERM, when the server starts draining;
/// a second signal exits the process at once, with 128 + its number.
fn shutdown_on_signal(drain: Duration) -> impl Future<Output = ()> {
    let (first, shutdown) = tokio::sync::oneshot::channel::<()>();
    let mut signals = Signals::install();
    tokio::spawn(async move {
        let (name, _) = signals.next().await;
        tracing::info!(
            signal = name,
            drain_timeout_ms = ms(drain),
            "shutting down: no new connections; requests in flight may finish (a second signal exits at once)"
        );
        let _ = first.send(());
        let (name, number) = signals.next().await;
        eprintln!("oms-reference-server: a second signal ({name}): exiting at once");
        std::process::exit(128 + number);
    });
    async move {
        let _ = shutdown.await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: container logs and CI logs stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let fd_room = fd_soft_limit().map(|limit| limit.saturating_sub(FD_RESERVE).max(1));
    let max_connections = match (cli.max_connections, fd_room) {
        (Some(cap), Some(room)) if cap > room => {
            eprintln!(
                "oms-reference-server: warning: --max-connections {cap} is above the file-descriptor \
                 limit less {FD_RESERVE} ({room}): past {room} connections, accepting fails (ulimit -n)"
            );
            cap
        }
        (Some(cap), _) => cap,
        (None, room) => room.map_or(1024, |room| room.min(1024)),
    };
    let mut config = Config {
        max_body_bytes: cli.max_body_bytes,
        http: HttpLimits {
            head_timeout: Duration::from_millis(cli.head_timeout_ms),
            body_timeout: Duration::from_millis(cli.body_timeout_ms),
            idle_timeout: Duration::from_millis(cli.idle_timeout_ms),
            drain_timeout: Duration::from_millis(cli.drain_timeout_ms),
            max_connections: usize::try_from(max_connections).unwrap_or(usize::MAX),
            max_head_bytes: cli.max_head_bytes as usize,
            max_uri_bytes: cli.max_uri_bytes as usize,
            max_headers: cli.max_headers as usize,
        },
        limits: Limits {
            max_parallel: cli.max_parallel_tasks,
            max_waiting: cli.max_waiting_tasks,
            max_tasks: cli.max_tasks_per_project,
            init_ms: cli.init_ms,
            pause_ms: cli.pause_ms,
        },
        ..Config::default()
    };
    if let Some(fault) = cli.fault {
        eprintln!(
            "oms-reference-server: FAULT INJECTED: {} ({})",
            fault.name(),
            fault.description()
        );
        config.fault = Some(fault);
    }
    if cli.tokens.is_empty() && cli.aksk.is_empty() {
        eprintln!(
            "no --token or --aksk given: using the development credentials (never outside development):"
        );
        for (token, project) in oms_reference_server::DEV_TOKENS {
            eprintln!("  X-Auth-Token: {token}  ->  project {project}");
        }
        for (ak, sk, project) in oms_reference_server::DEV_AKSK {
            eprintln!("  AK/SK: {ak} / {sk}  ->  project {project}");
        }
    } else {
        config.tokens = cli.tokens;
        config.aksk = cli.aksk;
    }

    let listener = match oms_reference_server::bind(cli.listen, cli.listen_backlog) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!(
                "oms-reference-server: cannot listen on {}: {err}",
                cli.listen
            );
            return ExitCode::from(2);
        }
    };
    match listener.local_addr() {
        Ok(addr) => eprintln!("oms-reference-server: listening on http://{addr}"),
        Err(_) => eprintln!("oms-reference-server: listening on {}", cli.listen),
    }
    let http = &config.http;
    eprintln!(
        "oms-reference-server: up to {} connections; head, body and idle timeouts {}, {} and {} ms; drain {} ms",
        http.max_connections,
        ms(http.head_timeout),
        ms(http.body_timeout),
        ms(http.idle_timeout),
        ms(http.drain_timeout)
    );
    let shutdown = shutdown_on_signal(config.http.drain_timeout);
    match oms_reference_server::serve(listener, config, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("oms-reference-server: {err}");
            ExitCode::FAILURE
        }
    }
}
