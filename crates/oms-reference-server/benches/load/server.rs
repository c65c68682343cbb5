//! The two servers of the loopback comparison, each on its own one-worker
//! runtime: the real API, and a bare axum handler on the same route.

use super::*;
pub(crate) fn runtime(name: &str) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("build a tokio runtime")
}

/// A server running on the server runtime until stopped.
#[derive(Debug)]
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) stop: oneshot::Sender<()>,
    pub(crate) done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub(crate) fn stop(self, rt: &Runtime) {
        let _ = self.stop.send(());
        // Every generator connection is closed by now, so graceful shutdown is
        // immediate; the deadline only keeps a bug from hanging the bench.
        let done = self.done;
        match rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), done).await }) {
            Ok(Ok(Ok(()))) => {}
            other => panic!("server did not shut down cleanly: {other:?}"),
        }
    }
}

pub(crate) fn bind(rt: &Runtime) -> (TcpListener, SocketAddr) {
    let listener = rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    (listener, addr)
}

/// The real server, with a manual clock and limits that let a project hold
/// and run any number of tasks at once (the defaults queue all but five).
pub(crate) fn start_api(rt: &Runtime, clock: &Arc<ManualClock>) -> Running {
    let config = Config {
        limits: Limits {
            max_parallel: usize::MAX,
            max_waiting: usize::MAX,
            ..Limits::default()
        },
        clock: clock.clone(),
        ..Config::default()
    };
    let (listener, addr) = bind(rt);
    let (stop, stopped) = oneshot::channel::<()>();
    let done = rt.spawn(oms_reference_server::serve(listener, config, async {
        let _ = stopped.await;
    }));
    Running { addr, stop, done }
}

/// The baseline: the task route of the API answering 200 with an empty body,
/// with nothing in front of it.
pub(crate) fn start_bare(rt: &Runtime) -> Running {
    pub(crate) async fn ok() -> StatusCode {
        StatusCode::OK
    }
    let app = Router::new().route(
        "/v1/{project_id}/objectstorage/task/{task_id}",
        axum::routing::get(ok).delete(ok),
    );
    let (listener, addr) = bind(rt);
    let (stop, stopped) = oneshot::channel::<()>();
    let done = rt.spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Running { addr, stop, done }
}
