//! The log pane shows what captain logs: actions and backend events, through tui-logger.
//! Its own process, because tui-logger's logger is global.

mod support;

use captain::engine::train::TrainCommand;
use captain::ops::{Command, Confirmation, Confirmed};
use captain::sim::Scenario;
use captain::tui::state::Panel;
use support::Demo;

#[tokio::test]
async fn an_action_and_its_outcome_appear_in_the_log_pane() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("captain.log");
    captain::tui::logging::init(Some(&file)).unwrap();
    let mut d = Demo::new(Scenario::Drill, false).await;
    d.run_for(20).await;
    let confirmed = Confirmed {
        command: Command::Train(TrainCommand::Pause),
        reason: Some("log pane test".into()),
        confirmation: Confirmation::Dialog,
    };
    let outcome = d.op.execute(confirmed, d.now()).await.unwrap();
    assert!(outcome.ok, "{outcome:?}");
    // tui-logger moves records to its display buffer every 10 ms; do it now.
    tui_logger::move_events();
    d.app.ui.focus = Panel::Log;
    d.app.ui.zoomed = true;
    let screen = d.screen(140, 20).backend().to_string();
    assert!(screen.contains("pause summit"), "{screen}");
    assert!(screen.contains("tag frozen/rollback created"), "{screen}");

    // A server's answer with escape sequences in it, as a backend logs it.
    log::warn!("GitHub said: Validation Failed\u{1b}]0;pwned\u{7}\u{1b}[2J\r\nforged line");
    tui_logger::move_events();
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
    assert!(text.contains("pause summit"), "{text}");
}
