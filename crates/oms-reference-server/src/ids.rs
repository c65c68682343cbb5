//! Identifiers parsed once at the edge.

/// The most digits a task id may have (v2 documents 0–999999999999999).
const MAX_TASK_ID_DIGITS: usize = 15;

/// A task id: 1–15 ASCII digits in canonical form (no sign, no leading zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub u64);

impl TaskId {
    /// Parses the decoded path segment; `None` means malformed (`OMS.0054`).
    pub fn parse(segment: &str) -> Option<Self> {
        let canonical = !segment.is_empty()
            && segment.len() <= MAX_TASK_ID_DIGITS
            && segment.bytes().all(|b| b.is_ascii_digit())
            && (segment == "0" || !segment.starts_with('0'));
        canonical.then(|| segment.parse().ok().map(Self)).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::TaskId;

    #[test]
    fn accepts_only_canonical_decimal_ids() {
        assert_eq!(TaskId::parse("0"), Some(TaskId(0)));
        assert_eq!(TaskId::parse("16"), Some(TaskId(16)));
        assert_eq!(
            TaskId::parse("999999999999999"),
            Some(TaskId(999_999_999_999_999))
        );
        for bad in [
            "",
            "-1",
            "+1",
            "1.5",
            "1e3",
            "abc",
            " 1",
            "1 ",
            "007",
            "1000000000000000",
            "99999999999999999999",
            "１",
            "1/2",
            "..",
        ] {
            assert_eq!(TaskId::parse(bad), None, "{bad:?}");
        }
    }
}
