//! The log pane tells the incident: actions and their outcomes, verdict changes, the breach,
//! main going red and green, deletions and who drives, on the header's clock, and in
//! `captain.log` with a time zone. It takes the rows the panels above leave, scrolls,
//! filters and zooms. Its own process, because the logger is global; its tests one at a
//! time, because they share it.

mod support;

use std::sync::Arc;

use captain::engine::train::TrainCommand;
use captain::ops::driver::Update;
use captain::ops::{Command, Confirmation, Confirmed};
use captain::sim::Scenario;
use captain::tui::input::handle_key;
use captain::tui::state::Panel;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use support::Demo;

static ONE_AT_A_TIME: tokio::sync::Mutex<Option<std::path::PathBuf>> =
    tokio::sync::Mutex::const_new(None);

/// The console's logger, started once for the process, writing to the file it returns.
async fn logging() -> (
    tokio::sync::MutexGuard<'static, Option<std::path::PathBuf>>,
    std::path::PathBuf,
) {
    let mut guard = ONE_AT_A_TIME.lock().await;
    if guard.is_none() {
        let dir = tempfile::tempdir().unwrap().keep();
        let file = dir.join("captain.log");
        captain::tui::logging::init(Some(&file)).unwrap();
        *guard = Some(file);
    }
    let file = guard.clone().unwrap();
    // What an earlier test left behind is not this test's.
    captain::tui::logging::take();
    (guard, file)
}

fn press(d: &mut Demo, code: KeyCode) {
    let now = d.now();
    handle_key(&mut d.app, KeyEvent::new(code, KeyModifiers::NONE), now);
}

fn typed(d: &mut Demo, text: &str) {
    for c in text.chars() {
        press(d, KeyCode::Char(c));
    }
}

/// The log pane's rows (rounded box unless focused) between its title and its bottom.
fn log_rows(screen: &str) -> Vec<String> {
    let lines: Vec<&str> = screen.lines().collect();
    let top = lines
        .iter()
        .position(|l| l.contains(" 5 Log "))
        .unwrap_or_else(|| panic!("no log pane:\n{screen}"));
    lines[top + 1..]
        .iter()
        .take_while(|l| !(l.contains('╰') || l.contains('┗')))
        .map(|l| {
            l.trim_matches('"')
                .trim_matches(|c| c == '│' || c == '┃')
                .trim_end()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn an_action_and_its_outcome_appear_in_the_log_pane_on_the_headers_clock() {
    let (_one, file) = logging().await;
    let mut d = Demo::new(Scenario::Drill, false).await;
    captain::tui::logging::set_clock(Arc::new(d.clock.clone()));
    d.run_for(20).await;
    let confirmed = Confirmed {
        seen: None,
        command: Command::Train(TrainCommand::Pause),
        reason: Some("log pane test".into()),
        confirmation: Confirmation::Dialog,
    };
    let outcome = d.op.execute(confirmed, d.now()).await.unwrap();
    assert!(outcome.ok, "{outcome:?}");
    d.app.take_log();
    d.app.ui.focus = Panel::Log;
    d.app.ui.zoomed = true;
    let screen = d.screen(140, 20).backend().to_string();
    let header = d.now().format("%H:%M:%S").to_string();
    assert!(screen.contains(&format!("{header} UTC")), "{screen}");
    let pause = log_rows(&screen)
        .into_iter()
        .find(|r| r.contains("pause summit"))
        .unwrap_or_else(|| panic!("the pause in the pane:\n{screen}"));
    assert!(
        pause.starts_with(&format!("{header} I ")),
        "stamped with the header's clock ({header}), not the wall clock: {pause}"
    );
    assert!(screen.contains("tag frozen/rollback created"), "{screen}");

    // A server's answer with escape sequences in it, as a backend logs it.
    log::warn!("GitHub said: Validation Failed\u{1b}]0;pwned\u{7}\u{1b}[2J\r\nforged line");
    d.app.take_log();
    let screen = d.screen(140, 20).backend().to_string();
    assert!(
        screen.contains(r"Validation Failed\x1b]0;pwned\x07\x1b[2J\x0d\x0aforged line"),
        "{screen}"
    );
    let log = std::fs::read(&file).unwrap();
    let text = String::from_utf8_lossy(&log);
    assert!(
        text.contains(r"Validation Failed\x1b]0;pwned\x07\x1b[2J\x0d\x0aforged line"),
        "{text}"
    );
    assert!(
        !log.iter().any(|b| matches!(b, 0x1b | 0x07 | b'\r')),
        "a raw control character in captain.log: {text:?}"
    );
    let line = text
        .lines()
        .find(|l| l.contains("pause summit"))
        .unwrap_or_else(|| panic!("{text}"));
    let stamp = line.split(' ').next().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(stamp).is_ok() && stamp.ends_with('Z'),
        "captain.log says its time zone: {line}"
    );
}

#[tokio::test]
async fn verdicts_the_breach_main_red_and_green_deletions_and_drivers_are_logged() {
    let (_one, file) = logging().await;
    let mut d = Demo::new(Scenario::Drill, false).await;
    captain::tui::logging::set_clock(Arc::new(d.clock.clone()));
    d.run_for(200).await;
    let delete = Confirmed {
        seen: None,
        command: Command::DeletePreview {
            namespace: "pr-384".into(),
        },
        reason: Some("stale".into()),
        confirmation: Confirmation::Dialog,
    };
    assert!(d.op.execute(delete, d.now()).await.unwrap().ok);
    d.sync();
    d.app
        .apply(Update::Driver(Some("alice@laptop#42".into()), false));
    d.app.apply(Update::Driver(None, true));
    // A library's own tracing event is not captain's to show.
    tracing::info!(target: "kube_client::client", "a library's own event");
    d.app.take_log();
    let pane: Vec<String> = d.app.log.iter().map(|r| r.text.clone()).collect();
    assert!(
        !pane.iter().any(|l| l.contains("a library's own event")),
        "{pane:#?}"
    );
    let file = std::fs::read_to_string(&file).unwrap();
    for said in [
        "verdict PASS → FAIL: ",
        "summit: BREACH 1/2 failed: ",
        "rollback summit",
        "main is RED at ",
        "test failing",
        "main is green at ",
        "preview pr-384 is gone from the cluster",
        "alice@laptop#42 drives the train; this console follows",
        "this console drives the train",
    ] {
        assert!(
            pane.iter().any(|l| l.contains(said)),
            "the pane says {said:?}: {pane:#?}"
        );
        assert!(file.contains(said), "captain.log says {said:?}:\n{file}");
    }
    let verdicts = pane.iter().filter(|l| l.starts_with("verdict ")).count();
    assert!(
        verdicts < 10,
        "a verdict is logged when it changes, not at every measurement: {pane:#?}"
    );
}

#[tokio::test]
async fn the_log_takes_the_spare_rows_scrolls_filters_and_zooms() {
    let (_one, _) = logging().await;
    let mut d = Demo::new(Scenario::Drill, false).await;
    captain::tui::logging::set_clock(Arc::new(d.clock.clone()));
    d.run_for(70).await;
    for n in 0..50 {
        let seven = if n % 10 == 7 { " seven" } else { "" };
        log::info!("record {n}{seven}");
    }
    d.app.take_log();

    let screen = d.screen(200, 60).backend().to_string();
    let rows = log_rows(&screen);
    assert!(rows.len() > 5, "more than 5 rows at 200×60:\n{screen}");
    assert!(
        rows.iter().all(|r| !r.trim().is_empty()),
        "every row used:\n{screen}"
    );
    assert!(
        screen.contains("renovate: "),
        "main health shows all of its lines:\n{screen}"
    );
    assert!(rows.last().unwrap().ends_with("record 49"), "{screen}");

    press(&mut d, KeyCode::Char('5'));
    for _ in 0..3 {
        press(&mut d, KeyCode::Char('k'));
    }
    let screen = d.screen(200, 60).backend().to_string();
    let rows = log_rows(&screen);
    assert!(rows.last().unwrap().ends_with("record 46"), "{screen}");
    assert!(screen.contains("↓ 3 newer below"), "{screen}");
    // New records do not move what a reader scrolled back to.
    log::info!("record 50");
    d.app.take_log();
    let screen = d.screen(200, 60).backend().to_string();
    assert!(log_rows(&screen).last().unwrap().ends_with("record 46"));
    assert!(screen.contains("↓ 4 newer below"), "{screen}");
    press(&mut d, KeyCode::PageUp);
    let screen = d.screen(200, 60).backend().to_string();
    assert!(
        log_rows(&screen).last().unwrap().ends_with("record 36"),
        "{screen}"
    );
    press(&mut d, KeyCode::PageDown);
    press(&mut d, KeyCode::PageDown);
    let screen = d.screen(200, 60).backend().to_string();
    assert!(
        log_rows(&screen).last().unwrap().ends_with("record 50"),
        "{screen}"
    );

    press(&mut d, KeyCode::Char('/'));
    typed(&mut d, "seven");
    press(&mut d, KeyCode::Enter);
    let screen = d.screen(200, 60).backend().to_string();
    let rows: Vec<String> = log_rows(&screen)
        .into_iter()
        .filter(|r| !r.trim().is_empty())
        .collect();
    assert_eq!(rows.len(), 5, "records 7, 17, 27, 37 and 47:\n{screen}");
    assert!(rows.iter().all(|r| r.ends_with("7 seven")), "{rows:#?}");
    assert!(screen.contains("/seven"), "the filter in the title");
    assert!(
        screen.contains(" 5 of "),
        "how many of how many in the title"
    );

    // `/` then esc clears the filter.
    press(&mut d, KeyCode::Char('/'));
    press(&mut d, KeyCode::Esc);
    log::warn!("{}", "a long line of the log ".repeat(12));
    d.app.take_log();
    press(&mut d, KeyCode::Char('z'));
    let screen = d.screen(100, 30).backend().to_string();
    let rows = log_rows(&screen);
    let tail: Vec<&String> = rows.iter().rev().take(4).collect();
    assert!(
        tail.iter().filter(|r| r.contains("a long line")).count() >= 3,
        "zoomed, a long record wraps whole:\n{screen}"
    );
}
