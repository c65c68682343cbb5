//! The v1 dialect (`shared/spec/oms-v1-api.md`): its paths under
//! `/v1/{project_id}/objectstorage/task`, its one `PUT` for stop and start, its
//! paging (`start`, `limit`) and separate count (`?totalcount=true` answering
//! `{"taskcount": N}`), its bare JSON array of tasks, and its status numbers
//! 0–5. Nothing outside this module knows any of these.

use serde_json::{Value, json};

use super::call::{Call, MAX_PAGES, answered, tasks_and_states};
use super::client::Api;
use super::neutral::{Census, Listing, Page, StartKeys, TaskState, Unread};
use crate::http::{Exchange, Method};

/// Tasks per list page: the most v1 allows.
const PAGE: usize = 100;

/// The task fields that grow while a task transfers.
pub(super) const PROGRESS: [&str; 3] = ["progress", "complete_size", "success_num"];

fn tasks(pid: &str) -> String {
    format!("/v1/{pid}/objectstorage/task")
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

fn filter(state: Option<i64>) -> String {
    state.map(|s| format!("&state={s}")).unwrap_or_default()
}

fn list_page(pid: &str, start: usize, state: Option<i64>) -> Call {
    let target = format!("{}?start={start}&limit={PAGE}{}", tasks(pid), filter(state));
    Call::new(Method::Get, target, None)
}

pub(super) fn count(pid: &str) -> Call {
    count_of(pid, None)
}

fn count_of(pid: &str, state: Option<i64>) -> Call {
    let target = format!("{}?totalcount=true{}", tasks(pid), filter(state));
    Call::new(Method::Get, target, None)
}

/// The number a state has in v1, for a list filter; v1 has no retrying or
/// pausing state.
pub(super) fn status_number(state: TaskState) -> Option<i64> {
    Some(match state {
        TaskState::Initializing => 0,
        TaskState::Waiting => 1,
        TaskState::Running => 2,
        TaskState::Stopped => 3,
        TaskState::Failed => 4,
        TaskState::Succeeded => 5,
        TaskState::Retrying | TaskState::Pausing => return None,
        TaskState::Other(n) => n,
    })
}

pub(super) fn stop(pid: &str, id: i64) -> Call {
    let body = json!({"operation": "stop"});
    Call::new(Method::Put, format!("{}/{id}", tasks(pid)), Some(body))
}

pub(super) fn start(pid: &str, id: i64, keys: &StartKeys) -> Call {
    let body = json!({
        "operation": "start",
        "source_ak": keys.source_ak.expose(),
        "source_sk": keys.source_sk.expose(),
        "target_ak": keys.target_ak.expose(),
        "target_sk": keys.target_sk.expose(),
    });
    Call::new(Method::Put, format!("{}/{id}", tasks(pid)), Some(body))
}

/// The `status` of a task object.
pub(super) fn state(task: &Value) -> Option<TaskState> {
    Some(match task.get("status")?.as_i64()? {
        0 => TaskState::Initializing,
        1 => TaskState::Waiting,
        2 => TaskState::Running,
        3 => TaskState::Stopped,
        4 => TaskState::Failed,
        5 => TaskState::Succeeded,
        other => TaskState::Other(other),
    })
}

/// The integer `id`s of a 200 answering a JSON array of tasks.
pub(super) fn page(exchange: &Exchange) -> Option<Vec<i64>> {
    let array = exchange
        .response
        .as_ref()
        .filter(|r| r.status == 200)?
        .json
        .as_ref()?
        .as_array()?;
    Some(array.iter().filter_map(|t| t.get("id")?.as_i64()).collect())
}

/// The id and state of each task of a list page.
pub(super) fn page_states(exchange: &Exchange) -> Vec<(i64, Option<TaskState>)> {
    let body = exchange.response.as_ref().and_then(|r| r.json.as_ref());
    tasks_and_states(body.and_then(Value::as_array), state)
}

fn taskcount(exchange: &Exchange) -> Option<i64> {
    exchange
        .response
        .as_ref()?
        .json
        .as_ref()?
        .get("taskcount")?
        .as_i64()
}

/// Page by page, until a page is not full.
pub(super) async fn list(api: &Api, p: usize) -> Result<Listing, Unread> {
    list_of(api, p, None).await
}

/// [`list`] of the tasks in one state only.
async fn list_of(api: &Api, p: usize, state: Option<i64>) -> Result<Listing, Unread> {
    let mut listing = Listing::default();
    for _ in 0..MAX_PAGES {
        let call = list_page(api.pid(p), listing.len(), state);
        let exchange = answered(api.send_for(p, call).await)?;
        let Some(ids) = page(&exchange) else {
            return Err(Unread::Inconclusive(format!(
                "the list answered {} without a JSON array of tasks",
                exchange.observed()
            )));
        };
        let full = ids.len() >= PAGE;
        listing.pages.push(Page { exchange, ids });
        if !full {
            return Ok(listing);
        }
    }
    Err(Unread::Inconclusive(format!(
        "the list has more than {MAX_PAGES} pages"
    )))
}

/// The count, the list, and the count again; `None` when the two counts
/// differ (a task came or went meanwhile). The caller holds the gate.
pub(super) async fn census(
    api: &Api,
    p: usize,
    state: Option<i64>,
) -> Result<Option<Census>, Unread> {
    let before = answered(api.send_for(p, count_of(api.pid(p), state)).await)?;
    let listing = list_of(api, p, state).await?;
    let after = answered(api.send_for(p, count_of(api.pid(p), state)).await)?;
    let (Some(counted), Some(again)) = (taskcount(&before), taskcount(&after)) else {
        return Err(Unread::Inconclusive(format!(
            "the count answered {} without `taskcount`",
            before.observed()
        )));
    };
    Ok((counted == again).then_some(Census {
        count: counted,
        count_answer: Some(before),
        listing,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn answer(status: u16, body: &str) -> std::sync::Arc<Exchange> {
        crate::check::tests::exchange(status, &[], body)
    }

    #[test]
    fn every_v1_status_has_its_state() {
        let of = |status: Value| state(&json!({ "status": status }));
        assert_eq!(of(json!(0)), Some(TaskState::Initializing));
        assert_eq!(of(json!(1)), Some(TaskState::Waiting));
        assert_eq!(of(json!(2)), Some(TaskState::Running));
        assert_eq!(of(json!(3)), Some(TaskState::Stopped));
        assert_eq!(of(json!(4)), Some(TaskState::Failed));
        assert_eq!(of(json!(5)), Some(TaskState::Succeeded));
        assert_eq!(of(json!(7)), Some(TaskState::Other(7)));
        assert_eq!(of(json!("2")), None);
        assert_eq!(state(&json!({})), None);
    }

    #[test]
    fn a_page_is_a_200_with_an_array_of_tasks() {
        let listed = answer(200, r#"[{"id":7},{"id":"x"},{"id":9}]"#);
        assert_eq!(page(&listed), Some(vec![7, 9]));
        assert_eq!(page(&answer(200, r#"{"tasks":[{"id":7}]}"#)), None);
        assert_eq!(page(&answer(400, "[]")), None);
        assert_eq!(taskcount(&answer(200, r#"{"taskcount":3}"#)), Some(3));
        assert_eq!(taskcount(&answer(200, "[]")), None);
    }

    #[test]
    fn stop_and_start_are_one_put_with_an_operation() {
        assert_eq!(
            stop("p1", 5),
            Call::new(
                Method::Put,
                "/v1/p1/objectstorage/task/5".to_owned(),
                Some(json!({"operation": "stop"}))
            )
        );
        let keys = StartKeys {
            source_ak: Secret::new("sa"),
            source_sk: Secret::new("ss"),
            target_ak: Secret::new("ta"),
            target_sk: Secret::new("ts"),
        };
        let started = start("p1", 5, &keys);
        assert_eq!(started.method, Method::Put);
        assert_eq!(started.target, "/v1/p1/objectstorage/task/5");
        assert_eq!(
            started.body,
            Some(json!({
                "operation": "start",
                "source_ak": "sa",
                "source_sk": "ss",
                "target_ak": "ta",
                "target_sk": "ts"
            }))
        );
    }

    #[test]
    fn lists_page_by_start_index_and_count_separately() {
        assert_eq!(
            list_page("p1", 200, None).target,
            "/v1/p1/objectstorage/task?start=200&limit=100"
        );
        assert_eq!(
            count("p1").target,
            "/v1/p1/objectstorage/task?totalcount=true"
        );
        assert_eq!(
            delete("p1", "..%2F1").target,
            "/v1/p1/objectstorage/task/..%2F1"
        );
    }
}
