//! Line charts as SVG, for the evidence export: canary against stable over a run, the SLO
//! threshold, and the train's events marked. Plain SVG 1.1 that any browser or viewer opens.

use std::fmt::Write;

use chrono::{DateTime, Utc};

/// One line: a label, a colour, and its points (time, value).
pub struct Line<'a> {
    pub label: &'a str,
    pub colour: &'a str,
    pub points: Vec<(DateTime<Utc>, f64)>,
}

pub struct Chart<'a> {
    pub title: &'a str,
    pub lines: Vec<Line<'a>>,
    pub threshold: Option<f64>,
    /// Events to mark on the time axis: promotions, the rollback.
    pub markers: Vec<(DateTime<Utc>, String)>,
    pub format: &'a dyn Fn(f64) -> String,
}

const W: f64 = 900.0;
const H: f64 = 360.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

/// Text escaped for XML content and attribute values.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

pub fn render(c: &Chart) -> String {
    let times = c
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .chain(c.markers.iter().map(|m| m.0));
    let (t0, t1) = times.fold(
        (None, None),
        |(lo, hi): (Option<DateTime<Utc>>, Option<DateTime<Utc>>), t| {
            (
                Some(lo.map_or(t, |x| x.min(t))),
                Some(hi.map_or(t, |x| x.max(t))),
            )
        },
    );
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{}</text>"#,
        escape(c.title)
    );
    let (Some(t0), Some(t1)) = (t0, t1) else {
        let _ = writeln!(out, r#"<text x="{LEFT}" y="{}">no data</text>"#, H / 2.0);
        out.push_str("</svg>\n");
        return out;
    };
    let span = ((t1 - t0).num_milliseconds() as f64 / 1000.0).max(1.0);
    let top = c
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .chain(c.threshold)
        .fold(0.0_f64, f64::max)
        * 1.1;
    let top = if top > 0.0 { top } else { 1.0 };
    let x = |t: DateTime<Utc>| {
        LEFT + ((t - t0).num_milliseconds() as f64 / 1000.0) / span * (W - LEFT - RIGHT)
    };
    let y = |v: f64| TOP + (1.0 - v / top) * (H - TOP - BOTTOM);
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, y(0.0), y(top));
    let _ = writeln!(
        out,
        r##"<g stroke="#888" stroke-width="1"><line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}"/><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}"/></g>"##
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
        x0 - 6.0,
        y1 + 4.0,
        escape(&(c.format)(top))
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="end">0</text>"#,
        x0 - 6.0,
        y0 + 4.0
    );
    let _ = writeln!(
        out,
        r#"<text x="{x0}" y="{}">{}</text>"#,
        y0 + 18.0,
        t0.format("%H:%M:%S UTC")
    );
    let _ = writeln!(
        out,
        r#"<text x="{x1}" y="{}" text-anchor="end">{}</text>"#,
        y0 + 18.0,
        t1.format("%H:%M:%S UTC")
    );
    for (t, label) in &c.markers {
        let mx = x(*t);
        let _ = writeln!(
            out,
            r##"<g><line x1="{mx:.1}" y1="{y1}" x2="{mx:.1}" y2="{y0}" stroke="#bbb" stroke-dasharray="3,3"/><text x="{:.1}" y="{}" font-size="10" fill="#555">{}</text></g>"##,
            mx + 3.0,
            y1 + 12.0,
            escape(label)
        );
    }
    if let Some(th) = c.threshold {
        let ty = y(th);
        let _ = writeln!(
            out,
            r##"<g><line x1="{x0}" y1="{ty:.1}" x2="{x1}" y2="{ty:.1}" stroke="#d4a000" stroke-width="1.5" stroke-dasharray="6,4"/><text x="{}" y="{:.1}" text-anchor="end" fill="#a07800">SLO {}</text></g>"##,
            x1 - 4.0,
            ty - 4.0,
            escape(&(c.format)(th))
        );
    }
    for (i, l) in c.lines.iter().enumerate() {
        let pts: Vec<String> = l
            .points
            .iter()
            .map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v)))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{}" stroke-width="1.8" points="{}"/>"#,
            escape(l.colour),
            pts.join(" ")
        );
        let ly = TOP + 14.0 * i as f64;
        let _ = writeln!(
            out,
            r#"<g><rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">{}</text></g>"#,
            x1 - 110.0,
            ly - 9.0,
            escape(l.colour),
            x1 - 95.0,
            ly,
            escape(l.label)
        );
    }
    out.push_str("</svg>\n");
    out
}
