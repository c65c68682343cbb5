//! The reference server on a real listener and the wall clock, for the tests
//! whose client is another process (the official Python SDK, schemathesis):
//! `serve` on `127.0.0.1:0` in a tokio runtime on its own thread, until
//! [`Server::stop`] or drop.

use std::io;
use std::net::SocketAddr;
use std::thread;

use oms_reference_server::Config;

pub struct Server {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<io::Result<()>>>,
}

impl Server {
    /// The server with its default configuration: the emulator as users run it.
    pub fn start() -> Self {
        Self::start_with(Config::default())
    }

    pub fn start_with(config: Config) -> Self {
        // Bound here, before the thread starts, so the port accepts
        // connections before the client can try one: no readiness wait.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("listener address");
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name("live-server".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    oms_reference_server::serve(listener, config, async move {
                        // A dropped sender (a panicking test) stops the server too.
                        let _ = stopped.await;
                    })
                    .await
                })
            })
            .expect("spawn the server thread");
        Self {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts the server down gracefully and fails the test if it failed.
    pub fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
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

impl Drop for Server {
    fn drop(&mut self) {
        // On a panic path, stop the server without waiting for it.
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
