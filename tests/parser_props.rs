//! Every parser of a configuration file (the plan, slo.yml, captain.toml, a theme, the key
//! bindings of `[keys]`) on arbitrary bytes and on corpus files with random damage: never a
//! panic, and every rejection names its line and column and says what was expected. A bounded
//! run for CI; the `fuzz/` targets run the same parsers for as long as one lets them.

use std::path::{Path, PathBuf};

use captain::config::ConfigError;
use captain::config::app::AppConfig;
use captain::config::plan::Plan;
use captain::config::slo::SloConfig;
use captain::config::source;
use captain::tui::keymap::Keymap;
use captain::tui::theme::Theme;
use proptest::prelude::*;
use proptest::test_runner::Config;

type Parser = fn(&Path, &str) -> Result<(), ConfigError>;

fn keymap(origin: &Path, text: &str) -> Result<(), ConfigError> {
    let config = AppConfig::parse(origin, &format!("[keys]\n{text}"))?;
    // Keys that reach the keymap were checked at load; building it must not fail.
    Keymap::new(false, &config.keys)
        .map(drop)
        .map_err(|e| ConfigError::new(origin, format!("checked at load, refused later: {e}")))
}

/// Each parser, the corpus and good files it is fed, and a name for failures.
const PARSERS: &[(&str, Parser, &[&str])] = &[
    (
        "plan",
        |o, t| Plan::parse(o, t).map(drop),
        &["fixtures/plan/broken", "fixtures/plan/minimal.yml"],
    ),
    (
        "slo",
        |o, t| SloConfig::parse(o, t).map(drop),
        &["fixtures/slo/broken", "fixtures/slo/example.yml"],
    ),
    (
        "toml",
        |o, t| AppConfig::parse(o, t).map(drop),
        &["fixtures/toml/broken", "fixtures/toml/captain.toml"],
    ),
    (
        "theme",
        |o, t| Theme::parse(o, t).map(drop),
        &["fixtures/theme/broken", "themes/default.toml"],
    ),
    ("keys", keymap, &["fixtures/toml/broken/keys_clash.toml"]),
];

fn seeds(parser: usize) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = Vec::new();
    for place in PARSERS[parser].2 {
        let path = Path::new(place);
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .expect("a corpus directory")
                .map(|e| e.expect("a directory entry").path())
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.to_path_buf());
        }
    }
    files
        .iter()
        .map(|f| std::fs::read(f).expect("a corpus file"))
        .collect()
}

/// What the damage inserts: the bytes YAML and TOML give a meaning to, and some that are not
/// UTF-8.
const PIECES: &[&[u8]] = &[
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b": ",
    b"- ",
    b"? ",
    b"!",
    b"!!str ",
    b"&a ",
    b"*a",
    b"|",
    b">",
    b"'",
    b"\"",
    b"#",
    b"\t",
    b"\n",
    b"\n  ",
    b"\n---\n",
    b"\n...\n",
    b"=",
    b"[[",
    b"\\",
    b".nan",
    b"-.inf",
    b"0s",
    b"-1",
    b"99999999999999999999",
    b"\xff",
    b"\xe2\x82",
    b"\x00",
    b"\r\n",
];

#[derive(Debug, Clone)]
enum Damage {
    Insert(usize, usize),
    Delete(usize, usize),
    Repeat(usize, usize, usize),
    Byte(usize, u8),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), 0..PIECES.len()).prop_map(|(at, p)| Damage::Insert(at, p)),
        (any::<usize>(), 1..40usize).prop_map(|(at, n)| Damage::Delete(at, n)),
        (any::<usize>(), 1..20usize, 2..200usize).prop_map(|(at, n, k)| Damage::Repeat(at, n, k)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Damage::Byte(at, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, damage: &[Damage]) -> Vec<u8> {
    for d in damage {
        let len = bytes.len();
        let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
        match *d {
            Damage::Insert(i, p) => {
                let i = at(i);
                bytes.splice(i..i, PIECES[p].iter().copied());
            }
            Damage::Delete(i, n) => {
                let i = at(i);
                bytes.drain(i..(i + n).min(len));
            }
            Damage::Repeat(i, n, k) => {
                let i = at(i);
                let piece: Vec<u8> = bytes[i..(i + n).min(len)].to_vec();
                let copies: Vec<u8> = piece.repeat(k);
                bytes.splice(i..i, copies);
            }
            Damage::Byte(i, b) if len > 0 => bytes[i % len] = b,
            Damage::Byte(..) => {}
        }
    }
    bytes
}

/// Reads `bytes` as the bounded reader does and parses them; a rejection must have a position.
fn parse(parser: usize, bytes: Vec<u8>) -> Result<(), TestCaseError> {
    let (name, parse, _) = PARSERS[parser];
    let origin = Path::new("input");
    let outcome = std::panic::catch_unwind(|| {
        let text = source::decode(origin, bytes)?;
        parse(origin, &text)
    });
    match outcome {
        Err(_) => Err(TestCaseError::fail(format!("{name}: panicked"))),
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            prop_assert!(
                e.line.is_some() && e.column.is_some(),
                "{name}: no position: {e}"
            );
            prop_assert!(!e.message.trim().is_empty(), "{name}: no message: {e}");
            prop_assert_eq!(e.file, origin.to_path_buf());
            Ok(())
        }
    }
}

fn config() -> Config {
    Config {
        cases: 500,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_are_parsed_or_rejected_at_a_position(
        parser in 0..PARSERS.len(),
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        parse(parser, bytes)?;
    }

    #[test]
    fn damaged_corpus_files_are_parsed_or_rejected_at_a_position(
        parser in 0..PARSERS.len(),
        pick in any::<usize>(),
        damage in proptest::collection::vec(damage(), 1..6),
    ) {
        let seeds = seeds(parser);
        let seed = seeds[pick % seeds.len()].clone();
        parse(parser, apply(seed, &damage))?;
    }
}
