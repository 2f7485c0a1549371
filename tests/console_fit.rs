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

fn press(d: &mut Demo, code: crossterm::event::KeyCode) {
    let now = d.now();
    let ev = crossterm::event::KeyEvent::new(code, crossterm::event::KeyModifiers::NONE);
    captain::tui::input::handle_key(&mut d.app, ev, now);
}

/// The drill 70 s in: the canary at 25 %, the test check on main red since 25 s.
async fn drill() -> Demo {
    let mut d = Demo::new(Scenario::Drill, false).await;
    d.run_for(70).await;
    d
}

#[tokio::test]
async fn at_80x24_help_scrolls_to_every_action_and_says_which_rows_it_shows() {
    use crossterm::event::KeyCode;
    let mut d = drill().await;
    // As the console's loop records it at each frame.
    d.app.ui.size = (80, 24);
    let names: Vec<&'static str> = d.app.keymap.bindings().iter().map(|b| b.name).collect();
    press(&mut d, KeyCode::Char('?'));
    let first = d.screen(80, 24).backend().to_string();
    assert!(first.contains("rows 1–"), "says which rows:\n{first}");
    let up = first
        .lines()
        .find(|l| l.contains(" up  "))
        .unwrap_or_else(|| panic!("the up row:\n{first}"));
    assert!(
        up.contains("scroll to…"),
        "a description too long is cut at a word: {up}"
    );
    assert!(
        !first.contains("quit captain"),
        "80×24 cannot show every row at once:\n{first}"
    );
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..names.len() {
        let screen = d.screen(80, 24).backend().to_string();
        for n in &names {
            if screen.contains(&format!(" {n}  ")) {
                seen.insert(*n);
            }
        }
        press(&mut d, KeyCode::Char('j'));
    }
    let missing: Vec<_> = names.iter().filter(|n| !seen.contains(*n)).collect();
    assert!(missing.is_empty(), "never shown: {missing:?}");
    press(&mut d, KeyCode::PageUp);
    press(&mut d, KeyCode::PageUp);
    press(&mut d, KeyCode::PageUp);
    let back = d.screen(80, 24).backend().to_string();
    assert!(back.contains("rows 1–"), "back at the top:\n{back}");
    press(&mut d, KeyCode::Esc);
    assert_eq!(d.app.ui.mode, captain::tui::state::Mode::Normal);
}

#[tokio::test]
async fn the_header_and_footer_shorten_by_rank_and_always_keep_the_quit_key() {
    let mut d = drill().await;
    for (w, h) in [(80, 24), (60, 20), (40, 12)] {
        let screen = d.screen(w, h).backend().to_string();
        let lines: Vec<&str> = screen.lines().collect();
        let header = lines[0];
        let footer = lines[lines.len() - 1];
        assert!(header.contains("02:48:10 UTC"), "{w}: the clock: {header}");
        assert!(
            header.contains("main RED ") || w < 60,
            "{w}: main's state whole, never 'main RE': {header}"
        );
        assert!(!header.contains("main RE "), "{header}");
        assert!(
            footer.contains("q quit") || footer.contains(" q "),
            "{w}: {footer}"
        );
    }
    let screen = d.screen(80, 24).backend().to_string();
    let header = screen.lines().next().unwrap();
    assert!(
        header.contains("canary 25 % progressing") && header.contains("main RED 25s"),
        "at 80 columns the branding goes first: {header}"
    );
    d.app.ui.status = None;
    let screen = d.screen(80, 24).backend().to_string();
    let footer = screen.lines().last().unwrap();
    assert!(
        footer.contains("q quit") && footer.contains("R roll back"),
        "hints by rank, quit kept: {footer}"
    );
}

#[tokio::test]
async fn main_health_says_how_many_lines_it_hides_at_120x40() {
    let mut d = drill().await;
    let screen = d.screen(120, 40).backend().to_string();
    assert!(
        screen.contains("more lines: z zooms"),
        "an overflow marker:\n{screen}"
    );
    d.app.ui.focus = Panel::Main;
    d.app.ui.zoomed = true;
    let screen = d.screen(120, 40).backend().to_string();
    assert!(
        screen.contains("sentinel: main is red"),
        "zoomed, whole:\n{screen}"
    );
    assert!(!screen.contains("more lines"), "{screen}");
}
