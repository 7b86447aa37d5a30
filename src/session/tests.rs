//! Flow tests: scripts over the harness (a fake platform, a code2Session-like backend, a
//! virtual clock).

use serde_json::json;

use super::harness::*;
use super::*;

#[test]
fn first_launch_logs_in_and_stores_the_token() {
    let mut h = Harness::new(World::default(), json!({}));
    let call = h.ensure();
    assert_eq!(h.run(call).ready(), ("tok-1".into(), Source::Login));
    assert_eq!(h.world.stored_token().as_deref(), Some("tok-1"));
    assert_eq!(h.world.login_calls, 1);
}
