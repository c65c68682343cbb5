//! The v2 dialect (`shared/spec/oms-v2-api.md`), the one every official SDK and
//! the Terraform provider send: its paths under `/v2/{project_id}/tasks`, its
//! body-less `POST …/stop` and its `POST …/start` with `dst_ak`/`dst_sk`, its
//! paging (`offset`, `limit`) with the count in the envelope
//! (`{"tasks": [...], "count": N}`), and its status numbers 1–7 (no 0; 6 is
//! retrying, 7 pausing). Nothing outside this module knows any of these.

use serde_json::{Value, json};

use super::call::{Call, MAX_PAGES, answered, tasks_and_states};
use super::client::Api;
use super::neutral::{Census, Listing, Page, Route, StartKeys, TaskState, Unread};
use crate::http::{Exchange, Method};

/// Tasks per list page: the most v2 allows.
const PAGE: usize = 100;

/// The task fields that grow while a task transfers.
pub(super) const PROGRESS: [&str; 3] = ["progress", "complete_size", "successful_num"];

fn tasks(pid: &str) -> String {
    format!("/v2/{pid}/tasks")
}

pub(super) fn create(pid: &str, body: &Value) -> Call {
    Call::new(Method::Post, tasks(pid), Some(body.clone()))
}

pub(super) fn get(pid: &str, id: i64) -> Call {
    Call::new(Method::Get, format!("{}/{id}", tasks(pid)), None)
}

/// `DELETE` of `segment`, sent as is after the collection path.
pub(super) fn delete(pid: &str, segment: &str) -> Call {
    Call::new(Method::Delete, format!("{}/{segment}", tasks(pid)), None)
}

/// `DELETE` of a route beside task `id` that is not the task itself.
pub(super) fn delete_route(pid: &str, id: i64, route: Route) -> Call {
    let suffix = match route {
        Route::Collection => String::new(),
        Route::BatchUpdate => "/batch-update".to_owned(),
        Route::Stop => format!("/{id}/stop"),
        Route::Start => format!("/{id}/start"),
        Route::BandwidthPolicy => format!("/{id}/bandwidth-policy"),
    };
    Call::new(Method::Delete, format!("{}{suffix}", tasks(pid)), None)
}

fn list_page(pid: &str, offset: usize, status: Option<i64>) -> Call {
    let filter = status.map(|s| format!("&status={s}")).unwrap_or_default();
    let target = format!("{}?limit={PAGE}&offset={offset}{filter}", tasks(pid));
    Call::new(Method::Get, target, None)
}

/// The cheapest authenticated read: one task of the list, and the count.
pub(super) fn probe(pid: &str) -> Call {
    Call::new(
        Method::Get,
        format!("{}?limit=1&offset=0", tasks(pid)),
        None,
    )
}

/// Stop has no body in v2: `StopTaskRequest` holds only the path's `task_id`.
pub(super) fn stop(pid: &str, id: i64) -> Call {
    Call::new(Method::Post, format!("{}/{id}/stop", tasks(pid)), None)
}

pub(super) fn start(pid: &str, id: i64, keys: &StartKeys) -> Call {
    let body = json!({
        "src_ak": keys.source_ak.expose(),
        "src_sk": keys.source_sk.expose(),
        "dst_ak": keys.target_ak.expose(),
        "dst_sk": keys.target_sk.expose(),
    });
    Call::new(
        Method::Post,
        format!("{}/{id}/start", tasks(pid)),
        Some(body),
    )
}

/// The number a state has in v2, for a list filter; v2 has no initializing state.
pub(super) fn status_number(state: TaskState) -> Option<i64> {
    Some(match state {
        TaskState::Initializing => return None,
        TaskState::Waiting => 1,
        TaskState::Running => 2,
        TaskState::Stopped => 3,
        TaskState::Failed => 4,
        TaskState::Succeeded => 5,
        TaskState::Retrying => 6,
        TaskState::Pausing => 7,
        TaskState::Other(n) => n,
    })
}

/// The `status` of a task object.
pub(super) fn state(task: &Value) -> Option<TaskState> {
    Some(match task.get("status")?.as_i64()? {
        1 => TaskState::Waiting,
        2 => TaskState::Running,
        3 => TaskState::Stopped,
        4 => TaskState::Failed,
        5 => TaskState::Succeeded,
        6 => TaskState::Retrying,
        7 => TaskState::Pausing,
        other => TaskState::Other(other),
    })
}

/// The envelope of a 200 list answer: the integer `id`s of `tasks`, and `count`.
fn envelope(exchange: &Exchange) -> Option<(Vec<i64>, Option<i64>)> {
    let body = exchange
        .response
        .as_ref()
        .filter(|r| r.status == 200)?
        .json
        .as_ref()?;
    let tasks = body.get("tasks")?.as_array()?;
    let ids = tasks.iter().filter_map(|t| t.get("id")?.as_i64()).collect();
    Some((ids, body.get("count").and_then(Value::as_i64)))
}

/// The task ids of a list page.
pub(super) fn page(exchange: &Exchange) -> Option<Vec<i64>> {
    envelope(exchange).map(|(ids, _)| ids)
}

/// The `count` of a list page.
pub(super) fn count(exchange: &Exchange) -> Option<i64> {
    envelope(exchange)?.1
}

/// Page by page (`offset` = the tasks read so far), until a page is short or
/// the pages hold `count` tasks; optionally of one status number.
pub(super) async fn list_of(api: &Api, p: usize, status: Option<i64>) -> Result<Listing, Unread> {
    let mut listing = Listing::default();
    for _ in 0..MAX_PAGES {
        let call = list_page(api.pid(p), listing.len(), status);
        let exchange = answered(api.send_for(p, call).await)?;
        let Some((ids, count)) = envelope(&exchange) else {
            return Err(Unread::Inconclusive(format!(
                "the list answered {} without a `tasks` array",
                exchange.observed()
            )));
        };
        let short = ids.len() < PAGE;
        listing.pages.push(Page { exchange, ids });
        let all_read = count.is_some_and(|c| i64::try_from(listing.len()).unwrap_or(0) >= c);
        if short || all_read {
            return Ok(listing);
        }
    }
    Err(Unread::Inconclusive(format!(
        "the list has more than {MAX_PAGES} pages"
    )))
}

pub(super) async fn list(api: &Api, p: usize) -> Result<Listing, Unread> {
    list_of(api, p, None).await
}

/// The list, its count taken from the pages: `None` unless every page gives
/// the same `count` (a task came or went meanwhile). The caller holds the gate.
pub(super) async fn census(
    api: &Api,
    p: usize,
    status: Option<i64>,
) -> Result<Option<Census>, Unread> {
    let listing = list_of(api, p, status).await?;
    let counts: Vec<Option<i64>> = listing.pages.iter().map(|p| count(&p.exchange)).collect();
    let Some(Some(counted)) = counts.first().copied() else {
        let first = &listing.pages[0].exchange;
        return Err(Unread::Inconclusive(format!(
            "the list answered {} without an integer `count`",
            first.observed()
        )));
    };
    Ok(counts
        .iter()
        .all(|c| *c == Some(counted))
        .then_some(Census {
            count: counted,
            count_answer: None,
            listing,
        }))
}

/// The id and state of each task of a list page.
pub(super) fn page_states(exchange: &Exchange) -> Vec<(i64, Option<TaskState>)> {
    let body = exchange.response.as_ref().and_then(|r| r.json.as_ref());
    tasks_and_states(body.and_then(|j| j.get("tasks")?.as_array()), state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn answer(status: u16, body: &str) -> std::sync::Arc<Exchange> {
        crate::check::tests::exchange(status, &[], body)
    }

    #[test]
    fn every_v2_status_has_its_state_and_there_is_no_0() {
        let of = |status: Value| state(&json!({ "status": status }));
        assert_eq!(of(json!(0)), Some(TaskState::Other(0)));
        assert_eq!(of(json!(1)), Some(TaskState::Waiting));
        assert_eq!(of(json!(2)), Some(TaskState::Running));
        assert_eq!(of(json!(3)), Some(TaskState::Stopped));
        assert_eq!(of(json!(4)), Some(TaskState::Failed));
        assert_eq!(of(json!(5)), Some(TaskState::Succeeded));
        assert_eq!(of(json!(6)), Some(TaskState::Retrying));
        assert_eq!(of(json!(7)), Some(TaskState::Pausing));
        assert_eq!(of(json!(8)), Some(TaskState::Other(8)));
        assert_eq!(of(json!("2")), None);
        for n in 1..=7 {
            let s = of(json!(n)).unwrap();
            assert_eq!(status_number(s), Some(n), "{s}");
        }
        assert_eq!(status_number(TaskState::Initializing), None);
    }

    #[test]
    fn a_page_is_a_200_with_tasks_and_a_count() {
        let listed = answer(200, r#"{"tasks":[{"id":7},{"id":"x"},{"id":9}],"count":3}"#);
        assert_eq!(page(&listed), Some(vec![7, 9]));
        assert_eq!(count(&listed), Some(3));
        assert_eq!(page(&answer(200, r#"[{"id":7}]"#)), None);
        assert_eq!(page(&answer(400, r#"{"tasks":[],"count":0}"#)), None);
        assert_eq!(count(&answer(200, r#"{"tasks":[]}"#)), None);
    }

    #[test]
    fn stop_has_no_body_and_start_sends_the_dst_keys() {
        assert_eq!(
            stop("p1", 5),
            Call::new(Method::Post, "/v2/p1/tasks/5/stop".to_owned(), None)
        );
        let keys = StartKeys {
            source_ak: Secret::new("sa"),
            source_sk: Secret::new("ss"),
            target_ak: Secret::new("ta"),
            target_sk: Secret::new("ts"),
        };
        let started = start("p1", 5, &keys);
        assert_eq!(started.method, Method::Post);
        assert_eq!(started.target, "/v2/p1/tasks/5/start");
        assert_eq!(
            started.body,
            Some(json!({"src_ak": "sa", "src_sk": "ss", "dst_ak": "ta", "dst_sk": "ts"}))
        );
    }

    #[test]
    fn lists_page_by_offset_with_an_optional_status() {
        assert_eq!(
            list_page("p1", 200, None).target,
            "/v2/p1/tasks?limit=100&offset=200"
        );
        assert_eq!(
            list_page("p1", 0, Some(3)).target,
            "/v2/p1/tasks?limit=100&offset=0&status=3"
        );
        assert_eq!(probe("p1").target, "/v2/p1/tasks?limit=1&offset=0");
        assert_eq!(delete("p1", "..%2F1").target, "/v2/p1/tasks/..%2F1");
        assert_eq!(
            delete_route("p1", 5, Route::Stop).target,
            "/v2/p1/tasks/5/stop"
        );
        assert_eq!(
            delete_route("p1", 5, Route::Collection).target,
            "/v2/p1/tasks"
        );
        assert_eq!(
            delete_route("p1", 5, Route::BatchUpdate).target,
            "/v2/p1/tasks/batch-update"
        );
    }
}
