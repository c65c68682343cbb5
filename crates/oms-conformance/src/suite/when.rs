//! The actions ("When"): the deletes of "the task" (plain, through another
//! project's path, with bad credentials, with unexpected input, simultaneous,
//! of malformed ids) and its stop (the races are in `race.rs`). Each keeps its answers
//! for the judgements of `then.rs`.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::api::{BadCredentials, Delete, Dialect, Route};
use crate::check::{self, Halt};
use crate::http::{Exchange, Shape};
use crate::suite::poll::{Interval, poll_until};
use crate::suite::stopping::{NotStopped, Stopped, stop_patiently};
use crate::suite::vocabulary::Extra;
use crate::suite::world::OmsWorld;

impl OmsWorld {
    /// Deletes "the task" through its own project's path with that project's
    /// credentials.
    pub async fn delete(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        self.remember_neighbours(p, id).await?;
        self.send_delete(p, id, Delete::default()).await
    }

    /// Deletes "the task" through the path of project `path` (a label index)
    /// with the credentials of project `credentials`.
    pub async fn delete_through(&mut self, path: usize, credentials: usize) -> Result<(), Halt> {
        let (own, id) = self.subject()?;
        let p = self.project(path);
        if p != own {
            // The same id may name a task of the other project, which the run
            // did not create: then it must not send the delete.
            let get = self.fetch(p, id).await?;
            if get.status() == Some(200) {
                return Err(self.inconclusive(format!(
                    "the {} project has a task {id} of its own: the delete would touch a task the run did not create",
                    self.api.projects()[p].label
                )));
            }
        }
        let auth = self.api.auth(self.project(credentials));
        let options = Delete {
            auth: Some(auth),
            ..Delete::default()
        };
        self.send_delete(p, id, options).await
    }

    /// Deletes "the task" through its own project's path, signed with its own
    /// project's AK/SK, with an `X-Project-Id` naming project `named` (a label
    /// index).
    pub async fn delete_naming(&mut self, named: usize) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let named = self.project(named);
        let Some(auth) = self.api.auth_naming(p, named) else {
            return Err(self.halt(Halt::Error(format!(
                "the {} project authenticates with a token: there is no signed X-Project-Id",
                self.api.projects()[p].label
            ))));
        };
        let options = Delete {
            auth: Some(auth),
            ..Delete::default()
        };
        self.send_delete(p, id, options).await
    }

    /// Deletes "the task" through its own project's path with `bad` credentials.
    pub async fn delete_as(&mut self, bad: BadCredentials) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let Some(auth) = self.api.bad_auth(p, bad) else {
            return Err(self.halt(Halt::Error(format!(
                "the {} project authenticates with a token: there is no signature to get wrong",
                self.api.projects()[p].label
            ))));
        };
        let options = Delete {
            auth: Some(auth),
            ..Delete::default()
        };
        self.send_delete(p, id, options).await
    }

    async fn send_delete(&mut self, p: usize, id: i64, options: Delete) -> Result<(), Halt> {
        let answer = self.api.delete(p, &id.to_string(), options).await;
        let answer = self.keep(answer)?;
        self.answers = vec![answer];
        Ok(())
    }

    /// Before deleting a task of a trio, `GET` its id neighbours that the scenario
    /// did not create, so that they can be compared afterwards (never deleted).
    async fn remember_neighbours(&mut self, p: usize, id: i64) -> Result<(), Halt> {
        if !self.trio {
            return Ok(());
        }
        for neighbour in [id - 1, id + 1] {
            if neighbour > 0
                && !self
                    .tasks
                    .iter()
                    .any(|t| t.project == p && t.id == neighbour)
            {
                let get = self.fetch(p, neighbour).await?;
                self.foreign.push((p, neighbour, get));
            }
        }
        Ok(())
    }

    pub async fn delete_with(&mut self, extra: Extra) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let options = match extra {
            Extra::Body => Delete {
                body: Some(serde_json::json!({"force": true, "operation": "delete"})),
                ..Delete::default()
            },
            Extra::Query => Delete {
                query: "?force=true&cascade=1".to_owned(),
                ..Delete::default()
            },
        };
        self.send_delete(p, id, options).await
    }

    pub async fn delete_simultaneously(&mut self, k: usize) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let segment = id.to_string();
        let api = Arc::clone(&self.api);
        let answers =
            futures::future::join_all((0..k).map(|_| api.delete(p, &segment, Delete::default())))
                .await;
        self.keep_answers(answers)
    }

    /// Keeps every answer of a volley as the answers of the "When".
    fn keep_answers(&mut self, answers: Vec<Arc<Exchange>>) -> Result<(), Halt> {
        self.answers.clear();
        for answer in answers {
            let answer = self.keep(answer)?;
            self.answers.push(answer);
        }
        Ok(())
    }

    /// Deletes each malformed id of the catalogue (`{id}` is the task's own), raw.
    pub async fn delete_catalogue_malformed(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let segments: Vec<String> = self
            .ctx
            .catalogue
            .malformed_ids
            .iter()
            .filter(|m| m.applies_to(self.dialect))
            .map(|m| m.segment.replace("{id}", &id.to_string()))
            .collect();
        self.delete_segments(p, segments).await
    }

    /// Deletes each malformed id the run generated from its seed, raw.
    pub async fn delete_generated_malformed(&mut self) -> Result<(), Halt> {
        let (p, _) = self.subject()?;
        let segments = self.ctx.generated.clone();
        self.delete_segments(p, segments).await
    }

    async fn delete_segments(&mut self, p: usize, segments: Vec<String>) -> Result<(), Halt> {
        let api = Arc::clone(&self.api);
        let probes = segments.iter().map(|s| {
            api.delete(
                p,
                s,
                Delete {
                    raw: true,
                    ..Delete::default()
                },
            )
        });
        let answers = futures::future::join_all(probes).await;
        self.probes = segments;
        self.keep_answers(answers)
    }

    /// Deletes "the task" with the request a real client sends.
    pub async fn delete_shaped(&mut self, shape: Shape) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let options = Delete {
            shape,
            ..Delete::default()
        };
        self.send_delete(p, id, options).await
    }

    /// Deletes "the task" through `dialect` instead of the scenario's own.
    pub async fn delete_through_dialect(&mut self, dialect: Dialect) -> Result<(), Halt> {
        self.through(dialect, async |w| w.delete().await).await
    }

    /// Deletes "the task" between two censuses of its project, none of the
    /// run's other scenarios changing the project meanwhile.
    pub async fn delete_counted(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let counted = match self.api.delete_counted(p, id).await {
            Ok(counted) => counted,
            Err(unread) => return Err(self.unread(unread)),
        };
        let delete = self.keep(Arc::clone(&counted.delete))?;
        self.answers = vec![delete];
        self.counted = Some(counted);
        Ok(())
    }

    /// Sends a `DELETE` to each route beside "the task" (the collection, a
    /// sibling route, the task's own actions). The collection is only asked
    /// when every task its project lists is one the run created: a target
    /// that wrongly deletes on it must not take a task of anyone else's.
    pub async fn delete_beside(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        // Under the project's exclusive gate no create of the run is in
        // flight, so every task of the run the list shows is in the ledger.
        let api = Arc::clone(&self.api);
        let exclusive = api.exclusive(p).await;
        let listing = api.list(p).await;
        let ours = self.ctx.ledger_ids(p);
        drop(exclusive);
        let listing = match listing {
            Ok(listing) => listing,
            Err(unread) => return Err(self.unread(unread)),
        };
        let foreign: Vec<i64> = listing
            .pages
            .iter()
            .flat_map(|page| page.ids.iter().copied())
            .filter(|listed| !ours.contains(listed))
            .collect();
        if !foreign.is_empty() {
            return Err(self.inconclusive(format!(
                "the project lists {} task(s) the run did not create (such as {}): a DELETE on the collection is not sent where it could take them",
                foreign.len(),
                foreign[0]
            )));
        }
        let mut answers = Vec::new();
        for route in Route::ALL {
            match self.api.delete_route(p, id, route).await {
                Some(answer) => answers.push(answer),
                None => {
                    return Err(self.halt(Halt::Error(format!(
                        "{} has no route {route:?}",
                        self.dialect
                    ))));
                }
            }
        }
        self.keep_answers(answers)
    }

    /// Deletes the stopped "the task", and while the delete gets the answer
    /// the profile declares for a task in progress (`400 OMS.0063` by
    /// default: the live service may still be winding the task down after
    /// status 3), deletes it again, backing off, within the after-stop
    /// window: v2's OMS-DEL-007, as the Terraform provider does
    /// (`oms-v2-api.md` §3, §7). Every try is in the exchange log; the last
    /// answer is the one judged, and a window that ends on a refusal fails.
    pub async fn delete_after_stop(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let window = self.ctx.config.deadlines.after_stop;
        let in_progress = self.declarations().running.clone();
        let api = Arc::clone(&self.api);
        let segment = id.to_string();
        let mut refusals = Vec::new();
        let backoff = Interval::doubling(Duration::from_millis(20), Duration::from_secs(1));
        let outcome = poll_until(Instant::now() + window, backoff, async || {
            let answer = match self.keep(api.delete(p, &segment, Delete::default()).await) {
                Ok(answer) => answer,
                Err(halt) => return ControlFlow::Break(Err(halt)),
            };
            let busy = answer.response.as_ref().is_some_and(|r| {
                in_progress
                    .iter()
                    .any(|a| a.matches(r.status, r.error_code()))
            });
            if busy {
                refusals.push(Arc::clone(&answer));
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(Ok(answer))
            }
        })
        .await;
        match outcome {
            ControlFlow::Break(Ok(answer)) => {
                self.answers = vec![answer];
                Ok(())
            }
            ControlFlow::Break(Err(halt)) => Err(halt),
            ControlFlow::Continue(()) => {
                let tries = refusals.len();
                let evidence: Vec<&Arc<Exchange>> = refusals
                    .first()
                    .into_iter()
                    .chain(refusals.last())
                    .collect();
                let expectation = format!(
                    "a delete of the stopped task accepted within the after-stop window ({} ms), a delete refused as in progress sent again; all {tries} were refused as in progress",
                    window.as_millis()
                );
                self.judge(check::check(false, || expectation, &evidence))
            }
        }
    }

    /// Stops "the task" patiently as the judged action (OMS-DEL-007's remedy):
    /// a stop accepted within the state deadline, or a failure.
    pub(super) async fn stop_judged(&mut self, p: usize, id: i64) -> Result<(), Halt> {
        let deadline = Instant::now() + self.ctx.config.deadlines.state;
        let (why, evidence) = match stop_patiently(Arc::clone(&self.api), p, id, deadline).await {
            Ok(Stopped::Accepted) => return Ok(()),
            Ok(Stopped::Unneeded(state)) => (
                format!("a refused stop of task {id}, although it is {state} now"),
                Vec::new(),
            ),
            Err(NotStopped::Unanswered(exchange)) => return self.keep(exchange).map(drop),
            Err(NotStopped::Refused { why, evidence }) => (why, evidence),
        };
        let expectation = format!(
            "stopping a running task: a 2xx within {} ms, the stop sent again while the task retries ({why})",
            self.ctx.config.deadlines.state.as_millis()
        );
        let evidence: Vec<&Arc<Exchange>> = evidence.iter().collect();
        self.judge(check::check(false, || expectation, &evidence))
    }

    pub async fn stop(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        self.stop_judged(p, id).await
    }
}
