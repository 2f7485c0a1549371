//! Keys in, intent out: dispatch through the keymap, the dialogs, the filter and the palette.

mod support;

use captain::engine::train::TrainCommand;
use captain::ops::{Command, Confirmation};
use captain::sim::Scenario;
use captain::tui::input::handle_key;
use captain::tui::state::{Mode, Panel};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use support::Demo;

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn typed(d: &mut Demo, text: &str) -> Option<captain::ops::Confirmed> {
    let now = d.now();
    let mut last = None;
    for c in text.chars() {
        last = handle_key(&mut d.app, key(KeyCode::Char(c)), now);
    }
    last
}

fn press(d: &mut Demo, code: KeyCode) -> Option<captain::ops::Confirmed> {
    let now = d.now();
    handle_key(&mut d.app, key(code), now)
}

#[tokio::test]
async fn rollback_needs_a_reason_and_the_typed_release_before_it_is_confirmed() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    assert!(typed(&mut d, "R").is_none());
    assert!(matches!(d.app.ui.mode, Mode::Confirm(_)));
    assert!(press(&mut d, KeyCode::Enter).is_none(), "no reason yet");
    let Mode::Confirm(dialog) = &d.app.ui.mode else {
        panic!("dialog closed")
    };
    assert_eq!(dialog.error.as_deref(), Some("a reason is required"));
    typed(&mut d, "p99 regression");
    assert!(
        press(&mut d, KeyCode::Enter).is_none(),
        "enter moves to the typed field"
    );
    typed(&mut d, "summat");
    assert!(
        press(&mut d, KeyCode::Enter).is_none(),
        "a wrong name is not a yes"
    );
    for _ in 0.."summat".len() {
        press(&mut d, KeyCode::Backspace);
    }
    typed(&mut d, "summit");
    let confirmed = press(&mut d, KeyCode::Enter).expect("confirmed");
    assert_eq!(
        confirmed.command,
        Command::Train(TrainCommand::Rollback { to_revision: None })
    );
    assert_eq!(confirmed.reason.as_deref(), Some("p99 regression"));
    assert_eq!(confirmed.confirmation, Confirmation::Typed);
    assert_eq!(d.app.ui.mode, Mode::Normal);
}

#[tokio::test]
async fn escape_cancels_a_dialog_and_nothing_is_sent() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    typed(&mut d, "p");
    assert!(matches!(d.app.ui.mode, Mode::Confirm(_)));
    assert!(press(&mut d, KeyCode::Esc).is_none());
    assert_eq!(d.app.ui.mode, Mode::Normal);
    assert!(d.app.ui.status.as_ref().unwrap().0.contains("cancelled"));
}

#[tokio::test]
async fn promote_needs_only_enter() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    typed(&mut d, "p");
    let c = press(&mut d, KeyCode::Enter).expect("confirmed");
    assert_eq!(c.command, Command::Train(TrainCommand::Promote));
    assert_eq!(c.confirmation, Confirmation::Dialog);
    assert_eq!(c.reason, None);
}

#[tokio::test]
async fn read_only_keys_change_nothing() {
    let mut d = Demo::new(Scenario::Drill, true).await;
    for k in ["p", "P", "f", "F", "R", "a"] {
        assert!(typed(&mut d, k).is_none());
        assert_eq!(
            d.app.ui.mode,
            Mode::Normal,
            "{k} opened a dialog in read-only mode"
        );
    }
    d.app.ui.focus = Panel::Previews;
    for k in ["d", "D"] {
        typed(&mut d, k);
        assert_eq!(
            d.app.ui.mode,
            Mode::Normal,
            "{k} opened a dialog in read-only mode"
        );
    }
}

#[tokio::test]
async fn delete_preview_targets_the_selected_row_of_the_filtered_list() {
    let mut d = Demo::new(Scenario::StalePreviews, false).await;
    typed(&mut d, "3");
    assert_eq!(d.app.ui.focus, Panel::Previews);
    typed(&mut d, "/");
    assert_eq!(d.app.ui.mode, Mode::Filter);
    typed(&mut d, "sessions");
    press(&mut d, KeyCode::Enter);
    let rows = d.app.preview_rows();
    assert_eq!(rows.len(), 1, "the filter keeps one preview");
    let expected = rows[0].namespace.clone();
    typed(&mut d, "d");
    let Mode::Confirm(dialog) = &d.app.ui.mode else {
        panic!("no dialog")
    };
    assert_eq!(
        dialog.command,
        Command::DeletePreview {
            namespace: expected
        }
    );
}

#[tokio::test]
async fn clean_stale_offers_exactly_the_stale_previews_and_wants_their_count_typed() {
    let mut d = Demo::new(Scenario::StalePreviews, false).await;
    let stale = d.app.stale_previews(d.now());
    assert!(!stale.is_empty());
    typed(&mut d, "3");
    typed(&mut d, "D");
    let Mode::Confirm(dialog) = &d.app.ui.mode else {
        panic!("no dialog")
    };
    assert_eq!(
        dialog.command,
        Command::CleanStale {
            namespaces: stale.clone()
        }
    );
    assert_eq!(
        dialog.proposal.typed.as_deref(),
        Some(stale.len().to_string().as_str())
    );
}

#[tokio::test]
async fn the_palette_runs_what_it_finds() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    typed(&mut d, ":");
    typed(&mut d, "pause");
    press(&mut d, KeyCode::Enter);
    let Mode::Confirm(dialog) = &d.app.ui.mode else {
        panic!("the palette did not open pause")
    };
    assert_eq!(dialog.command, Command::Train(TrainCommand::Pause));
}

#[tokio::test]
async fn tab_and_numbers_move_focus_and_help_opens_and_closes() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    assert_eq!(d.app.ui.focus, Panel::Canary);
    press(&mut d, KeyCode::Tab);
    assert_eq!(d.app.ui.focus, Panel::Previews);
    press(&mut d, KeyCode::BackTab);
    press(&mut d, KeyCode::BackTab);
    assert_eq!(d.app.ui.focus, Panel::Phases);
    typed(&mut d, "5");
    assert_eq!(d.app.ui.focus, Panel::Log);
    typed(&mut d, "?");
    assert_eq!(d.app.ui.mode, Mode::Help);
    press(&mut d, KeyCode::Esc);
    assert_eq!(d.app.ui.mode, Mode::Normal);
    typed(&mut d, "q");
    assert!(d.app.quit);
}

#[tokio::test]
async fn a_confirmed_command_reaches_the_operator_and_the_audit() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    d.run_for(20).await;
    typed(&mut d, "f");
    let c = press(&mut d, KeyCode::Enter).expect("confirmed");
    let outcome = d.op.execute(c, d.now()).await.unwrap();
    assert!(outcome.ok, "{outcome:?}");
    let records = d.audit_lines();
    let pause: Vec<_> = records.iter().filter(|r| r["action"] == "pause").collect();
    assert_eq!(pause.len(), 2);
    assert_eq!(pause[0]["phase"], "intent");
    assert_eq!(pause[1]["phase"], "outcome");
    assert_eq!(pause[1]["result"], "ok: tag frozen/rollback created");
    d.sync();
    assert!(
        d.app.main.value.as_ref().unwrap().frozen.is_some(),
        "the panel sees the tag"
    );
}

#[tokio::test]
async fn the_selected_preview_stays_on_screen_in_a_long_list() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    let now = d.now();
    let many: Vec<captain::engine::previews::Preview> = (1..=500)
        .map(|n| captain::engine::previews::Preview {
            namespace: format!("pr-{n}"),
            created: now - chrono::Duration::minutes(n),
            terminating: false,
            pr: None,
            url: None,
            health: captain::engine::previews::UrlHealth::Unknown,
        })
        .collect();
    d.app
        .set_previews(captain::sources::Reading::fresh(many, now));
    typed(&mut d, "3");
    for _ in 0..450 {
        press(&mut d, KeyCode::Down);
    }
    let selected = d.app.selected_preview().unwrap().namespace.clone();
    assert_eq!(selected, "pr-50", "oldest first: the 451st row");
    let screen = d.screen(120, 40).backend().to_string();
    assert!(screen.contains("pr-50 "), "{screen}");
    assert!(!screen.contains("pr-500 "), "the oldest rows scrolled away");
}

#[tokio::test]
async fn quitting_the_console_that_drives_a_live_canary_warns_first_and_the_second_q_quits() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    d.run_for(10).await;
    d.app.apply(captain::ops::driver::Update::Driver(
        Some("ana@laptop#1".into()),
        true,
    ));
    typed(&mut d, "q");
    assert!(!d.app.quit, "one q does not drop auto-rollback silently");
    let (said, bad) = d.app.ui.status.clone().expect("a warning");
    assert!(
        bad && said.contains("quitting hands auto-rollback"),
        "{said}"
    );
    typed(&mut d, "q");
    assert!(d.app.quit, "the second q quits");

    // Any other key in between takes the warning back.
    let mut d = Demo::new(Scenario::Drill, false).await;
    d.run_for(10).await;
    d.app
        .apply(captain::ops::driver::Update::Driver(None, true));
    typed(&mut d, "q");
    typed(&mut d, "?");
    press(&mut d, KeyCode::Esc);
    typed(&mut d, "q");
    assert!(!d.app.quit, "warned again after another key");

    // A console that follows (or a train that has ended) quits at once.
    let mut d = Demo::new(Scenario::Drill, false).await;
    d.run_for(10).await;
    d.app.apply(captain::ops::driver::Update::Driver(
        Some("ben@desk#2".into()),
        false,
    ));
    typed(&mut d, "q");
    assert!(d.app.quit);
}

#[tokio::test]
async fn the_palette_puts_the_action_named_exactly_first_so_rollback_opens_the_rollback() {
    for (typed_name, expected) in [
        (
            "rollback",
            Command::Train(TrainCommand::Rollback { to_revision: None }),
        ),
        ("pause", Command::Train(TrainCommand::Pause)),
        (
            "roll",
            Command::Train(TrainCommand::Rollback { to_revision: None }),
        ),
    ] {
        let mut d = Demo::new(Scenario::Drill, false).await;
        typed(&mut d, ":");
        typed(&mut d, typed_name);
        press(&mut d, KeyCode::Enter);
        let Mode::Confirm(dialog) = &d.app.ui.mode else {
            panic!(":{typed_name} opened no dialog: {:?}", d.app.ui.mode)
        };
        assert_eq!(dialog.command, expected, ":{typed_name}");
    }
}

#[tokio::test]
async fn a_command_the_train_refuses_says_why_at_the_key_and_opens_no_dialog() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    d.run_for(20).await;
    typed(&mut d, "P");
    assert!(
        matches!(d.app.ui.mode, Mode::Confirm(_)),
        "promote-full is allowed now"
    );
    press(&mut d, KeyCode::Esc);
    let abort = captain::ops::Confirmed {
        seen: None,
        command: Command::Train(TrainCommand::Abort),
        reason: Some("drill".into()),
        confirmation: captain::ops::Confirmation::Dialog,
    };
    assert!(d.op.execute(abort, d.now()).await.unwrap().ok);
    d.sync();
    assert!(
        d.app
            .train
            .as_deref()
            .is_some_and(|t| t.status.is_terminal()),
        "aborted: {:?}",
        d.app.train.as_ref().map(|t| t.status.clone())
    );
    typed(&mut d, "p");
    assert_eq!(
        d.app.ui.mode,
        Mode::Normal,
        "no dialog for a refused promote"
    );
    let (said, bad) = d
        .app
        .ui
        .status
        .clone()
        .expect("a refusal on the status line");
    assert!(
        bad && said.contains("promote refused: cannot promote"),
        "{said}"
    );
}

#[tokio::test]
async fn from_the_first_failed_measurement_the_header_says_breach_and_the_bell_rings() {
    let mut d = Demo::new(Scenario::Breach, false).await;
    let header = |d: &Demo| {
        d.screen(120, 40)
            .backend()
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    for _ in 0..120 {
        let automatic = d.app.outcomes.len();
        d.app.ring = false;
        d.run_for(5).await;
        if d.op.train.failures > 0 {
            break;
        }
        assert!(!header(&d).contains("BREACH"), "{}", header(&d));
        // The bell rings for captain's own promotions, and for nothing else.
        let acted = d.app.outcomes.len() > automatic;
        assert_eq!(d.app.ring, acted, "bell after {:?}", d.app.outcomes.back());
    }
    assert_eq!(d.op.train.failures, 1, "a first failed measurement at 50 %");
    assert!(d.app.ring, "the bell rings at the first failed measurement");
    let top = header(&d);
    assert!(
        top.contains("BREACH 1/2 · auto-rollback ≤ 5s"),
        "the header: {top}"
    );
    let release = top.find("summit").unwrap();
    assert!(
        top.find("BREACH").unwrap() < top.find("canary").unwrap()
            && release < top.find("BREACH").unwrap(),
        "first after the release: {top}"
    );
}

#[tokio::test]
async fn o_opens_the_selected_previews_url_which_the_panel_links_to() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    let now = d.now();
    let preview = |n: i64, url: Option<&str>| captain::engine::previews::Preview {
        namespace: format!("pr-{n}"),
        created: now - chrono::Duration::hours(n),
        terminating: false,
        pr: None,
        url: url.map(str::to_string),
        health: captain::engine::previews::UrlHealth::Up,
    };
    let list = vec![
        preview(2, Some("https://pr-2.preview.acme.dev/")),
        preview(1, None),
    ];
    d.app
        .set_previews(captain::sources::Reading::fresh(list, now));
    typed(&mut d, "3");
    typed(&mut d, "o");
    assert_eq!(
        d.app.open.as_deref(),
        Some("https://pr-2.preview.acme.dev/")
    );
    assert_eq!(
        d.app.ui.status.as_ref().map(|s| s.0.as_str()),
        Some("opening https://pr-2.preview.acme.dev/")
    );

    d.app.open = None;
    press(&mut d, KeyCode::Down);
    typed(&mut d, "o");
    assert_eq!(d.app.open, None, "pr-1 has no URL");
    assert_eq!(
        d.app.ui.status.clone(),
        Some(("pr-1 has no preview URL".to_string(), true))
    );

    // On a terminal, the URL's health is a hyperlink to it (OSC 8).
    d.app.hyperlinks = true;
    let terminal = d.screen(120, 40);
    let buffer = terminal.backend().buffer();
    let linked: Vec<&str> = buffer
        .content()
        .iter()
        .map(|c| c.symbol())
        .filter(|s| s.starts_with("\x1b]8;;"))
        .collect();
    assert_eq!(
        linked,
        ["\x1b]8;;https://pr-2.preview.acme.dev/\x1b\\up\x1b]8;;\x1b\\"]
    );
}
