//! The judgements of the delete of a busy task (OMS-DEL-018): a task pausing
//! (v2 status 7) or retrying (6), which the spec lets a target refuse or
//! delete. In default mode either holds; in strict mode a pausing task's
//! delete must be what the profile declares (`declared.pausing`), and a
//! retrying task's refusal one of `declared.running`.

use std::sync::Arc;

use crate::check::{self, Halt, StatusClass as _};
use crate::config::{Answer, Disposition};
use crate::http::Exchange;
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
            Admitted::Declared(Disposition::Refused(answers)) if answer.is_success() => {
                // Deleted: while it paused (against the declaration), or
                // just after its pause ended (no evidence either way).
                let status = self.declarations().delete_status;
                self.judge(check::succeeded_without_body(&answer, Some(status)))?;
                self.task_gone(p, id).await?;
                return self.pausing_again(what, &answers, answer).await;
            }
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

    /// A delete of a task seen pausing was accepted where the profile
    /// declares a refusal: the pause may have ended between the look and the
    /// delete (the reference's lasts 200 ms; a loaded machine has been seen to
    /// take longer). Up to [`PAUSING_TRIES`] more tasks are caught pausing
    /// and deleted at once: one declared refusal shows the target refuses a
    /// pausing task's delete (the accepted ones came too late); every one
    /// accepted fails the rule, with each acceptance as evidence.
    async fn pausing_again(
        &mut self,
        what: &str,
        answers: &[Answer],
        first: Arc<Exchange>,
    ) -> Result<(), Halt> {
        let mut accepted = vec![first];
        for _ in 0..PAUSING_TRIES {
            self.given_pausing().await?;
            self.delete().await?;
            let answer = self.answer()?;
            let (p, id) = self.subject()?;
            self.judge(check::no_server_error([&answer], what))?;
            if !answer.is_success() {
                self.judge(check::refused(&answer, what, Some(answers)))?;
                return self.still_there(p, id, &answer).await;
            }
            self.task_gone(p, id).await?;
            accepted.push(answer);
        }
        let tries = accepted.len();
        let declared = answers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        let evidence: Vec<&Arc<Exchange>> = accepted.iter().collect();
        self.judge(check::check(
            false,
            || format!("{what}: the declared answer, refused ({declared}); each of {tries} tasks seen pausing and deleted at once was deleted"),
            &evidence,
        ))
    }
}

/// How many more tasks strict mode catches pausing and deletes, when the
/// delete of one seen pausing was accepted against a declared refusal.
const PAUSING_TRIES: usize = 3;
