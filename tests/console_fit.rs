//! What the console says at 2 a.m. fits the terminal it is said on: the `next:` line leads
//! with a breach and wraps instead of being cut, the status line drops a stale success once
//! a breach starts, and a rollback's reason is whole when zoomed.

mod support;

use captain::engine::train::Status;
use captain::sim::Scenario;
use captain::tui::state::Panel;
use support::Demo;

/// The focused panel's rows (its thick box), inside the border.
fn focused_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| {
            let parts: Vec<&str> = l.split('┃').collect();
            (parts.len() >= 3).then(|| parts[1].trim_end().to_string())
        })
        .collect()
}

/// The `next:` line's rows, joined: from `next:` to the verdict.
fn next_text(screen: &str) -> (usize, String) {
    let rows = focused_rows(screen);
    let start = rows
        .iter()
        .position(|r| r.starts_with("next: "))
        .unwrap_or_else(|| panic!("no next: line\n{screen}"));
    let end = rows[start..]
        .iter()
        .position(|r| r.starts_with("verdict "))
        .map(|n| start + n)
        .unwrap_or_else(|| panic!("no verdict line after next:\n{screen}"));
    (end - start, rows[start..end].join(" "))
}

/// The breach scenario run until its first failed measurement.
async fn first_failure() -> Demo {
    let mut d = Demo::new(Scenario::Breach, false).await;
    for _ in 0..60 {
        d.run_for(5).await;
        if d.app.train.as_ref().is_some_and(|t| t.failures > 0) {
            return d;
        }
    }
    panic!("the breach scenario never failed a measurement");
}

#[tokio::test]
async fn during_a_breach_the_next_line_leads_with_the_rollback_and_is_never_cut() {
    let d = first_failure().await;
    let t = d.app.train.as_deref().unwrap();
    assert_eq!(t.failures, 1);
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let screen = d.screen(w, h).backend().to_string();
        let (_, next) = next_text(&screen);
        assert!(
            next.starts_with("next: rollback in ≤ "),
            "{w}×{h}: the breach first: {next}"
        );
        assert!(
            next.contains("unless passing (1/2 failed)"),
            "{w}×{h}: whole: {next}\n{screen}"
        );
        assert!(
            next.contains(" if passing"),
            "{w}×{h}: the plan it interrupts follows: {next}"
        );
        let status = screen.lines().last().unwrap();
        assert!(
            status.contains("BREACH 1/2 failed") && !status.contains("done"),
            "{w}×{h}: the status line: {status}"
        );
    }
}

#[tokio::test]
async fn a_rollbacks_reason_is_whole_when_zoomed_and_cut_at_a_word_beside_the_others() {
    let mut d = first_failure().await;
    d.run_for(30).await;
    let t = d.app.train.as_deref().unwrap();
    let Status::RolledBack { reason, .. } = &t.status else {
        panic!("rolled back by now: {:?}", t.status);
    };
    let reason = reason.clone();

    d.app.ui.focus = Panel::Canary;
    d.app.ui.zoomed = true;
    let screen = d.screen(110, 32).backend().to_string();
    let (_, next) = next_text(&screen);
    assert!(next.contains(&reason), "zoomed, in full: {next}\n{screen}");

    // As a rollback acted on while the lease could not be read says why.
    let longer = format!(
        "{reason} (acted on without the other consoles: the driver's lease: unreachable: \
         PUT leases/captain-summit: connection refused)"
    );
    if let Some(t) = d.app.train.as_deref_mut()
        && let Status::RolledBack { reason, .. } = &mut t.status
    {
        reason.clone_from(&longer);
    }
    d.app.ui.zoomed = false;
    let screen = d.screen(120, 40).backend().to_string();
    let (rows, next) = next_text(&screen);
    assert!(
        rows <= 2,
        "beside the other panels, two rows at most: {next}"
    );
    let shown = next
        .strip_suffix('…')
        .unwrap_or_else(|| panic!("cut with an ellipsis: {next}"));
    let last = shown.rsplit(' ').next().unwrap();
    let whole = format!("next: none: rolled back to 41 ({longer})");
    assert!(
        whole.contains(&format!("{last} ")),
        "cut after a whole word ({last:?}): {next}"
    );
}
