//! The bad-input corpus: every file under `fixtures/<kind>/broken/` is loaded by the loader
//! of its kind (the plan, slo.yml, captain.toml, a theme) and must be rejected with its path,
//! a line and a column, and a message saying what was expected; never accepted, never a panic.
//! The files of `fixtures/toml/broken/` and `fixtures/theme/broken/` are held to their exact
//! position and message here; the plan's and slo.yml's in `plan_config.rs` and `slo_config.rs`.

use std::path::{Path, PathBuf};

use captain::config::ConfigError;
use captain::config::app::AppConfig;
use captain::config::plan::Plan;
use captain::config::slo::SloConfig;
use captain::tui::theme::Theme;

type Loader = fn(&Path) -> Result<(), ConfigError>;

const KINDS: &[(&str, Loader)] = &[
    ("plan", |p| Plan::load(p).map(drop)),
    ("slo", |p| SloConfig::load(p).map(drop)),
    ("toml", |p| AppConfig::load(p).map(drop)),
    ("theme", |p| {
        Theme::load(&p.to_string_lossy(), None).map(drop)
    }),
];

/// File in `fixtures/toml/broken/` → line, column, a part of the message. Line 1 of each file
/// says what is wrong with it; the rest is `fixtures/toml/captain.toml` with that one defect.
#[rustfmt::skip]
const TOML: &[(&str, usize, usize, &str)] = &[
    ("api_url_empty", 13, 11, "\"\" is not a URL: relative URL without a base"),
    ("api_url_ftp", 13, 11, "\"ftp://ghe.example.com/api/v3\" is not an http(s) URL with a host (scheme \"ftp\")"),
    ("api_url_no_scheme", 13, 11, "\"api.github.com\" is not a URL: relative URL without a base"),
    ("keys_bad_key", 28, 12, "`hyper-r` is not a key: expected e.g. R, ctrl-r, tab, enter, f5"),
    ("keys_clash", 27, 1, "[keys] `q` is bound to both rollback and quit"),
    ("keys_empty", 28, 12, "`` is not a key: expected e.g. R, ctrl-r, tab, enter, f5"),
    ("keys_not_a_string", 28, 12, "invalid type: integer `5`, expected a string"),
    ("keys_unknown_action", 28, 1, "`rolback` is not an action; expected one of help, palette, filter, next-panel, prev-panel, phases,"),
    ("kube_context_a_number", 3, 11, "invalid type: integer `1`, expected a string"),
    ("namespace_empty", 6, 13, "the namespace \"\" is not a valid name: 1 to 63 lowercase letters, digits and `-`, starting and"),
    ("namespace_too_long", 6, 13, "the namespace \"pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp\" is not a valid"),
    ("namespace_trailing_dash", 6, 13, "the namespace \"prod-\" is not a valid name: 1 to 63 lowercase letters, digits and `-`, starting and"),
    ("non_utf8_comment", 4, 4, "byte 0xe9 is not UTF-8; expected UTF-8 text"),
    ("non_utf8_cut_short", 29, 3, "byte 0xe2 is not UTF-8; expected UTF-8 text"),
    ("non_utf8_value", 3, 17, "byte 0xff is not UTF-8; expected UTF-8 text"),
    ("nul_byte", 5, 12, "invalid basic string, expected non-double-quote visible characters, `\\`"),
    ("plan_file_a_table", 22, 8, "invalid type: map, expected a string"),
    ("previews_prefix_empty", 19, 10, "the preview prefix is empty: every namespace would be a preview; expected something such as \"pr-\""),
    ("previews_prefix_no_separator", 19, 10, "the preview prefix \"pr\" does not end in a separator (`-`, `_` or `.`); expected something such as"),
    ("previews_ttl_not_a_duration", 20, 7, "`three days` is not a duration such as 30s, 10m or 3d (expected number at 0)"),
    ("previews_ttl_zero", 20, 7, "a preview TTL of 0s would clean previews still in use; expected at least 1h"),
    ("prometheus_url_file", 15, 7, "\"file:///etc/passwd\" is not an http(s) URL with a host (scheme \"file\")"),
    ("prometheus_url_garbage", 15, 7, "\"prometheus monitoring\" is not a URL: relative URL without a base"),
    ("prometheus_url_no_host", 15, 7, "\"http://\" is not a URL: empty host"),
    ("release_name_a_number", 5, 8, "invalid type: integer `5`, expected a string"),
    ("release_name_capital", 5, 8, "the release \"Summit\" is not a valid name: 1 to 53 lowercase letters, digits and `-`, starting and"),
    ("release_name_empty", 5, 8, "the release \"\" is not a valid name: 1 to 53 lowercase letters, digits and `-`, starting and ending"),
    ("release_name_too_long", 5, 8, "the release \"ssssssssssssssssssssssssssssssssssssssssssssssssssssss\" is not a valid name: 1 to 53"),
    ("release_name_underscore", 5, 8, "the release \"summit_web\" is not a valid name: 1 to 53 lowercase letters, digits and `-`, starting"),
    ("repo_empty_name", 12, 8, "the repository \"acme/\" is not `owner/name` (e.g. \"acme/summit\")"),
    ("repo_empty_owner", 12, 8, "the repository \"/summit\" is not `owner/name` (e.g. \"acme/summit\")"),
    ("repo_space", 12, 8, "the repository \"acme/sum mit\" is not `owner/name` (e.g. \"acme/summit\")"),
    ("repo_three_parts", 12, 8, "the repository \"acme/summit/web\" is not `owner/name` (e.g. \"acme/summit\")"),
    ("repo_without_owner", 12, 8, "the repository \"summit\" is not `owner/name` (e.g. \"acme/summit\")"),
    ("route_double_dot", 10, 9, "the route \"summit..canary\" is not a valid name: lowercase letters, digits, `-` and `.`, at most"),
    ("route_empty", 10, 9, "the route \"\" is not a valid name: lowercase letters, digits, `-` and `.`, at most 253, each part"),
    ("route_uppercase", 10, 9, "the route \"Summit\" is not a valid name: lowercase letters, digits, `-` and `.`, at most 253, each"),
    ("slo_file_an_array", 17, 8, "invalid type: sequence, expected path string"),
    ("stage_namespace_dot", 7, 19, "the namespace \"stage.eu\" is not a valid name: 1 to 63 lowercase letters, digits and `-`, starting"),
    ("syntax_bad_table_header", 11, 8, "unclosed table, expected `]`"),
    ("syntax_duplicate_key", 6, 1, "duplicate key"),
    ("syntax_duplicate_table", 8, 2, "duplicate key"),
    ("syntax_missing_equals", 6, 11, "key with no value, expected `=`"),
    ("syntax_unclosed_string", 5, 15, "invalid basic string, expected `\"`"),
    ("timeouts_budget_a_number", 26, 10, "invalid type: integer `30`, expected a duration such as 30s, 10m or 3d"),
    ("timeouts_budget_negative", 26, 10, "`-5s` is not a duration such as 30s, 10m or 3d (expected number at 0)"),
    ("timeouts_budget_zero", 26, 10, "expected a duration of more than 0s, such as 30s, found 0s"),
    ("traffic_kind_unknown", 9, 8, "unknown variant `istio`, expected `gateway-api` or `ingress-nginx`"),
    ("ui_bell_a_number", 25, 8, "invalid type: integer `1`, expected a boolean"),
    ("ui_read_only_not_a_bool", 25, 13, "invalid type: string \"yes\", expected a boolean"),
    ("unknown_key_in_release", 6, 1, "unknown field `namespce`, expected one of `name`, `namespace`, `stage_namespace`"),
    ("unknown_table", 23, 2, "unknown field `alerts`, expected one of `kube`, `release`, `traffic`, `github`, `prometheus`,"),
];

/// File in `fixtures/theme/broken/` → line, column, a part of the message. Line 1 of each file
/// says what is wrong with it; the rest is `themes/light.toml` with that one defect.
#[rustfmt::skip]
const THEME: &[(&str, usize, usize, &str)] = &[
    ("colour_a_bool", 3, 9, "invalid type: boolean `true`, expected a colour: a name such as lightred, a hex #rrggbb or an index"),
    ("colour_a_table", 5, 18, "invalid type: map, expected a colour: a name such as lightred, a hex #rrggbb or an index 0-255"),
    ("colour_an_array", 4, 10, "invalid type: sequence, expected a colour: a name such as lightred, a hex #rrggbb or an index 0-255"),
    ("colour_empty", 6, 9, "`` is not a colour: expected a name such as lightred, a hex #rrggbb or an index 0-255"),
    ("colour_name_unknown", 2, 8, "`blackish` is not a colour: expected a name such as lightred, a hex #rrggbb or an index 0-255"),
    ("duplicate_key", 3, 1, "duplicate key"),
    ("hex_bad_digit", 9, 8, "`#1a7g37` is not a colour: expected a name such as lightred, a hex #rrggbb or an index 0-255"),
    ("hex_short", 8, 16, "`#abc` is not a colour: expected a name such as lightred, a hex #rrggbb or an index 0-255"),
    ("hex_too_long", 10, 8, "`#9a6700ff` is not a colour: expected a name such as lightred, a hex #rrggbb or an index 0-255"),
    ("index_256", 12, 10, "256 is not a colour: expected a name such as lightred, a hex #rrggbb or an index 0-255"),
    ("index_a_float", 13, 10, "invalid type: floating point `4.5`, expected a colour: a name such as lightred, a hex #rrggbb or an"),
    ("index_negative", 13, 10, "-1 is not a colour: expected a name such as lightred, a hex #rrggbb or an index 0-255"),
    ("non_utf8_comment", 5, 21, "byte 0xe9 is not UTF-8; expected UTF-8 text"),
    ("non_utf8_cut_short", 16, 3, "byte 0xc3 is not UTF-8; expected UTF-8 text"),
    ("non_utf8_value", 12, 14, "byte 0xff is not UTF-8; expected UTF-8 text"),
    ("syntax_table_header", 14, 9, "unclosed table, expected `]`"),
    ("syntax_unclosed_string", 11, 16, "invalid basic string, expected `\"`"),
    ("unknown_key", 7, 1, "unknown field `acent`, expected one of `text`, `muted`, `border`, `border_focused`, `title`,"),
];

fn corpus(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new("fixtures").join(kind).join("broken");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    files
}

#[test]
fn every_file_of_the_corpus_is_rejected_with_a_line_a_column_and_a_message() {
    let mut wrong = Vec::new();
    let mut count = 0;
    for &(kind, load) in KINDS {
        for path in corpus(kind) {
            count += 1;
            let outcome = std::panic::catch_unwind(|| load(&path));
            match outcome {
                Err(_) => wrong.push(format!("{}: panicked", path.display())),
                Ok(Ok(())) => wrong.push(format!("{}: accepted", path.display())),
                Ok(Err(e)) => {
                    if e.file != path
                        || e.line.is_none()
                        || e.column.is_none()
                        || e.message.trim().is_empty()
                    {
                        wrong.push(format!("{}: no position or message: {e}", path.display()));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(count >= 200, "the corpus has {count} files");
}

/// Every file of `kind`'s corpus is in `table`, and each is rejected exactly as it says.
fn held_to(kind: &str, table: &[(&str, usize, usize, &str)]) {
    let load = KINDS.iter().find(|k| k.0 == kind).expect("a known kind").1;
    let on_disk: Vec<String> = corpus(kind)
        .iter()
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .collect();
    let mut in_table: Vec<String> = table.iter().map(|r| r.0.to_string()).collect();
    in_table.sort();
    assert_eq!(
        on_disk, in_table,
        "fixtures/{kind}/broken and the table differ"
    );
    let mut wrong = Vec::new();
    for &(name, line, column, expected) in table {
        let path = Path::new("fixtures")
            .join(kind)
            .join("broken")
            .join(format!("{name}.toml"));
        match load(&path) {
            Ok(()) => wrong.push(format!("{name}: accepted")),
            Err(e) => {
                let right = e.file == path
                    && e.line == Some(line)
                    && e.column == Some(column)
                    && e.message.contains(expected);
                if !right {
                    wrong.push(format!(
                        "{name}: expected {line}:{column}: …{expected}…\n    got {e}"
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_broken_captain_toml_is_rejected_at_its_defect_with_what_was_expected() {
    held_to("toml", TOML);
}

#[test]
fn every_broken_theme_is_rejected_at_its_defect_with_what_was_expected() {
    held_to("theme", THEME);
}

#[test]
fn every_file_of_the_corpus_says_what_is_wrong_with_it_on_its_first_line() {
    for &(kind, _) in KINDS {
        for path in corpus(kind) {
            // Read as bytes: some files are broken by not being UTF-8 after their first line.
            let bytes = std::fs::read(&path).expect("readable");
            let text = String::from_utf8_lossy(&bytes);
            let first = text.lines().next().unwrap_or_default();
            assert!(
                first.starts_with("# ") && first.contains(", broken on purpose: "),
                "{}: {first}",
                path.display()
            );
        }
    }
}

#[test]
fn the_files_the_corpus_is_made_from_are_accepted() {
    AppConfig::load(Path::new("fixtures/toml/captain.toml")).unwrap_or_else(|e| panic!("{e}"));
    Theme::load("themes/light.toml", None).unwrap_or_else(|e| panic!("{e}"));
}
