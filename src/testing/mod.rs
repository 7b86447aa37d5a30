//! The fake platform that drives the session machine in tests.

pub mod harness;
