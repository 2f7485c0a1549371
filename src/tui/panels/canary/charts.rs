//! The golden signals as charts, canary against stable over the last minutes, with the SLO
//! threshold drawn. Every sample in the span is drawn, thinned first to what the chart's dots
//! can show: a ten-minute span of one-second samples is ten times more points than a chart has
//! columns of dots.

use chrono::{DateTime, Duration, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, LegendPosition};

use super::dur;
use super::thin::{self, Columns, Thin};
use crate::engine::signals::{Golden, GoldenSample, Track};
use crate::tui::state::{App, Series};
use crate::tui::theme::Theme;

/// How much history the charts show at most, and at least.
const CHART_SPAN_SECS: i64 = 10 * 60;
const CHART_MIN_SECS: i64 = 60;

/// The charts' time span: the history there is, between one and ten minutes.
fn chart_span(series: &Series, now: DateTime<Utc>) -> i64 {
    series
        .samples
        .front()
        .map_or(CHART_MIN_SECS, |s| (now - s.at).num_seconds())
        .clamp(CHART_MIN_SECS, CHART_SPAN_SECS)
}

/// The samples in the span, each with its time in seconds before `now`.
struct Window<'a> {
    span: i64,
    samples: Vec<(f64, &'a GoldenSample)>,
}

impl<'a> Window<'a> {
    fn new(series: &'a Series, now: DateTime<Utc>) -> Self {
        let span = chart_span(series, now);
        let from = now - Duration::seconds(span);
        let start = series.samples.partition_point(|s| s.at < from);
        let samples = series
            .samples
            .range(start..)
            .map(|s| ((s.at - now).num_milliseconds() as f64 / 1000.0, s))
            .collect();
        Window { span, samples }
    }
}

/// The selected pair of the configured golden signals (`g` cycles through the pairs),
/// side by side; an odd last one alone, as wide as a pair.
pub fn draw(f: &mut Frame, area: Rect, app: &App, now: DateTime<Utc>, theme: &Theme) {
    let set = &app.series.golden;
    let Some((a, b)) = set.pair(app.ui.chart_pair) else {
        f.render_widget(
            ratatui::widgets::Paragraph::new("no golden signals: slo.yml charts none")
                .style(theme.fg(theme.muted)),
            area,
        );
        return;
    };
    let window = Window::new(&app.series, now);
    let chart = |f: &mut Frame, area: Rect, i: usize| {
        if let Some(golden) = set.get(i) {
            draw_chart(f, area, &window, i, golden, threshold(app, golden), theme);
        }
    };
    match b {
        Some(b) => {
            let [left, right] =
                Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(area);
            chart(f, left, a);
            chart(f, right, b);
        }
        None => chart(f, area, a),
    }
}

/// The pass bound of the objective on this signal's SLI, if there is one.
fn threshold(app: &App, golden: &Golden) -> Option<f64> {
    let a = app.analysis.as_ref()?;
    a.objectives.iter().find(|o| o.sli == golden.sli)?.threshold
}

fn draw_chart(
    f: &mut Frame,
    area: Rect,
    window: &Window,
    signal: usize,
    golden: &Golden,
    threshold: Option<f64>,
    theme: &Theme,
) {
    let x0 = -(window.span as f64);
    let top = window
        .samples
        .iter()
        .flat_map(|(_, s)| [s.get(signal, Track::Canary), s.get(signal, Track::Stable)])
        .flatten()
        .chain(threshold)
        .fold(0.0_f64, f64::max)
        * 1.15;
    let top = if top > 0.0 { top } else { 1.0 };
    let look = Look {
        title: Line::from(vec![
            Span::styled(format!(" {} ", golden.label), theme.bold(theme.title)),
            Span::styled(
                threshold.map_or(String::new(), |t| format!("slo {} ", golden.unit.format(t))),
                theme.fg(theme.threshold),
            ),
        ]),
        x_bounds: [x0, 0.0],
        y_bounds: [0.0, top],
        x_labels: [
            format!("-{}", dur(Duration::seconds(window.span))),
            "now".into(),
        ],
        y_labels: ["0".into(), golden.unit.format(top)],
    };
    let (mut stable, mut canary) = (Thin::default(), Thin::default());
    // No room for dots: the chart draws its box and nothing of the lines.
    if let Some(graph) = look.graph_area(area) {
        let columns = Columns::new(look.x_bounds, look.y_bounds, graph);
        for &(x, s) in &window.samples {
            let column = columns.of_x(x);
            for (line, track) in [(&mut stable, Track::Stable), (&mut canary, Track::Canary)] {
                if let Some(v) = s.get(signal, track) {
                    line.push(column.filter(|_| columns.holds(v)), (x, v));
                }
            }
        }
    }
    let (stable, canary) = (stable.finish(), canary.finish());
    let slo = threshold.map(|t| [(x0, t), (0.0, t)]);
    let mut lines = vec![
        ("stable", theme.fg(theme.stable), &stable[..]),
        ("canary", theme.fg(theme.canary), &canary[..]),
    ];
    if let Some(l) = &slo {
        lines.push(("slo", theme.fg(theme.threshold), l));
    }
    f.render_widget(look.chart(lines, theme), area);
}

/// A line's name in the legend, its colour, and its points.
type ChartLine<'a> = (&'a str, Style, &'a [(f64, f64)]);

/// A chart's frame, bounds and labels: what places its dots, and so what thinning needs.
struct Look<'a> {
    title: Line<'a>,
    x_bounds: [f64; 2],
    y_bounds: [f64; 2],
    /// The left end and the right; the bottom and the top.
    x_labels: [String; 2],
    y_labels: [String; 2],
}

impl<'a> Look<'a> {
    fn graph_area(&self, area: Rect) -> Option<Rect> {
        let width = |s: &String| Line::raw(s.as_str()).width() as u16;
        let widest_y = self.y_labels.iter().map(width).max().unwrap_or(0);
        thin::graph_area(area, widest_y, width(&self.x_labels[0]))
    }

    /// Lines in braille, each drawn over the ones before it, the legend top left.
    fn chart(self, lines: Vec<ChartLine<'a>>, theme: &Theme) -> Chart<'a> {
        let sets = lines
            .into_iter()
            .map(|(name, style, points)| {
                Dataset::default()
                    .name(name)
                    .marker(Marker::Braille)
                    .graph_type(GraphType::Line)
                    .style(style)
                    .data(points)
            })
            .collect();
        let axis = |bounds: [f64; 2], labels: [String; 2]| {
            Axis::default()
                .bounds(bounds)
                .labels(labels)
                .style(theme.fg(theme.muted))
        };
        Chart::new(sets)
            .block(
                Block::bordered()
                    .border_style(theme.fg(theme.border))
                    .title(self.title.left_aligned()),
            )
            .x_axis(axis(self.x_bounds, self.x_labels))
            .y_axis(axis(self.y_bounds, self.y_labels))
            .legend_position(Some(LegendPosition::TopLeft))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::buffer::Buffer;
    use ratatui::widgets::Widget;

    use chrono::TimeZone;

    /// Ten minutes of one-second samples: a gentle wave with a spike up and a dip down.
    fn series(now: DateTime<Utc>) -> Series {
        let mut s = Series::new(Series::CAP);
        for i in 0..900 {
            let v = match i {
                500 => 9.0,
                700 => 0.05,
                _ => 1.0 + 0.5 * (f64::from(i) / 40.0).sin(),
            };
            s.push(GoldenSample {
                at: now - Duration::seconds(900 - i64::from(i)),
                canary: vec![Some(v); 6].into(),
                stable: vec![Some(1.0); 6].into(),
            });
        }
        s
    }

    #[test]
    fn a_chart_draws_every_sample_in_its_span() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 3, 0, 0).unwrap();
        let s = series(now);
        let window = Window::new(&s, now);
        assert_eq!(window.span, CHART_SPAN_SECS);
        assert_eq!(window.samples.len(), 600);
        let theme = Theme::default_theme();
        let error_rate = s.golden.get(0).unwrap().clone();
        assert_eq!(error_rate.sli, "error_rate");
        let area = Rect::new(0, 0, 60, 16);
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(60, 16)).unwrap();
        let frame = terminal
            .draw(|f| draw_chart(f, area, &window, 0, &error_rate, Some(2.0), &theme))
            .unwrap();

        // The same chart given every sample, unthinned.
        let track = |t| -> Vec<(f64, f64)> {
            window
                .samples
                .iter()
                .filter_map(|&(x, s)| s.get(0, t).map(|v| (x, v)))
                .collect()
        };
        let (all, stable) = (track(Track::Canary), track(Track::Stable));
        let slo = [(-600.0, 2.0), (0.0, 2.0)];
        let top = 9.0 * 1.15;
        let full = Look {
            title: Line::from(vec![
                Span::styled(" error rate ", theme.bold(theme.title)),
                Span::styled("slo 200.00% ", theme.fg(theme.threshold)),
            ]),
            x_bounds: [-600.0, 0.0],
            y_bounds: [0.0, top],
            x_labels: ["-10m".into(), "now".into()],
            y_labels: ["0".into(), error_rate.unit.format(top)],
        }
        .chart(
            vec![
                ("stable", theme.fg(theme.stable), &stable),
                ("canary", theme.fg(theme.canary), &all),
                ("slo", theme.fg(theme.threshold), &slo),
            ],
            &theme,
        );
        let mut want = Buffer::empty(area);
        full.render(area, &mut want);
        assert_eq!(frame.buffer, &want);
    }
}
