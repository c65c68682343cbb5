//! OMS v2 on the wire (`oms-v2-api.md` §2): the create, start, bandwidth and
//! list request forms, validated into the domain's [`TaskSpec`] and
//! [`Policy`], and the task object and status codes rendered from a
//! [`TaskView`]. Unknown fields are ignored at every level of every body
//! (see `wire`), and secrets are dropped here.
//!
//! One file a body or answer: the create body (`create`), the start and
//! bandwidth-policy bodies (`actions`), the list query (`list`) and the task
//! object (`task`), over the task settings' codes in both directions
//! (`settings`). What several of them share has a file of its own,
//! so every file here imports only files below it: the status codes
//! (`status`), the bandwidth policy of two bodies (`bandwidth`), and what
//! every body shares (`body`). This module only names what the API uses.
//!
//! [`TaskSpec`]: crate::model::TaskSpec
//! [`Policy`]: crate::bandwidth::Policy
//! [`TaskView`]: crate::model::TaskView

mod actions;
mod bandwidth;
mod body;
mod create;
mod list;
mod settings;
mod status;
mod task;

pub use actions::{BandwidthBody, StartBody};
pub use bandwidth::policy;
pub use body::parse_body;
pub use create::{CreateBody, Created};
pub use list::ListParams;
pub use task::{ListOut, TaskOut};
