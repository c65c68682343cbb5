//! The judgements of the delete of a busy task (OMS-DEL-018): a task pausing
//! (v2 status 7) or retrying (6), which the spec lets a target refuse or
//! delete. In default mode either holds; in strict mode a pausing task's
//! delete must be what the profile declares (`declared.pausing`), and a
//! retrying task's refusal one of `declared.running`.

use crate::check::{self, Halt, StatusClass as _};
use crate::config::{Answer, Disposition};
use crate::suite::world::OmsWorld;

/// What the judgement of a busy task's delete admits.
enum Admitted {
    /// Refused (in strict mode, with one of these answers) or deleted.
    Either(Option<Vec<Answer>>),
    /// Only what the profile declares (strict mode).
    Declared(Disposition),
}

impl OmsWorld {
    /// The delete of a pausing or retrying task: refused with an error body
    /// (and the task still there), or accepted and the task gone; never a 5xx.
    pub async fn busy_delete_consistent(&mut self) -> Result<(), Halt> {
        let running = self.declarations().running.clone();
        let refusal = self.declared(&running).map(<[Answer]>::to_vec);
        self.busy_delete(
            "deleting a pausing or retrying task",
            Admitted::Either(refusal),
        )
        .await
    }

    /// The delete of a pausing task: as [`Self::busy_delete_consistent`] in
    /// default mode; in strict mode the declared refusal, or, where the
    /// profile declares `pausing = "deleted"`, the declared success and the
    /// task gone.
    pub async fn pausing_delete_consistent(&mut self) -> Result<(), Halt> {
        let admitted = if self.strict() {
            Admitted::Declared(self.declarations().pausing.clone())
        } else {
            Admitted::Either(None)
        };
        self.busy_delete("deleting a pausing task", admitted).await
    }

    async fn busy_delete(&mut self, what: &str, admitted: Admitted) -> Result<(), Halt> {
        let answer = self.answer()?;
        let (p, id) = self.subject()?;
        self.judge(check::no_server_error([&answer], what))?;
        let (success, refusal) = match admitted {
            Admitted::Either(refusal) => (None, refusal),
            Admitted::Declared(declared) => {
                let deleted = declared == Disposition::Deleted;
                self.judge(check::check(
                    answer.is_success() == deleted,
                    || {
                        let got = answer.observed();
                        format!("{what}: the declared answer, {declared} (got {got})")
                    },
                    &[&answer],
                ))?;
                let answers = match declared {
                    Disposition::Refused(answers) => Some(answers),
                    Disposition::Deleted => None,
                };
                (Some(self.declarations().delete_status), answers)
            }
        };
        if answer.is_success() {
            self.judge(check::succeeded_without_body(&answer, success))?;
            return self.task_gone(p, id).await;
        }
        self.judge(check::refused(&answer, what, refusal.as_deref()))?;
        self.still_there(p, id, &answer).await
    }
}
