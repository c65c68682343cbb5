//! The bundled reference server, started in-process on `127.0.0.1:0` for the
//! default run. The harness uses the server crate only to launch it; it never
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
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(oms_reference_server::serve(
            listener,
            oms_reference_server::Config::default(),
            async move {
                let _ = signal.await;
            },
        ));
        Ok(Self {
            addr,
            shutdown,
            task,
        })
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
