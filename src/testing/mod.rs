//! The fake platform that drives the session machine in tests: the one place to extend when a
//! test needs the platform, the backend or the checks to do something new.
//!
//! - [`Driver`] — the machine, its clock and a driver's books (calls started, operations in
//!   flight), checking every action the machine asks for against what must always hold. The
//!   property tests (`src/session/tests/properties.rs`) and the fuzz target (`fuzz/src/machine.rs`)
//!   drive it directly, choosing every reply and its order themselves. A new invariant goes here.
//! - [`World`] — a fake platform and backend: storage, `wx.*`, a developer's server over
//!   code2Session, and per-capability [`Fault`]s. A new platform behaviour or knob goes here.
//! - [`Harness`] — a [`Driver`] whose actions the [`World`] performs, with answers scheduled on
//!   a virtual clock: the scripted tests of `src/session/tests/` are written over it.
//!
//! Compiled for this crate's own tests and with the `testing` feature (the fuzz crate enables
//! it); never in the shipped .wasm.

mod driver;
mod harness;
mod world;

pub use driver::{is_good_token, json_to_plain, Awaits, CallKind, Driver, Op, Reply};
pub use harness::{config, Harness, Outcome, SEED, START};
pub use world::{deep, huge, read_field, Capability, Fault, Garbage, Response, Sent, World, HTML};
