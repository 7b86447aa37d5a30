//! A login answer (status and fields) through `login::read_answer`, for a profile's config or
//! one made from the input: never a panic; an accepted token is 1 to 8192 bytes of visible
//! ASCII, obtained now; a refusal never carries the token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wx_session::answer::ReadPaths;
use wx_session::plain::Writer;
use wx_session::testing::is_good_token;
use wx_session::{login, Answer, Config, ReadSet};
use wx_session_fuzz::fields::{self, FieldSpec};
use wx_session_fuzz::{gen, profiles, Input, MARK};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let config = match profiles::config(input.choice(profiles::COUNT + 1)) {
        Some(config) => config,
        None => {
            let mut w = Writer::new();
            gen::config(&mut input, &mut w);
            match Config::from_plain(w.bytes()) {
                Ok(config) => config,
                Err(_) => return,
            }
        }
    };
    let now = input.u64();
    let status = fields::read_status(&mut input);
    let specs: Vec<FieldSpec> = fields::read_specs(&mut input, 6);
    let mut issued = Vec::new();
    let fields = specs
        .iter()
        .map(|spec| {
            spec.field(&mut |junk| {
                let token = fields::token(issued.len() as u32 + 1, junk);
                issued.push(token.clone());
                token
            })
        })
        .collect();
    let answer = Answer { status, fields };
    let paths = ReadPaths::new(&config);
    match login::read_answer(&config, &paths.view(ReadSet::Login, &answer), now) {
        Ok(stored) => {
            let token = stored.token.as_str();
            assert!(is_good_token(token), "accepted a token of {} bytes a header cannot carry", token.len());
            assert_eq!(stored.obtained_at, Some(now));
            assert!(stored.expires_at.is_none_or(|at| at >= now), "expires before it was obtained");
            assert!(status < 500, "a {status} answer was accepted");
        }
        Err(error) => {
            let message = error.message();
            let named_in_config = paths.of(ReadSet::Login).iter().any(|p| p.as_str().contains(MARK));
            for token in &issued {
                assert!(named_in_config || !message.contains(token.as_str()), "the refusal carries the token: {}", error.code());
            }
        }
    }
});
