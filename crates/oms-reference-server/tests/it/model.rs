//! Model-based test: random sequences of create / stop / start / delete / get
//! / list / count / advance, run against the server and against a small model
//! of the OMS state machine; every answer must agree with the model.
//!
//! Time only moves in 10 s steps and at most eight tasks exist, so every
//! short task started in a step has finished by its end (each takes < 1 s),
//! which keeps the model free of timing arithmetic. A stop pauses the task
//! (status 7 in the model, shown as 2 in v1) until the next step.

use std::collections::{BTreeMap, VecDeque};

use axum::http::{Method, StatusCode};
use oms_reference_server::Limits;
use proptest::prelude::*;
use serde_json::Value;

use crate::support::*;

const MAX_PARALLEL: usize = 2;
const MAX_TASKS: usize = 8;
const STEP_MS: u64 = 10_000;
/// The model's own code for a pausing task; v1 shows it as 2.
const PAUSING: u8 = 7;

/// What v1 shows for a model status.
fn v1_status(status: u8) -> u8 {
    if status == PAUSING { 2 } else { status }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Long,
    Ok,
    Fail,
}

#[derive(Debug, Clone)]
enum Op {
    Create(Kind),
    Stop(usize),
    Start(usize),
    Delete(usize),
    Get(usize),
    List,
    Count(Option<u8>),
    Advance,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => prop_oneof![Just(Kind::Long), Just(Kind::Ok), Just(Kind::Fail)].prop_map(Op::Create),
        2 => (0..MAX_TASKS).prop_map(Op::Stop),
        2 => (0..MAX_TASKS).prop_map(Op::Start),
        3 => (0..MAX_TASKS).prop_map(Op::Delete),
        1 => (0..MAX_TASKS).prop_map(Op::Get),
        1 => Just(Op::List),
        1 => proptest::option::of(0u8..6).prop_map(Op::Count),
        3 => Just(Op::Advance),
    ]
}

#[derive(Debug, Clone)]
struct ModelTask {
    kind: Kind,
    status: u8,
    recovered: bool,
}

#[derive(Debug, Default)]
struct Model {
    /// Task id → task; deleted tasks are removed.
    tasks: BTreeMap<u64, ModelTask>,
    waiting: VecDeque<u64>,
    /// Every id ever created, by creation order, so ops can name deleted ones.
    created: Vec<u64>,
}

impl Model {
    /// Tasks holding a parallel slot: running or pausing.
    fn running(&self) -> usize {
        self.tasks
            .values()
            .filter(|t| t.status == 2 || t.status == PAUSING)
            .count()
    }

    fn schedule(&mut self) {
        while self.running() < MAX_PARALLEL {
            let Some(id) = self.waiting.pop_front() else {
                break;
            };
            if let Some(task) = self.tasks.get_mut(&id) {
                task.status = 2;
            }
        }
    }

    /// One 10 s step: initialisation, then short tasks finish and free slots
    /// until only long tasks run.
    fn advance(&mut self) {
        for task in self.tasks.values_mut() {
            if task.status == PAUSING {
                task.status = 3;
            }
        }
        self.schedule();
        let initializing: Vec<u64> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.status == 0)
            .map(|(&id, _)| id)
            .collect();
        for id in initializing {
            self.tasks.get_mut(&id).unwrap().status = 1;
            self.waiting.push_back(id);
            self.schedule();
        }
        loop {
            let finishing: Vec<u64> = self
                .tasks
                .iter()
                .filter(|(_, t)| t.status == 2 && t.kind != Kind::Long)
                .map(|(&id, _)| id)
                .collect();
            if finishing.is_empty() {
                break;
            }
            for id in finishing {
                let task = self.tasks.get_mut(&id).unwrap();
                task.status = if task.kind == Kind::Fail && !task.recovered {
                    4
                } else {
                    5
                };
            }
            self.schedule();
        }
    }
}

fn body_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Long => RUNNING,
        Kind::Ok => SUCCEEDING,
        Kind::Fail => FAILING,
    }
}

fn expect_error(reply: &Reply, code: &str, what: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what}");
    assert_eq!(reply.error_code(), code, "{what}");
}

async fn run(ops: Vec<Op>) {
    let server = TestServer::with_limits(Limits {
        max_parallel: MAX_PARALLEL,
        ..Limits::default()
    });
    let mut model = Model::default();
    for op in ops {
        let pick = |i: usize| model.created.get(i % model.created.len().max(1)).copied();
        match op {
            Op::Create(kind) => {
                if model.created.len() >= MAX_TASKS {
                    continue;
                }
                let id = server.create(body_of(kind)).await;
                model.tasks.insert(
                    id,
                    ModelTask {
                        kind,
                        status: 0,
                        recovered: false,
                    },
                );
                model.created.push(id);
            }
            Op::Stop(i) => {
                let Some(id) = pick(i) else { continue };
                let reply = server.put(id, r#"{"operation":"stop"}"#).await;
                match model.tasks.get_mut(&id) {
                    None => expect_error(&reply, "OMS.1009", "stop of a deleted task"),
                    Some(t) if t.status == 2 => {
                        assert_eq!(reply.status, StatusCode::OK, "stop of running {id}");
                        t.status = PAUSING;
                    }
                    Some(_) => expect_error(&reply, "OMS.0066", "stop of a task not running"),
                }
            }
            Op::Start(i) => {
                let Some(id) = pick(i) else { continue };
                let reply = server.put(id, START_KEYS).await;
                match model.tasks.get_mut(&id) {
                    None => expect_error(&reply, "OMS.1009", "start of a deleted task"),
                    Some(t) if t.status == 3 || t.status == 4 => {
                        assert_eq!(
                            reply.status,
                            StatusCode::OK,
                            "start of {id} in {}",
                            t.status
                        );
                        t.recovered |= t.status == 4;
                        t.status = 1;
                        model.waiting.push_back(id);
                        model.schedule();
                    }
                    Some(t) if t.status == 5 => {
                        expect_error(&reply, "OMS.0070", "start of a finished task")
                    }
                    Some(_) => expect_error(&reply, "OMS.0065", "start of a started task"),
                }
            }
            Op::Delete(i) => {
                let Some(id) = pick(i) else { continue };
                let reply = server.delete(id).await;
                match model.tasks.get(&id).map(|t| t.status) {
                    None => expect_error(&reply, "OMS.1009", "delete of a deleted task"),
                    Some(2 | PAUSING) => {
                        expect_error(&reply, "OMS.0063", "delete of a running or pausing task")
                    }
                    Some(_) => {
                        assert_eq!(reply.status, StatusCode::OK, "delete of {id}");
                        assert!(reply.bytes.is_empty());
                        model.tasks.remove(&id);
                        model.waiting.retain(|&w| w != id);
                    }
                }
            }
            Op::Get(i) => {
                let Some(id) = pick(i) else { continue };
                let reply = server.get(id).await;
                match model.tasks.get(&id) {
                    None => expect_error(&reply, "OMS.1009", "get of a deleted task"),
                    Some(t) => assert_eq!(
                        reply.json()["status"],
                        u64::from(v1_status(t.status)),
                        "status of {id}"
                    ),
                }
            }
            Op::List => {
                let list = server
                    .call(Method::GET, "/task?start=0&limit=100", "")
                    .await
                    .json();
                let got: Vec<(u64, u64)> = list
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t: &Value| (t["id"].as_u64().unwrap(), t["status"].as_u64().unwrap()))
                    .collect();
                let want: Vec<(u64, u64)> = model
                    .tasks
                    .iter()
                    .map(|(&id, t)| (id, u64::from(v1_status(t.status))))
                    .collect();
                assert_eq!(got, want, "list");
            }
            Op::Count(state) => {
                let query = state.map_or_else(
                    || "/task?totalcount=true".to_owned(),
                    |s| format!("/task?totalcount=true&state={s}"),
                );
                let got = server.call(Method::GET, &query, "").await.json()["taskcount"]
                    .as_u64()
                    .unwrap();
                let want = model
                    .tasks
                    .values()
                    .filter(|t| state.is_none_or(|s| v1_status(t.status) == s))
                    .count();
                assert_eq!(got, want as u64, "count {state:?}");
            }
            Op::Advance => {
                server.advance(STEP_MS);
                model.advance();
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn the_server_follows_the_state_machine(ops in proptest::collection::vec(op(), 1..60)) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(ops));
    }
}
