//! Tests of the session machine: scripts over the fake platform of [`crate::testing`] (a
//! platform that performs the machine's actions, a code2Session-like backend, a virtual clock).
//!
//! - [`launch`]: the launch flow (stored token → checks → login), its retries, what it stores;
//! - [`requests`]: API requests, re-login on "session invalid", retries, logout meanwhile;
//! - [`options`]: protocol options, check policies, storage shapes;
//! - [`deadlines`]: deadlines, cancellation, late and unknown results, settling exactly once;
//! - [`calls`]: `login(extra)`, `set_token`, `abort`, uploads and downloads, what `logout()`
//!   leaves behind;
//! - [`refresh`]: access + refresh token pairs: one shared refresh, rotation, a login when the
//!   refresh token is refused, ahead of expiry, at relaunch;
//! - [`hooks`]: `authRequiredWhen`, `api.failWhen`, a send the app's `beforeRequest` refused;
//! - [`faults`]: every host capability × every way it misbehaves × every call that reaches it;
//! - [`properties`]: random schedules of calls, replies, faults and time (proptest).

use serde_json::{json, Value};

use crate::session::*;
use crate::testing::*;

mod calls;
mod deadlines;
mod faults;
mod hooks;
mod launch;
mod options;
// proptest does not build for wasm32-unknown-unknown (see Cargo.toml).
#[cfg(not(target_arch = "wasm32"))]
mod properties;
mod refresh;
mod requests;

fn check_always() -> Value {
    json!({ "check": { "url": "/auth", "okWhen": { "path": "errCode", "equals": 0 } } })
}

fn with_record(token: &str) -> World {
    let mut world = World::default();
    world.store_record(token);
    world
}

fn states(h: &Harness) -> Vec<State> {
    h.world.states.iter().map(|(state, _)| *state).collect()
}

fn is_ok_answer(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Answer(200, _))
}
