//! The fault catalogue: every deliberate bug the `faults` feature can inject,
//! by name and one-line description. A leaf: plain data that `config` and
//! `main` can name in every build, with no dependency on the server's state.
//! What each fault does is in `live.rs`.

macro_rules! faults {
    ($($variant:ident = $name:literal: $doc:literal,)*) => {
        /// A deliberate bug, named on the command line by its kebab-case name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Fault {
            $(#[doc = $doc] $variant,)*
        }

        impl Fault {
            /// Every fault, in catalogue order.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant,)*];

            /// The kebab-case name of the fault.
            pub fn name(self) -> &'static str {
                match self { $(Fault::$variant => $name,)* }
            }

            /// What the fault breaks, in one line.
            pub fn description(self) -> &'static str {
                match self { $(Fault::$variant => $doc,)* }
            }
        }
    };
}

faults! {
    DeleteRunning = "delete-running": "Deletes a running task (200) instead of refusing it.",
    DeleteWithBody = "delete-with-body": "Answers a successful delete with a JSON body.",
    RefuseButRemove = "refuse-but-remove": "Refuses the delete of a running task with OMS.0063 but removes it anyway.",
    RefusedDeleteFreezes = "refused-delete-freezes": "Refuses the delete of a running task with OMS.0063, but the task stops moving (still status 2).",
    AcceptMissing = "accept-missing": "Answers 200 to the delete of a task that does not exist.",
    GhostInGet = "ghost-in-get": "Keeps a deleted task visible to GET.",
    GhostInList = "ghost-in-list": "Keeps a deleted task in the list.",
    GhostInCount = "ghost-in-count": "Keeps a deleted task in the count.",
    DeleteNeighbour = "delete-neighbour": "Deletes the task and its id neighbour (id + 1).",
    DeleteNeighbourInstead = "delete-neighbour-instead": "Deletes the id neighbour (id + 1) instead of the task.",
    IgnoreProjectScope = "ignore-project-scope": "Deletes a task through another project's path.",
    SkipAuth = "skip-auth": "Skips the credential check on every route.",
    Malformed500 = "malformed-500": "Answers 500 to a malformed task id.",
    MalformedDeletesPrefix = "malformed-deletes-prefix": "Refuses a malformed task id with OMS.0054, but first deletes the task its leading digits name (12abc deletes 12).",
    DoubleDelete = "double-delete": "Lets a second delete of a just-deleted task succeed too (racing deletes both win).",
    DeleteRacingStop = "delete-racing-stop": "A delete right after a stop answers 200 but the task survives.",
    RefuseStopped = "refuse-stopped": "Refuses to delete a stopped task (status 3).",
    RefuseFailed = "refuse-failed": "Refuses to delete a failed task (status 4).",
    RefuseSucceeded = "refuse-succeeded": "Refuses to delete a succeeded task (status 5).",
    RefuseWaiting = "refuse-waiting": "Refuses to delete a task that is initializing or waiting (status 0 or 1).",
    QueryString500 = "query-string-500": "Answers 500 to a delete that carries a query string.",
    NoRequestId = "no-request-id": "Leaves out the X-Request-Id header.",
    TextPlainErrors = "text-plain-errors": "Sends error bodies as text/plain.",
    DeleteNeedsContentType = "delete-needs-content-type": "Refuses a delete that carries no Content-Type (as Terraform sends it) with 400 OMS.0067, not JSON.",
    CountIgnoresStatus = "count-ignores-status": "Counts every status in a count filtered by status (the pages still list only that status).",
    DeleteOnActionRoute = "delete-on-action-route": "Deletes the task on a DELETE to its stop, start or bandwidth-policy route instead of answering 404 APIGW.0101.",
    StopRewritesRecord = "stop-rewrites-record": "A stop marks the task stopped at once, then finishes its bookkeeping with the lock released and writes back the record it read, so a delete accepted in between is undone and the task comes back.",
    StartIgnoresDelete = "start-ignores-delete": "A start reads the stopped task, finishes its bookkeeping with the lock released, then writes the task back started, so a delete accepted in between is undone and the task runs.",
    FinishReinserts = "finish-reinserts": "A delete of a task within 250 ms of its success is accepted, but the engine's own finish bookkeeping writes the task back 250 ms after it succeeded.",
    RunningRetries = "running-retries": "Not a bug: every running task retries (status 6, moving nothing) for 150 ms after each 350 ms of running, and refuses a stop while it retries with OMS.0066 (stop applies only in status 2). The kit must judge it as it judges the faithful server.",
    RefusedDeleteStops = "refused-delete-stops": "Refuses the delete of a running task with OMS.0063, but the task stops by itself (2 to 3) at once.",
    SlowAfterStop = "slow-after-stop": "Refuses the delete of a stopped task with OMS.0063 for 300 ms after it stopped, as the live service may: v2's OMS-DEL-007 retries it (as the Terraform provider does), v1's deletes once.",
    RefuseAfterStop = "refuse-after-stop": "Refuses the delete of a stopped task with OMS.0063 (the task is in progress), for ever.",
    DeletePausing = "delete-pausing": "Deletes a pausing task (200) instead of refusing it.",
}

impl std::str::FromStr for Fault {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Fault::ALL
            .iter()
            .copied()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Fault::ALL.iter().map(|f| f.name()).collect();
                format!("unknown fault {name:?}; known: {}", names.join(", "))
            })
    }
}
