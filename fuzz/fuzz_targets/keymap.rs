//! Any bytes read as the `[keys]` table of captain.toml, then made into the console's keymap:
//! never a panic, and a rejection always says what was wrong.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let origin = Path::new("fuzz");
    let Ok(text) = captain::config::source::decode(origin, data.to_vec()) else {
        return;
    };
    let text = format!("[keys]\n{text}");
    match captain::config::app::AppConfig::parse(origin, &text) {
        Ok(config) => {
            if let Err(e) = captain::tui::keymap::Keymap::new(false, &config.keys) {
                assert!(!e.is_empty(), "an error without a message");
            }
        }
        Err(e) => assert!(!e.message.is_empty(), "an error without a message"),
    }
});
