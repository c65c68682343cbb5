//! The step definitions: one-line adapters from the phrasebook of
//! `features/README.md` to the World's methods, grouped by concept (tasks,
//! deletes, answers, the state of tasks, the whole run).

use cucumber::{given, then, when};

use crate::check::Halt;
use crate::suite::world::{Credentials, Extra, Kind, OmsWorld, RaceOrder, Refusal};

type Step = Result<(), Halt>;

fn kind(word: &str) -> Kind {
    match word {
        "running" => Kind::Running,
        "stopped" => Kind::Stopped,
        "failed" => Kind::Failed,
        _ => Kind::Succeeded,
    }
}

fn project(word: &str) -> usize {
    usize::from(word == "second")
}

// ----- tasks -----------------------------------------------------------------

#[given(regex = r"^an? (running|stopped|failed|succeeded) task$")]
async fn a_task(w: &mut OmsWorld, state: String) -> Step {
    w.given_task(kind(&state), None).await
}

#[given(regex = r"^an? (running|stopped|failed|succeeded) task in the (first|second) project$")]
async fn a_task_in(w: &mut OmsWorld, state: String, which: String) -> Step {
    w.given_task(kind(&state), Some(project(&which))).await
}

#[given(
    regex = r"^three tasks created one after another, each (running|stopped|failed|succeeded)$"
)]
async fn three_tasks(w: &mut OmsWorld, state: String) -> Step {
    w.given_consecutive(kind(&state)).await
}

#[given("a well-formed task id that no task has")]
async fn unused_id(w: &mut OmsWorld) -> Step {
    w.given_unused_id().await
}

#[given("the parallel-task quota is filled with running tasks")]
async fn quota_filled(w: &mut OmsWorld) -> Step {
    w.fill_quota().await
}

#[given("a task waiting to be scheduled")]
async fn waiting_task(w: &mut OmsWorld) -> Step {
    w.given_waiting().await
}

#[given("an initializing task")]
async fn initializing_task(w: &mut OmsWorld) -> Step {
    w.given_initializing().await
}

#[given("the task has been deleted")]
async fn already_deleted(w: &mut OmsWorld) -> Step {
    w.given_deleted().await
}

// ----- deletes and other actions ------------------------------------------------

#[when("the task is deleted")]
async fn delete(w: &mut OmsWorld) -> Step {
    w.delete(None, None).await
}

#[when(regex = r"^the (middle|first) task is deleted$")]
async fn delete_nth(w: &mut OmsWorld, which: String) -> Step {
    w.choose_subject(if which == "middle" { 1 } else { 0 })?;
    w.delete(None, None).await
}

#[when(
    regex = r"^the task is deleted through the (first|second) project's path with the (first|second) project's credentials$"
)]
async fn delete_through(w: &mut OmsWorld, path: String, credentials: String) -> Step {
    w.delete(
        Some(project(&path)),
        Some(Credentials::Project(project(&credentials))),
    )
    .await
}

#[when(regex = r"^the task is deleted with (no credentials|a bad token|a bad AK/SK signature)$")]
async fn delete_without_credentials(w: &mut OmsWorld, credentials: String) -> Step {
    let credentials = match credentials.as_str() {
        "no credentials" => Credentials::None,
        "a bad token" => Credentials::BadToken,
        _ => Credentials::BadSignature,
    };
    w.delete(None, Some(credentials)).await
}

#[when(
    regex = r"^the task is deleted with (a tampered signature|a signature made with a wrong secret key)$"
)]
async fn delete_badly_signed(w: &mut OmsWorld, flaw: String) -> Step {
    let credentials = if flaw == "a tampered signature" {
        Credentials::TamperedSignature
    } else {
        Credentials::WrongSecret
    };
    w.delete(None, Some(credentials)).await
}

#[when(regex = r"^the task is deleted with a signature dated (\d+) minutes (ago|ahead)$")]
async fn delete_skewed(w: &mut OmsWorld, minutes: i64, way: String) -> Step {
    let seconds = minutes.saturating_mul(60);
    let offset = if way == "ago" { -seconds } else { seconds };
    w.delete(None, Some(Credentials::SkewedDate(offset))).await
}

#[when(regex = r"^the task is deleted with an unexpected (JSON body|query string)$")]
async fn delete_with_extra(w: &mut OmsWorld, extra: String) -> Step {
    w.delete_with(if extra == "JSON body" {
        Extra::Body
    } else {
        Extra::Query
    })
    .await
}

#[when(regex = r"^the task is deleted by (\d+) simultaneous requests$")]
async fn delete_simultaneously(w: &mut OmsWorld, k: usize) -> Step {
    w.delete_simultaneously(k).await
}

#[when(regex = r"^the task is deleted and stopped (delete first|stop first)$")]
async fn race(w: &mut OmsWorld, order: String) -> Step {
    w.race(if order == "delete first" {
        RaceOrder::DeleteFirst
    } else {
        RaceOrder::StopFirst
    })
    .await
}

#[when(regex = r"^the (catalogue's|generated) malformed task ids are deleted$")]
async fn delete_malformed(w: &mut OmsWorld, which: String) -> Step {
    w.delete_malformed(which == "generated").await
}

#[when("the task is stopped")]
async fn stop(w: &mut OmsWorld) -> Step {
    w.stop().await
}

// ----- answers ------------------------------------------------------------------

#[then("the delete succeeds with no body")]
async fn succeeds(w: &mut OmsWorld) -> Step {
    w.delete_succeeded()
}

#[then("the delete is refused")]
async fn refused(w: &mut OmsWorld) -> Step {
    w.delete_refused(Refusal::Any)
}

#[then(
    regex = r"^the delete is refused (as a running task|as a missing task|as unauthenticated|as signed at the wrong time|across projects)$"
)]
async fn refused_as(w: &mut OmsWorld, how: String) -> Step {
    w.delete_refused(match how.as_str() {
        "as a running task" => Refusal::Running,
        "as a missing task" => Refusal::Missing,
        "as unauthenticated" => Refusal::Unauthenticated,
        "as signed at the wrong time" => Refusal::SkewedDate,
        _ => Refusal::CrossProject,
    })
}

#[then("every delete is refused as a malformed task id")]
async fn malformed_refused(w: &mut OmsWorld) -> Step {
    w.every_malformed_refused()
}

#[then("exactly one delete succeeds and every other is refused with an error body")]
async fn exactly_one(w: &mut OmsWorld) -> Step {
    w.exactly_one_succeeded()
}

#[then("the outcome of the race is consistent")]
async fn race_consistent(w: &mut OmsWorld) -> Step {
    w.race_consistent().await
}

#[then("the unexpected input is ignored or refused")]
async fn unexpected_input(w: &mut OmsWorld) -> Step {
    w.unexpected_input_handled().await
}

#[then("the answer carries a request id")]
async fn request_id(w: &mut OmsWorld) -> Step {
    w.answer_has_request_id()
}

#[then("the answer is a JSON error body with a request id")]
async fn json_error(w: &mut OmsWorld) -> Step {
    w.answer_is_json_error()
}

// ----- the state of tasks ---------------------------------------------------------

#[then("the task is gone")]
async fn gone(w: &mut OmsWorld) -> Step {
    w.subject_gone().await
}

#[then("the task is intact")]
async fn intact(w: &mut OmsWorld) -> Step {
    w.subject_intact().await
}

#[then("every other task is intact")]
async fn others_intact(w: &mut OmsWorld) -> Step {
    w.others_intact().await
}

#[then("the task is listed")]
async fn listed(w: &mut OmsWorld) -> Step {
    w.subject_listed().await
}

#[then("the task's progress keeps moving")]
async fn progress(w: &mut OmsWorld) -> Step {
    w.progress_moves().await
}

#[then("the task becomes stopped")]
async fn becomes_stopped(w: &mut OmsWorld) -> Step {
    w.becomes_stopped().await
}

// ----- the whole run ---------------------------------------------------------------

#[given("every other scenario of the run has finished")]
async fn others_finished(w: &mut OmsWorld) -> Step {
    w.wait_for_the_others().await
}

#[then("every delete answer of the run carries a request id")]
async fn run_request_ids(w: &mut OmsWorld) -> Step {
    w.run_has_request_ids()
}

#[then("every delete error answer of the run is a JSON error body")]
async fn run_json_errors(w: &mut OmsWorld) -> Step {
    w.run_errors_are_json()
}

#[then("no delete answer of the run is a 5xx")]
async fn run_no_5xx(w: &mut OmsWorld) -> Step {
    w.run_has_no_server_error()
}
