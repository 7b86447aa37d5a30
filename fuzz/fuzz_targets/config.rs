//! Any bytes, and a config-shaped value made from them, through `Config::from_plain`: never a
//! panic; a refusal is a `CONFIG` error naming a key; an accepted config is usable as is.
#![no_main]

use std::rc::Rc;

use libfuzzer_sys::fuzz_target;
use wx_session::answer::ReadPaths;
use wx_session::plain::Writer;
use wx_session::{login, Config, ReadSet, Session};
use wx_session_fuzz::{gen, Input};

fuzz_target!(|data: &[u8]| {
    read(data);
    let mut input = Input::new(data);
    let mut w = Writer::new();
    if input.chance(85) {
        gen::config(&mut input, &mut w);
    } else {
        gen::writer_calls(&mut input, &mut w);
    }
    read(w.bytes());
});

fn read(plain: &[u8]) {
    let config = match Config::from_plain(plain) {
        Ok(config) => config,
        Err(error) => {
            assert_eq!(error.code(), "CONFIG");
            assert!(error.key().is_some_and(|key| !key.is_empty()), "a CONFIG error without a key: {error:?}");
            return;
        }
    };
    // What the session does with a config right away must work for any accepted one.
    let request = login::request(&config, "061abc", false);
    // (Not `url.get(..8)`: byte 8 may fall inside a character of an absolute login URL.)
    let url = request.url.to_ascii_lowercase();
    assert!(url.starts_with("http://") || url.starts_with("https://"), "login URL {:?}", request.url);
    assert!(!request.url.chars().any(|c| c.is_control() || c.is_whitespace()), "login URL {:?}", request.url);
    if let Some(check) = &config.check {
        assert!(!config.endpoint(&check.url).is_empty());
    }
    let paths = ReadPaths::new(&config);
    assert!(!paths.of(ReadSet::Login).is_empty(), "the login answer's token path is always read");
    for url in ["/api", "x", "https://api.example.com/a", "https://evil.test/", ""] {
        if let Some(target) = config.target(&Rc::from(url)) {
            target.full(&config);
        }
    }
    let mut session = Session::new(config, 1);
    session.ensure(0);
    while session.poll_action().is_some() {}
}
