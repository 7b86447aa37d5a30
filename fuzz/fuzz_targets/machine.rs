//! The session machine under a schedule of calls, replies in any order (and replies it is not
//! waiting for), failures and time jumps: see `wx_session_fuzz::machine` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wx_session_fuzz::machine::play(data, 400);
});
