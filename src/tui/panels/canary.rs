//! The canary: release and revisions, the steps, the observation window with time left,
//! the next automatic action, the verdict per objective with its evidence, and the golden
//! signals as charts of canary against stable with the SLO threshold drawn.

mod charts;
mod thin;

use chrono::{DateTime, Duration, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{LineGauge, Paragraph, Sparkline};

use super::{ago, block, boxed, table};
use crate::config::duration::format_span;
use crate::engine::analysis::Verdict;
use crate::engine::train::{NextAction, Status, Train};
use crate::tui::state::{App, Panel};
use crate::tui::theme::Theme;

pub fn verdict_colour(v: Verdict, theme: &Theme) -> Color {
    match v {
        Verdict::Pass => theme.pass,
        Verdict::Warn => theme.warn,
        Verdict::Fail => theme.fail,
        Verdict::NoData | Verdict::Error => theme.nodata,
    }
}

pub(super) fn dur(d: Duration) -> String {
    format_span(d.to_std().unwrap_or_default())
}

pub fn draw(f: &mut Frame, area: Rect, app: &App, now: DateTime<Utc>, theme: &Theme) {
    let extra = match app.series.samples.back() {
        Some(s) => Line::styled(
            format!(" measured {} ago ", ago(now, s.at)),
            theme.fg(theme.muted),
        ),
        None => Line::styled(" waiting for metrics… ", theme.fg(theme.muted)),
    };
    let inner = boxed(f, area, block(Panel::Canary, app, extra, area.width, theme));
    let Some(train) = app.train.as_deref() else {
        let lines = match &app.unstarted {
            Some((why, retry_at)) => {
                // The cause in full, however narrow the panel: it is what to act on.
                let text: Vec<char> = format!("the train cannot be read: {why}").chars().collect();
                let width = usize::from(inner.width.max(1));
                let mut lines: Vec<Line> = text
                    .chunks(width)
                    .take(4)
                    .map(|c| Line::styled(c.iter().collect::<String>(), theme.bold(theme.fail)))
                    .collect();
                lines.push(Line::styled(
                    format!(
                        "trying again in {}; main health, previews and phases go on",
                        dur(*retry_at - now)
                    ),
                    theme.fg(theme.muted),
                ));
                lines
            }
            None => vec![Line::raw("no release train running")],
        };
        // The SLOs are measured without a train: their verdict shows under why.
        let objectives = app.analysis.as_ref().map_or(0, |a| a.objectives.len()) as u16;
        let [why, verdict, table, evidence] = Layout::vertical([
            Constraint::Length(lines.len() as u16),
            Constraint::Length(1),
            Constraint::Length(objectives + 1),
            Constraint::Length(1),
        ])
        .areas(inner);
        f.render_widget(Paragraph::new(lines), why);
        if app.analysis.is_some() {
            draw_verdict(f, verdict, app, theme);
            draw_objectives(f, table, evidence, app, theme);
        }
        return;
    };
    let objectives = app.analysis.as_ref().map_or(0, |a| a.objectives.len()) as u16;
    // Zoomed, the whole of it; beside the other panels, two rows at most.
    let rows = if app.ui.zoomed { 8 } else { 2 };
    let next_lines = next_lines(train, now, inner.width, rows, theme);
    let [head, gauge, next, verdict, table, evidence, spark, charts] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(next_lines.len() as u16),
        Constraint::Length(1),
        Constraint::Length(objectives + 1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(inner);
    draw_head(f, head, app, train, theme);
    draw_gauge(f, gauge, train, now, theme);
    f.render_widget(Paragraph::new(next_lines), next);
    draw_verdict(f, verdict, app, theme);
    draw_objectives(f, table, evidence, app, theme);
    draw_sparkline(f, spark, train, theme);
    if charts.height >= 5 {
        charts::draw(f, charts, app, now, theme);
    }
}

fn draw_head(f: &mut Frame, area: Rect, app: &App, t: &Train, theme: &Theme) {
    let read_back = app
        .weight_read_back
        .map_or(String::new(), |w| format!(" (cluster: {w} %)"));
    let status_colour = match t.status {
        Status::RolledBack { .. } | Status::RollingBack { .. } | Status::Aborted { .. } => {
            theme.fail
        }
        Status::Paused { .. } | Status::AwaitingGate | Status::NotStarted => theme.warn,
        _ => theme.pass,
    };
    let line1 = Line::from(vec![
        Span::styled(t.release.clone(), theme.bold(theme.title)),
        Span::styled(
            format!(
                " rev {} ({}) · previous {} · ",
                t.revisions.current, t.revisions.image, t.revisions.previous
            ),
            theme.fg(theme.muted),
        ),
        Span::styled(t.status.label().to_uppercase(), theme.bold(status_colour)),
        Span::styled(read_back, theme.fg(theme.muted)),
    ]);
    let mut steps: Vec<Span> = Vec::new();
    for (i, s) in t.policy.steps.iter().enumerate() {
        let (mark, style) = if t.weight == 0 && t.status.is_terminal() {
            ("·", theme.fg(theme.muted))
        } else if i < t.step || t.status == Status::Promoted {
            ("✓", theme.fg(theme.pass))
        } else if i == t.step {
            ("●", theme.bold(theme.canary))
        } else {
            ("○", theme.fg(theme.muted))
        };
        if i > 0 {
            steps.push(Span::styled(" → ", theme.fg(theme.muted)));
        }
        let gate = if s.gate == crate::config::slo::Gate::Manual {
            " ⏸"
        } else {
            ""
        };
        steps.push(Span::styled(format!("{mark} {} %{gate}", s.weight), style));
    }
    steps.push(Span::styled(
        format!("   canary {} %", t.weight),
        theme.bold(theme.canary),
    ));
    f.render_widget(Paragraph::new(vec![line1, Line::from(steps)]), area);
}

fn draw_gauge(f: &mut Frame, area: Rect, t: &Train, now: DateTime<Utc>, theme: &Theme) {
    let active = matches!(t.status, Status::Progressing);
    let (ratio, label) = if active {
        let left = t.time_left(now);
        let warm = if now < t.warmup_end() {
            format!(" · warm-up {} left", dur(t.warmup_end() - now))
        } else {
            String::new()
        };
        (
            t.window_progress(now),
            format!("{} % window: {} left{warm}", t.weight, dur(left)),
        )
    } else {
        (
            if t.status == Status::Promoted {
                1.0
            } else {
                0.0
            },
            format!("window: {}", t.status.label()),
        )
    };
    let gauge = LineGauge::default()
        .ratio(ratio)
        .label(Span::styled(format!("{label} "), theme.fg(theme.text)))
        .filled_style(theme.fg(theme.canary))
        .unfilled_style(theme.fg(theme.muted));
    f.render_widget(gauge, area);
}

/// The `next:` line, composed to fit: during a breach it leads with what the breach will do
/// and by when; a rollback's or pause's reason is given in full when `rows` allow.
fn next_lines(
    t: &Train,
    now: DateTime<Utc>,
    width: u16,
    rows: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let text = match t.next_action(now) {
        NextAction::Promote { weight, at } => {
            format!("promote to {weight} % in {} if passing", dur(at - now))
        }
        NextAction::Complete { at } => format!("complete at 100 % in {}", dur(at - now)),
        NextAction::AwaitHuman(why) => format!("waiting for a human: {why}"),
        NextAction::None => match &t.status {
            Status::RollingBack {
                to_revision, error, ..
            } => format!("retrying the rollback to {to_revision} at every measurement: {error}"),
            Status::RolledBack {
                to_revision,
                reason,
            } => format!("none: rolled back to {to_revision} ({reason})"),
            Status::Aborted { reason } => format!("none: {reason}"),
            _ => "none: train complete".into(),
        },
    };
    let plan = Span::styled(text, theme.fg(theme.text));
    let mut spans = vec![Span::styled("next: ", theme.fg(theme.muted))];
    match t.failure_action_within(now) {
        Some(within) if t.failures > 0 => {
            // A breach under way outranks the plan it interrupts.
            let what = match t.policy.on_fail {
                crate::config::slo::OnFail::Rollback => "rollback",
                crate::config::slo::OnFail::Pause => "pause",
            };
            spans.push(Span::styled(
                format!(
                    "{what} in ≤ {} unless passing ({}/{} failed)",
                    dur(within),
                    t.failures,
                    t.policy.failure_limit
                ),
                theme.bold(theme.fail),
            ));
            spans.push(Span::styled(" · then ", theme.fg(theme.muted)));
            spans.push(plan);
        }
        Some(within) => {
            let what = match t.policy.on_fail {
                crate::config::slo::OnFail::Rollback => "auto-rollback",
                crate::config::slo::OnFail::Pause => "auto-pause",
            };
            spans.push(plan);
            spans.push(Span::styled(
                format!(
                    " · {what} ≤ {} if breached ({}/{} failed)",
                    dur(within),
                    t.failures,
                    t.policy.failure_limit
                ),
                theme.bold(theme.muted),
            ));
        }
        None => spans.push(plan),
    }
    super::words::wrap(&spans, usize::from(width), rows)
}

fn draw_verdict(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let line = match &app.analysis {
        Some(a) => Line::from(vec![
            Span::styled("verdict ", theme.fg(theme.muted)),
            Span::styled(
                a.verdict.label().to_uppercase(),
                theme.bold(verdict_colour(a.verdict, theme)),
            ),
            Span::styled(
                a.score
                    .filter(|_| !a.reason.starts_with("score"))
                    .map_or(String::new(), |s| format!(" score {s:.0}%")),
                theme.fg(theme.text),
            ),
            Span::styled(format!(" · {}", a.reason), theme.fg(theme.text)),
            burn_summary(&a.burn, theme),
        ]),
        None => Line::styled("verdict: no measurement yet", theme.fg(theme.muted)),
    };
    f.render_widget(Paragraph::new(vec![line]), area);
}

/// The burn-rate alerts in a few words: the firing ones by name, else the fastest burn.
fn burn_summary(burn: &[crate::engine::burn::AlertState], theme: &Theme) -> Span<'static> {
    if burn.is_empty() {
        return Span::raw("");
    }
    let firing: Vec<String> = burn
        .iter()
        .filter(|b| b.firing)
        .map(|b| format!("{} {}/{}", b.severity, b.long, b.short))
        .collect();
    if !firing.is_empty() {
        return Span::styled(
            format!(" · BURN {}", firing.join(", ")),
            theme.bold(theme.fail),
        );
    }
    let fastest = burn
        .iter()
        .filter_map(|b| b.short_burn.zip(b.long_burn).map(|(s, l)| s.min(l)))
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    match fastest {
        Some(x) => Span::styled(format!(" · burn ok ({x:.1}×)"), theme.fg(theme.muted)),
        None => Span::styled(" · burn: no data", theme.fg(theme.muted)),
    }
}

fn draw_objectives(f: &mut Frame, area: Rect, evidence: Rect, app: &App, theme: &Theme) {
    let Some(a) = &app.analysis else { return };
    let value = |unit: crate::engine::signals::Unit, v: Option<f64>| {
        v.map_or("—".to_string(), |x| unit.format(x))
    };
    let rows = a
        .objectives
        .iter()
        .map(|o| {
            [
                Span::styled(
                    format!("{}{}", o.sli, if o.key { " ★" } else { "" }),
                    theme.fg(theme.text),
                ),
                Span::styled(value(o.unit, o.canary), theme.fg(theme.canary)),
                Span::styled(value(o.unit, o.stable), theme.fg(theme.stable)),
                Span::styled(o.comparator.clone(), theme.fg(theme.muted)),
                Span::styled(value(o.unit, o.threshold), theme.fg(theme.threshold)),
                Span::styled(
                    o.verdict.label(),
                    theme.bold(verdict_colour(o.verdict, theme)),
                ),
                Span::styled(
                    o.requests.map_or("—".into(), |n| n.to_string()),
                    theme.fg(theme.muted),
                ),
            ]
        })
        .collect();
    let focused = app.ui.focus == Panel::Canary;
    let sel = app.ui.selected[Panel::Canary.index()].min(a.objectives.len().saturating_sub(1));
    table(
        f,
        area,
        [
            Constraint::Length(14),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Fill(1),
            Constraint::Length(9),
            Constraint::Length(7),
            Constraint::Length(6),
        ],
        [
            "objective",
            "canary",
            "stable",
            "pass if",
            "bound",
            "verdict",
            "reqs",
        ],
        rows,
        focused.then_some(sel),
        theme,
    );
    if let Some(o) = a.objectives.get(sel) {
        let line = Line::from(vec![
            Span::styled(format!("{} [{}]: ", o.sli, o.window), theme.fg(theme.muted)),
            Span::styled(o.reason.clone(), theme.fg(verdict_colour(o.verdict, theme))),
            Span::styled(format!(" · {}", o.query), theme.fg(theme.muted)),
        ]);
        f.render_widget(Paragraph::new(vec![line]), evidence);
    }
}

fn draw_sparkline(f: &mut Frame, area: Rect, t: &Train, theme: &Theme) {
    let [label, spark] =
        Layout::horizontal([Constraint::Length(14), Constraint::Fill(1)]).areas(area);
    f.render_widget(
        Paragraph::new(vec![Line::from(Span::styled(
            "measurements",
            theme.fg(theme.muted),
        ))]),
        label,
    );
    let take = spark.width as usize;
    let data: Vec<u64> = t
        .recent
        .iter()
        .rev()
        .take(take)
        .rev()
        .map(|s| match s.verdict {
            Verdict::Pass => 8,
            Verdict::Warn => 5,
            Verdict::Fail => 2,
            Verdict::NoData | Verdict::Error => 1,
        })
        .collect();
    let colour = match t.recent.back().map(|s| s.verdict) {
        Some(Verdict::Fail) => theme.fail,
        Some(Verdict::Warn) => theme.warn,
        _ => theme.pass,
    };
    f.render_widget(
        Sparkline::default()
            .data(&data)
            .max(8)
            .style(theme.fg(colour)),
        spark,
    );
}
