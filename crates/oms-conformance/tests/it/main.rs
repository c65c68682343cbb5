//! Integration tests of the harness binary.
