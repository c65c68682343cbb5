//! The domain's vocabulary: what a task is asked to do ([`TaskSpec`]), the
//! states it moves through ([`Status`]), and what it looks like at one
//! instant ([`TaskView`]). These types know no wire format: they carry no
//! serde derive and no status code. Each dialect's `wire` module converts its
//! JSON into them and renders them back, so two dialects share one engine.

use crate::bandwidth::Policy;

/// A task's state. The variants name states, not codes: `wire::v1` owns the
/// integers OMS v1 sends for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Just created, not yet scheduled.
    Initializing,
    /// Scheduled, waiting for a parallel slot of the project.
    Waiting,
    /// Moving data.
    Running,
    /// Stopped by a client.
    Stopped,
    /// Ended in a failure (`error_reason` says which).
    Failed,
    /// Every object migrated.
    Succeeded,
    /// Scheduled, holding a parallel slot, but retrying its source instead of
    /// moving data (a `retry-…` source), until stopped.
    Retrying,
    /// Stopped by a client, still winding down: holds its parallel slot until
    /// the engine's pause delay has passed, then becomes [`Status::Stopped`].
    Pausing,
}

impl Status {
    /// Every state, in the engine's order.
    pub const ALL: [Status; 8] = [
        Status::Initializing,
        Status::Waiting,
        Status::Running,
        Status::Stopped,
        Status::Failed,
        Status::Succeeded,
        Status::Retrying,
        Status::Pausing,
    ];

    /// The state's slot in per-state tables (its place in [`Status::ALL`]).
    pub(crate) fn slot(self) -> usize {
        self as usize
    }

    /// Whether the task holds one of the project's parallel slots: it is
    /// active, and a delete is refused.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Running | Status::Retrying | Status::Pausing)
    }
}

/// A set of states: what one status code of a dialect names, since a
/// dialect's code may stand for several domain states (v1 has no code for
/// retrying or pausing, v2 none for initializing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusSet(u16);

impl StatusSet {
    /// The set of exactly `states`.
    pub const fn of(states: &[Status]) -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < states.len() {
            bits |= 1 << states[i] as usize;
            i += 1;
        }
        Self(bits)
    }

    pub fn contains(self, status: Status) -> bool {
        self.0 & (1 << status.slot()) != 0
    }

    /// The states of the set, in the engine's order.
    pub fn iter(self) -> impl Iterator<Item = Status> {
        Status::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

/// The name the service gives a task: create bodies carry none, in either
/// dialect, so it is a function of the id.
pub fn task_name(id: u64) -> String {
    format!("oms-task-{id}")
}

/// What kind of source listing a task migrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskType {
    /// Named objects (or one object).
    #[default]
    Object,
    /// The objects a list file in OBS names.
    List,
    /// Every object under a prefix.
    Prefix,
    /// The URLs a list file in OBS names.
    UrlList,
}

/// Where a list-file task finds its list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFile {
    pub obs_bucket: String,
    pub list_file_key: String,
    /// How many list files there are (v2 `list_file_num`, a string on the
    /// wire); echoed back, never read.
    pub list_file_num: Option<String>,
}

/// What the destination does with an object that exists already (v2 `object_overwrite_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OverwriteMode {
    Never,
    /// Overwrite when size or last-modified time differ.
    #[default]
    SizeLastModified,
    /// Overwrite when the CRC64 differs.
    Crc64,
    Always,
}

/// The storage class objects get at the destination (v2 `dst_storage_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoragePolicy {
    #[default]
    Standard,
    InfrequentAccess,
    Archive,
    DeepArchive,
    /// The class that maps the source object's class.
    SourceMapping,
}

/// How a migrated object is checked against its source (v2 `consistency_check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsistencyCheck {
    #[default]
    SizeLastModified,
    Crc64,
    None,
}

/// A task's scheduling priority (v2 `task_priority`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    High,
    Medium,
    Low,
}

/// What a task remembers of its create request, in either dialect: each
/// dialect fills what its body states and the defaults stand for the rest,
/// so every task renders in both. Secrets (keys, tokens, CDN authentication
/// keys) are dropped at the edge and never reach this type.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSpec {
    pub src_region: String,
    pub src_bucket: String,
    pub src_object_key: Vec<String>,
    pub src_cloud_type: String,
    pub src_list_file: Option<ListFile>,
    pub src_app_id: Option<String>,
    pub dst_region: String,
    pub dst_bucket: String,
    /// The destination prefix: v1 `dst_node.object_key`, v2 `dst_node.save_prefix`.
    pub dst_object_key: String,
    pub dst_cloud_type: String,
    /// Server-side encryption with KMS at the destination: v1 `enableKMS`,
    /// v2 `dst_node.crypto_type` `KMS`.
    pub enable_kms: bool,
    /// v1's `thread_num`; v2 has none, and its tasks keep 0.
    pub thread_num: u8,
    pub description: String,
    pub task_type: TaskType,
    /// Only objects modified since: seconds since the epoch as both create
    /// bodies state it, 0 when unset.
    pub migrate_since: i64,
    /// Opaque client data echoed back (notification settings); the engine
    /// never reads it, so it stays in whatever form the dialect gave it.
    pub smn_info: Option<Box<serde_json::Value>>,
    /// Opaque client data echoed back (CDN settings of the source).
    pub source_cdn: Option<Box<serde_json::Value>>,
    /// Restore archived source objects first: v1 `auto_restore`, v2 `enable_restore`.
    pub auto_restore: bool,
    pub enable_failed_object_recording: bool,
    pub enable_metadata_migration: bool,
    pub enable_requester_pays: bool,
    pub overwrite: OverwriteMode,
    pub storage_policy: StoragePolicy,
    pub consistency_check: ConsistencyCheck,
    pub priority: Option<Priority>,
}

/// The failure a task reports in `error_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureReason {
    pub code: &'static str,
    pub message: &'static str,
}

/// A task's figures at one instant: its state and progress.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    pub status: Status,
    pub total_size: u64,
    pub complete_size: u64,
    pub total_num: u64,
    pub success_num: u64,
    pub fail_num: u64,
    /// Bytes per second, 0 unless moving.
    pub migrate_speed: u64,
    /// Milliseconds since the epoch of the first run, 0 if never run.
    pub start_time: u64,
    /// Milliseconds spent running.
    pub total_time: u64,
    /// Estimated milliseconds left at the current rate, 0 unless moving.
    pub left_time: u64,
    pub failure: Option<FailureReason>,
}

impl Figures {
    /// The share of bytes moved, rounded down to four places as the console shows it.
    pub fn progress(&self) -> f64 {
        if self.total_size == 0 {
            return 1.0;
        }
        ((self.complete_size as f64 / self.total_size as f64) * 10_000.0).floor() / 10_000.0
    }
}

/// A task as seen at one instant, borrowing from the store: what query and
/// list render.
#[derive(Debug, Clone, Copy)]
pub struct TaskView<'a> {
    pub id: u64,
    pub spec: &'a TaskSpec,
    pub policy: &'a Policy,
    pub figures: Figures,
}

impl TaskView<'_> {
    /// An owned copy that outlives the store's lock.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            id: self.id,
            spec: self.spec.clone(),
            policy: self.policy.clone(),
            figures: self.figures,
        }
    }
}

/// A task as it was at one instant, owning its data (see [`TaskView::snapshot`]).
#[derive(Debug, Clone)]
pub struct Snapshot {
    id: u64,
    spec: TaskSpec,
    policy: Policy,
    figures: Figures,
}

impl Snapshot {
    /// The snapshot as a view, for the same renderers as a live task.
    pub fn view(&self) -> TaskView<'_> {
        TaskView {
            id: self.id,
            spec: &self.spec,
            policy: &self.policy,
            figures: self.figures,
        }
    }
}
