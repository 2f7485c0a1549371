//! The sprint's acceptance evidence, written by the tool instead of collected by hand:
//! `index.md` (phase table with validation results and times), the verified audit trail,
//! the release train's who/what/why/when with trace ids, probe outputs, and the canary
//! timeline and golden signals as SVG charts.

pub mod svg;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::audit::{Phase, Record};
use crate::config::plan::Plan;
use crate::config::slo::SloConfig;
use crate::engine::phases::{PhaseState, ProbeStatus};
use crate::engine::signals::{Golden, GoldenSample, GoldenSet, Track};
use crate::engine::train::TimelineEntry;

/// Everything an export is made from.
pub struct Evidence<'a> {
    pub release: &'a str,
    pub generated: DateTime<Utc>,
    pub plan: &'a Plan,
    pub phases: &'a [PhaseState],
    /// The audit journal, already verified.
    pub records: &'a [Record],
    /// The canary run shown in the charts, when there is one.
    pub run: Option<Run<'a>>,
}

pub struct Run<'a> {
    pub label: &'a str,
    pub slo: &'a SloConfig,
    pub timeline: &'a [TimelineEntry],
    pub samples: &'a [GoldenSample],
}

/// Write the export into `dir`; returns the files written.
pub fn write(dir: &Path, e: &Evidence) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut put = |name: &str, text: String| -> std::io::Result<()> {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
        written.push(path);
        Ok(())
    };
    let mut audit = String::new();
    for r in e.records {
        audit.push_str(&serde_json::to_string(r).unwrap_or_default());
        audit.push('\n');
    }
    put("audit.jsonl", audit)?;
    if let Some(last) = e.records.last() {
        // The trail's head travels with it, so a copy still vouches for its own end.
        let head = super::audit::Head {
            seq: last.seq,
            hash: last.hash.clone(),
        };
        put(
            "audit.jsonl.head",
            serde_json::to_string(&head).unwrap_or_default() + "\n",
        )?;
    }
    put("release-train.md", release_train(e))?;
    for (i, (spec, state)) in e.plan.phases.iter().zip(e.phases).enumerate() {
        put(
            &format!("probes/phase-{i:02}.txt"),
            probe_outputs(spec, state),
        )?;
    }
    let mut charts = Vec::new();
    if let Some(run) = &e.run {
        let golden = GoldenSet::of(run.slo);
        for (i, signal) in golden.iter().enumerate() {
            let name = format!("charts/{}.svg", signal.sli);
            put(&name, signal_chart(run, i, signal))?;
            charts.push(name);
        }
        put("charts/canary-weight.svg", weight_chart(run))?;
        charts.push("charts/canary-weight.svg".into());
    }
    put("index.md", index(e, &charts))?;
    Ok(written)
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn index(e: &Evidence, charts: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Acceptance evidence: {}\n", e.release);
    let _ = writeln!(
        s,
        "Generated {} by captain.\n",
        e.generated.format("%Y-%m-%d %H:%M:%S UTC")
    );
    let _ = writeln!(s, "## Phases\n");
    let _ = writeln!(
        s,
        "| # | phase | owner | day | status | since | checks passed | last validation |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    for (spec, st) in e.plan.phases.iter().zip(e.phases) {
        let passed = st.checks.iter().filter(|c| c.passed()).count();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {}/{} | {} |",
            spec.id,
            cell(&spec.title),
            spec.owner.label(),
            spec.days_label(),
            st.status.label(),
            st.since
                .map_or("—".into(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
            passed,
            st.checks.len(),
            st.last_validation()
                .map_or("—".into(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
        );
    }
    let _ = writeln!(
        s,
        "\nEach phase's checks, with what the probes found: `probes/phase-NN.txt`.\n"
    );
    let _ = writeln!(s, "## Audit trail\n");
    let _ = writeln!(
        s,
        "`audit.jsonl`: {} records, hash chain verified when exported, its head in `audit.jsonl.head`. `release-train.md`: who did what, why and when, with trace ids.\n",
        e.records.len()
    );
    let _ = writeln!(s, "## Canary\n");
    match &e.run {
        Some(run) => {
            let _ = writeln!(s, "The run charted: {}.\n", run.label);
            let _ = writeln!(s, "| time | weight | event |");
            let _ = writeln!(s, "|---|---|---|");
            for t in run.timeline {
                let _ = writeln!(
                    s,
                    "| {} | {} % | {} |",
                    t.at.format("%H:%M:%S"),
                    t.weight,
                    cell(&t.event)
                );
            }
            let _ = writeln!(s);
            for c in charts {
                let _ = writeln!(s, "![{c}]({c})");
            }
        }
        None => {
            let _ = writeln!(s, "No canary run is charted in this export.");
        }
    }
    s
}

fn release_train(e: &Evidence) -> String {
    let mut s = String::from("# Release train: who, what, why, when\n\n");
    let _ = writeln!(
        s,
        "| time (UTC) | who | action | target | from → to | why | confirmed by | result | trace id | OpenTelemetry trace |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|");
    for r in e.records.iter().filter(|r| r.entry.phase == Phase::Outcome) {
        let x = &r.entry;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} → {} | {} | {} | {} | `{}` | {} |",
            r.time.format("%Y-%m-%d %H:%M:%S"),
            cell(&x.actor.label()),
            x.action,
            cell(&x.target),
            cell(&x.from),
            cell(&x.to),
            cell(x.reason.as_deref().unwrap_or("—")),
            x.confirmation,
            cell(x.result.as_deref().unwrap_or("—")),
            x.trace_id,
            r.otel
                .as_ref()
                .map_or_else(|| "—".to_string(), |o| format!("`{}`", o.trace_id))
        );
    }
    s
}

fn probe_outputs(spec: &crate::config::plan::PhaseSpec, st: &PhaseState) -> String {
    let mut s = format!(
        "Phase {} — {} ({})\n\n",
        spec.id,
        spec.title,
        st.status.label()
    );
    for (c, rec) in spec.validation.iter().zip(&st.checks) {
        let _ = writeln!(s, "check: {}\nprobe: {}", c.check, c.probe);
        match &rec.result {
            Some(r) => {
                let status = match (r.status, &rec.confirmed) {
                    (ProbeStatus::Manual, Some(by)) => {
                        format!("confirmed by {} at {}", by.by, stamp(by.at))
                    }
                    (st, _) => st.label().to_string(),
                };
                let _ = writeln!(
                    s,
                    "result: {status} at {}\nevidence: {}\n",
                    stamp(r.at),
                    r.evidence
                );
            }
            None => {
                let _ = writeln!(s, "result: not run\n");
            }
        }
    }
    s
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn markers(run: &Run) -> Vec<(DateTime<Utc>, String)> {
    run.timeline
        .iter()
        .map(|t| (t.at, format!("{} %", t.weight)))
        .collect()
}

fn signal_chart(run: &Run, i: usize, signal: &Golden) -> String {
    let line = |track: Track| -> Vec<(DateTime<Utc>, f64)> {
        run.samples
            .iter()
            .filter_map(|s| s.get(i, track).map(|v| (s.at, v)))
            .collect()
    };
    let threshold = run
        .slo
        .objectives
        .iter()
        .find(|o| o.sli == signal.sli)
        .and_then(|o| o.pass.lte);
    let unit = signal.unit;
    let format = move |v: f64| unit.format(v);
    let title = format!("{} — canary vs stable", signal.label);
    svg::render(&svg::Chart {
        title: &title,
        lines: vec![
            svg::Line {
                label: "stable",
                colour: "#1f6feb",
                points: line(Track::Stable),
            },
            svg::Line {
                label: "canary",
                colour: "#bf3989",
                points: line(Track::Canary),
            },
        ],
        threshold,
        markers: markers(run),
        format: &format,
    })
}

fn weight_chart(run: &Run) -> String {
    // A step line: each weight holds until the next change.
    let mut points = Vec::new();
    for (i, t) in run.timeline.iter().enumerate() {
        if i > 0 {
            points.push((t.at, f64::from(run.timeline[i - 1].weight)));
        }
        points.push((t.at, f64::from(t.weight)));
    }
    if let (Some(last), Some(end)) = (run.timeline.last(), run.samples.last()) {
        points.push((end.at.max(last.at), f64::from(last.weight)));
    }
    let format = |v: f64| format!("{v:.0} %");
    svg::render(&svg::Chart {
        title: "canary traffic weight",
        lines: vec![svg::Line {
            label: "weight",
            colour: "#bf3989",
            points,
        }],
        threshold: None,
        markers: markers(run),
        format: &format,
    })
}
