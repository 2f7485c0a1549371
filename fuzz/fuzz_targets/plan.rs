//! Any bytes read as a plan file: never a panic, and a rejection always says what was wrong.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let origin = Path::new("fuzz");
    let Ok(text) = captain::config::source::decode(origin, data.to_vec()) else {
        return;
    };
    if let Err(e) = captain::config::plan::Plan::parse(origin, &text).map(drop) {
        assert!(!e.message.is_empty(), "an error without a message");
    }
});
