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
    tui_logger::init_logger(log::LevelFilter::Info).unwrap();
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
}
