//! The step definitions: one-line adapters from the phrasebook of
//! `features/README.md` to the World's methods, grouped by concept (tasks,
//! deletes, answers, the state of tasks, the whole run).

use cucumber::{given, then, when};

use crate::check::Halt;
use crate::suite::vocabulary::{
    Client, Credentials, DialectName, Extra, Kind, Position, Refusal, Which,
};
use crate::suite::world::OmsWorld;

type Step = Result<(), Halt>;

// ----- tasks -----------------------------------------------------------------

#[given(expr = "a(n) {kind} task")]
async fn a_task(w: &mut OmsWorld, kind: Kind) -> Step {
    w.given_task(kind).await
}

#[given(expr = "a(n) {kind} task in the {project} project")]
async fn a_task_in(w: &mut OmsWorld, kind: Kind, project: Which) -> Step {
    w.given_task_in(kind, project.index()).await
}

#[given(expr = "three tasks created one after another, each {kind}")]
async fn three_tasks(w: &mut OmsWorld, kind: Kind) -> Step {
    w.given_consecutive(kind).await
}

#[given(expr = "{int} stopped tasks")]
async fn stopped_tasks(w: &mut OmsWorld, n: usize) -> Step {
    w.given_stopped_tasks(n).await
}

#[given("a running task that will succeed")]
async fn succeeding_task(w: &mut OmsWorld) -> Step {
    w.given_running_to_success().await
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

#[given("a pausing task")]
async fn pausing_task(w: &mut OmsWorld) -> Step {
    w.given_pausing().await
}

#[given("a retrying task")]
async fn retrying_task(w: &mut OmsWorld) -> Step {
    w.given_retrying().await
}

#[given(expr = "a(n) {kind} task created through {dialect}")]
async fn a_task_through(w: &mut OmsWorld, kind: Kind, dialect: DialectName) -> Step {
    w.given_task_through(kind, dialect.0).await
}

#[given("the task has been deleted")]
async fn already_deleted(w: &mut OmsWorld) -> Step {
    w.given_deleted().await
}

// ----- deletes and other actions ------------------------------------------------

#[when("the task is deleted")]
async fn delete(w: &mut OmsWorld) -> Step {
    w.delete().await
}

#[when(expr = "the {position} task is deleted")]
async fn delete_nth(w: &mut OmsWorld, position: Position) -> Step {
    w.choose_subject(position.index())?;
    w.delete().await
}

#[when(
    expr = "the task is deleted through the {project} project's path with the {project} project's credentials"
)]
async fn delete_through(w: &mut OmsWorld, path: Which, credentials: Which) -> Step {
    w.delete_through(path.index(), credentials.index()).await
}

#[when(
    expr = "the task is deleted with its own project's signature and the {project} project's X-Project-Id"
)]
async fn delete_naming(w: &mut OmsWorld, named: Which) -> Step {
    w.delete_naming(named.index()).await
}

#[when(expr = "the task is deleted with {credentials}")]
async fn delete_as(w: &mut OmsWorld, credentials: Credentials) -> Step {
    w.delete_as(credentials.0).await
}

#[when(expr = "the task is deleted with an unexpected {extra}")]
async fn delete_with_extra(w: &mut OmsWorld, extra: Extra) -> Step {
    w.delete_with(extra).await
}

#[when(expr = "the task is deleted by {int} simultaneous requests")]
async fn delete_simultaneously(w: &mut OmsWorld, k: usize) -> Step {
    w.delete_simultaneously(k).await
}

#[when("the task is stopped while deletes of it are sent before, during and after the stop")]
async fn race_stop(w: &mut OmsWorld) -> Step {
    w.race_stop().await
}

#[when("each task is started while deletes of it are sent before, during and after the start")]
async fn race_starts(w: &mut OmsWorld) -> Step {
    w.race_starts().await
}

#[when("deletes of the task are sent across the moment it ends")]
async fn race_end(w: &mut OmsWorld) -> Step {
    w.race_end().await
}

#[when("the catalogue's malformed task ids are deleted")]
async fn delete_catalogue_malformed(w: &mut OmsWorld) -> Step {
    w.delete_catalogue_malformed().await
}

#[when("the generated malformed task ids are deleted")]
async fn delete_generated_malformed(w: &mut OmsWorld) -> Step {
    w.delete_generated_malformed().await
}

#[when(expr = "the task is deleted by the {client}-shaped request")]
async fn delete_shaped(w: &mut OmsWorld, client: Client) -> Step {
    w.delete_shaped(client.0).await
}

#[when(expr = "the task is deleted through {dialect}")]
async fn delete_through_dialect(w: &mut OmsWorld, dialect: DialectName) -> Step {
    w.delete_through_dialect(dialect.0).await
}

#[when("the task is deleted between two counts of its project")]
async fn delete_counted(w: &mut OmsWorld) -> Step {
    w.delete_counted().await
}

#[when("a DELETE is sent to each route beside the task")]
async fn delete_beside(w: &mut OmsWorld) -> Step {
    w.delete_beside().await
}

#[when("the task is deleted, and deleted again while it is refused as in progress")]
async fn delete_after_stop(w: &mut OmsWorld) -> Step {
    w.delete_after_stop().await
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

#[then(expr = "the delete is refused {refusal}")]
async fn refused_as(w: &mut OmsWorld, refusal: Refusal) -> Step {
    w.delete_refused(refusal)
}

#[then("every delete is refused as a malformed task id")]
async fn malformed_refused(w: &mut OmsWorld) -> Step {
    w.every_malformed_refused()
}

#[then("exactly one delete succeeds and every other is refused with an error body")]
async fn exactly_one(w: &mut OmsWorld) -> Step {
    w.exactly_one_succeeded()
}

#[then("the delete is refused, or the task is gone")]
async fn busy_consistent(w: &mut OmsWorld) -> Step {
    w.busy_delete_consistent().await
}

#[then("the delete is refused as a pausing task, or the task is gone")]
async fn pausing_consistent(w: &mut OmsWorld) -> Step {
    w.pausing_delete_consistent().await
}

#[then("every such delete is refused with an error body")]
async fn beside_refused(w: &mut OmsWorld) -> Step {
    w.every_answer_refused("a DELETE on a route beside the task")
}

#[then("the outcome of every race is consistent")]
async fn races_consistent(w: &mut OmsWorld) -> Step {
    w.races_consistent().await
}

#[then("the task stays gone over the settle period")]
async fn stays_gone(w: &mut OmsWorld) -> Step {
    w.subject_stays_gone().await
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

#[then("the count and the list both dropped by one")]
async fn dropped_by_one(w: &mut OmsWorld) -> Step {
    w.count_dropped_by_one()
}

#[then("the list filtered by the task's status counts and lists only tasks in that status")]
async fn filter_consistent(w: &mut OmsWorld) -> Step {
    w.status_filter_consistent().await
}

#[then(expr = "the task is visible through {dialect}")]
async fn visible_through(w: &mut OmsWorld, dialect: DialectName) -> Step {
    w.visible_through(dialect.0).await
}

#[then(expr = "the task is gone through {dialect}")]
async fn gone_through(w: &mut OmsWorld, dialect: DialectName) -> Step {
    w.gone_through(dialect.0).await
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
