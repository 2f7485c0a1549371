//! The screen, panel by panel, dialog by dialog, at fixed sizes, clock and seed.
//! Review changes with `cargo insta review`; never accept blindly.

mod support;

use captain::engine::train::TrainCommand;
use captain::ops::Command;
use captain::sim::Scenario;
use captain::tui::dialogs::confirm::ConfirmDialog;
use captain::tui::state::{Mode, Panel};
use insta::assert_snapshot;
use support::Demo;

/// The drill 70 s in: the canary at 25 %, the test check on main red since 45 s.
async fn drill() -> Demo {
    let mut d = Demo::new(Scenario::Drill, false).await;
    d.run_for(70).await;
    d
}

#[tokio::test]
async fn whole_screen_120x40() {
    let d = drill().await;
    assert_snapshot!(d.screen(120, 40).backend());
}

#[tokio::test]
async fn whole_screen_80x24_shows_tabs_and_the_focused_panel() {
    let d = drill().await;
    assert_snapshot!(d.screen(80, 24).backend());
}

#[tokio::test]
async fn tiny_terminal_does_not_panic() {
    let mut d = drill().await;
    for (w, h) in [(1, 1), (20, 5), (40, 10), (79, 23)] {
        d.screen(w, h);
    }
    d.app.ui.mode = Mode::Help;
    d.screen(30, 8);
}

async fn panel(p: Panel, d: &mut Demo) -> String {
    d.app.ui.focus = p;
    d.app.ui.zoomed = true;
    d.screen(110, 32).backend().to_string()
}

#[tokio::test]
async fn phases_panel() {
    let mut d = drill().await;
    d.app.ui.selected[Panel::Phases.index()] = 8;
    assert_snapshot!(panel(Panel::Phases, &mut d).await);
}

#[tokio::test]
async fn canary_panel_after_the_automatic_rollback() {
    let mut d = Demo::new(Scenario::Breach, false).await;
    d.run_for(130).await;
    assert_snapshot!(panel(Panel::Canary, &mut d).await);
}

#[tokio::test]
async fn previews_panel() {
    let mut d = Demo::new(Scenario::StalePreviews, false).await;
    d.run_for(10).await;
    assert_snapshot!(panel(Panel::Previews, &mut d).await);
}

#[tokio::test]
async fn a_long_fault_is_cut_from_its_end_and_never_covers_the_panels_title() {
    let mut d = Demo::new(Scenario::StalePreviews, false).await;
    d.run_for(10).await;
    let mut reading = d.app.previews.clone();
    reading.fault = Some((
        d.now(),
        captain::sources::SourceError::Unreachable(format!(
            "GitHub at http://127.0.0.1:9: Service Error: client error (Connect){}",
            " and more".repeat(20)
        )),
    ));
    d.app.set_previews(reading);
    d.app.ui.focus = Panel::Previews;
    for width in [80, 110, 200] {
        let screen = d.screen(width, 32).backend().to_string();
        let title = screen
            .lines()
            .find(|l| l.contains("unreachable: GitHub"))
            .unwrap_or_else(|| panic!("the fault is shown at {width} columns:\n{screen}"));
        assert!(title.contains("3 Previews"), "{width} columns: {title}");
        assert!(
            title.contains('…'),
            "cut with an ellipsis at {width}: {title}"
        );
    }
}

#[tokio::test]
async fn main_health_panel_red() {
    let mut d = Demo::new(Scenario::MainRed, false).await;
    d.run_for(10).await;
    assert_snapshot!(panel(Panel::Main, &mut d).await);
}

#[tokio::test]
async fn escape_sequences_from_github_are_drawn_written_out() {
    let mut d = Demo::new(Scenario::MainRed, false).await;
    d.run_for(10).await;
    let mut reading = d.app.main.clone();
    let mut main = (**reading.value.as_ref().expect("main's health")).clone();
    main.head.message = "fix \u{1b}]0;pwned\u{7}\u{1b}[2J".into();
    main.checks[0].name = "ci/\u{9b}31mtest".into();
    reading.value = Some(std::sync::Arc::new(main));
    d.app.set_main(reading);
    let screen = panel(Panel::Main, &mut d).await;
    assert!(screen.contains(r"fix \x1b]0;pwned\x07\x1b[2J"), "{screen}");
    assert!(screen.contains(r"ci/\x9b31mtest"), "{screen}");
}

#[tokio::test]
async fn help_overlay() {
    let mut d = drill().await;
    d.app.ui.mode = Mode::Help;
    assert_snapshot!(d.screen(120, 40).backend());
}

#[tokio::test]
async fn help_overlay_read_only_lists_no_mutating_action() {
    let mut d = Demo::new(Scenario::Drill, true).await;
    d.app.ui.mode = Mode::Help;
    let screen = d.screen(120, 40).backend().to_string();
    // The help table pads each action name to its column: a name followed by two spaces
    // is a row of the table, not a word in a panel behind it.
    let mutating = [
        "rollback",
        "promote",
        "promote-full",
        "pause",
        "resume",
        "abort",
        "delete-preview",
        "clean-stale",
    ];
    for action in mutating {
        assert!(
            !screen.contains(&format!(" {action}  ")),
            "{action} shown in read-only help"
        );
    }
    assert!(screen.contains(" help  "), "the help table is drawn");
    assert!(screen.contains("read-only"));
    assert_snapshot!(screen);
}

async fn dialog(command: Command) -> String {
    let mut d = drill().await;
    d.app.ui.mode = Mode::Confirm(Box::new(ConfirmDialog::new(
        command,
        d.app.train.as_deref(),
    )));
    d.screen(100, 30).backend().to_string()
}

#[tokio::test]
async fn confirm_promote() {
    assert_snapshot!(dialog(Command::Train(TrainCommand::Promote)).await);
}

#[tokio::test]
async fn confirm_promote_full() {
    assert_snapshot!(dialog(Command::Train(TrainCommand::PromoteFull)).await);
}

#[tokio::test]
async fn confirm_pause() {
    assert_snapshot!(dialog(Command::Train(TrainCommand::Pause)).await);
}

#[tokio::test]
async fn confirm_resume() {
    assert_snapshot!(dialog(Command::Train(TrainCommand::Resume)).await);
}

#[tokio::test]
async fn confirm_rollback() {
    assert_snapshot!(dialog(Command::Train(TrainCommand::Rollback { to_revision: None })).await);
}

#[tokio::test]
async fn confirm_abort() {
    assert_snapshot!(dialog(Command::Train(TrainCommand::Abort)).await);
}

#[tokio::test]
async fn confirm_delete_preview() {
    assert_snapshot!(
        dialog(Command::DeletePreview {
            namespace: "pr-451".into()
        })
        .await
    );
}

#[tokio::test]
async fn confirm_clean_stale() {
    let namespaces = vec!["pr-451".to_string(), "pr-460".to_string()];
    assert_snapshot!(dialog(Command::CleanStale { namespaces }).await);
}
