//! The bundled reference server, started in-process on `127.0.0.1:0` for the
//! default run, and the one in-process launcher the harness's tests use too. The harness uses the server crate only to launch it; it never
//! judges through the server's types.

use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running embedded server; [`Embedded::stop`] shuts it down gracefully.
#[derive(Debug)]
pub struct Embedded {
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Embedded {
    /// Starts the reference server with its development credentials.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(oms_reference_server::Config::default()).await
    }

    /// Starts the reference server with `config`, on the current runtime. It runs
    /// until [`Embedded::stop`], or until the handle is dropped.
    pub async fn start_with(config: oms_reference_server::Config) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (shutdown, signal) = oneshot::channel::<()>();
        // A dropped sender ends the wait as a sent signal does.
        let task = tokio::spawn(oms_reference_server::serve(listener, config, async move {
            let _ = signal.await;
        }));
        Ok(Self {
            addr,
            shutdown,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        // A server that does not drain within a second is left to the runtime's end.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), self.task).await;
    }
}
