//! The session machine under a schedule of calls, replies in any order (and replies it is not
//! waiting for), failures and time jumps: see `wx_session_fuzz::machine` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wx_session_fuzz::machine::Driver;

fuzz_target!(|data: &[u8]| {
    Driver::play(data, 400);
});
