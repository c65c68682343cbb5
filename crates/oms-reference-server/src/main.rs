//! `oms-reference-server`: parse flags and `OMS_*` variables into a
//! [`Config`], bind, serve until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use oms_reference_server::faults::{self, Fault};
use oms_reference_server::{AkSkBinding, Config, Limits, Secret, TokenBinding};

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

    /// Inject one deliberate bug, by name, to prove a conformance kit (only a build with the
    /// `faults` feature has them; any other build refuses this flag; see the README).
    #[arg(long, env = "OMS_FAULT", value_parser = faults::parse_fault)]
    fault: Option<Fault>,
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

async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, only SIGTERM ends the server.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
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

    let mut config = Config {
        max_body_bytes: cli.max_body_bytes,
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

    let listener = match tokio::net::TcpListener::bind(cli.listen).await {
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
    match oms_reference_server::serve(listener, config, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("oms-reference-server: {err}");
            ExitCode::FAILURE
        }
    }
}
