//! `captain slo check`: every objective measured once and judged, as the release-train job
//! asks before it goes on. Exit 0 pass, 1 fail, 2 inconclusive (warn or no data), 3 could
//! not evaluate.

use std::process::ExitCode;
use std::sync::Arc;

use color_eyre::eyre::Result;

use super::out::{Format, Table};
use crate::cli::{Cli, SloCmd};
use crate::config::slo::SloConfig;
use crate::engine::analysis::{Analysis, Verdict, analyse};
use crate::launch::{Session, Settings};
use crate::sources::{Metrics, Queries};

pub fn exit_code(v: Verdict) -> u8 {
    match v {
        Verdict::Pass => 0,
        Verdict::Fail => 1,
        Verdict::Warn | Verdict::NoData => 2,
        Verdict::Error => 3,
    }
}

pub async fn run(cli: &Cli, cmd: &SloCmd) -> Result<ExitCode> {
    let j = match cmd {
        SloCmd::Check(j) => j,
        SloCmd::Rules(g) => return super::slo_rules::rules(cli, g),
        SloCmd::Dashboard(g) => return super::slo_rules::dashboard(cli, g),
        SloCmd::BurnDrill(d) => return super::slo_rules::burn_drill(cli, d).await,
    };
    let settings = Settings::load(cli)?;
    let (slo, metrics, now): (SloConfig, Arc<dyn Metrics>, _) = if settings.demo.is_some() {
        let session = Session::open(cli).await?;
        let now = session.clock.now();
        (session.slo.clone(), session.backends.metrics.clone(), now)
    } else {
        let slo = settings.slo()?;
        let metrics = match crate::launch::live_metrics(&settings, &slo) {
            Ok(m) => m,
            Err(e) => {
                say_err!("slo: could not evaluate: {e:#}");
                return Ok(ExitCode::from(3));
            }
        };
        (slo, metrics, chrono::Utc::now())
    };
    let queries = Queries::resolve(&slo);
    let measurement = match metrics.measure(&queries, now).await {
        Ok(m) => m,
        Err(e) => {
            say_err!("slo: could not evaluate: {e}");
            return Ok(ExitCode::from(3));
        }
    };
    let mut analysis = analyse(&slo, &measurement, &queries.evidence());
    if let Some(cfg) = &slo.burn_rate
        && !queries.burn.is_empty()
        && let Ok(values) = metrics.ratios(&queries.burn, now).await
    {
        analysis.burn = queries.burn_alerts(cfg, values);
    }
    if !super::out::structured(j.format(), &analysis)? {
        print(&analysis, j.format());
    }
    Ok(ExitCode::from(exit_code(analysis.verdict)))
}

/// The verdict, then a row per objective and the query each ran (`-o wide` puts it in a
/// column), and a row per burn-rate alert.
fn print(a: &Analysis, format: Format) {
    say!("verdict {}: {}", a.verdict.label().to_uppercase(), a.reason);
    let mut t = Table::new(
        format,
        &[
            ("OBJECTIVE", false),
            ("VERDICT", false),
            ("CANARY", false),
            ("STABLE", false),
            ("PASS IF", false),
            ("REASON", false),
            ("QUERY", true),
        ],
    );
    for o in &a.objectives {
        let v = |x: Option<f64>| x.map_or("—".to_string(), |x| o.unit.format(x));
        t.row(vec![
            format!("{}{}", o.sli, if o.key { " (key)" } else { "" }),
            o.verdict.label().to_string(),
            v(o.canary),
            v(o.stable),
            o.comparator.to_string(),
            o.reason.clone(),
            o.query.clone(),
        ]);
    }
    t.print("no objectives");
    // The evidence a CI log keeps: each query as it ran, in its own column under -o wide.
    if format != Format::Wide {
        for o in &a.objectives {
            say!("{} query: {}", o.sli, o.query);
        }
    }
    if a.burn.is_empty() {
        return;
    }
    let mut burns = Table::new(
        format,
        &[
            ("BURN ALERT", false),
            ("WINDOWS", false),
            ("LONG", false),
            ("SHORT", false),
            ("FIRES ABOVE", false),
            ("STATE", false),
        ],
    );
    for b in &a.burn {
        let burn = |x: Option<f64>| x.map_or("—".to_string(), |x| format!("{x:.1}×"));
        let state = if b.firing {
            "FIRING"
        } else if b.known {
            "ok"
        } else {
            "no data"
        };
        burns.row(vec![
            b.severity.clone(),
            format!("{}/{}", b.long, b.short),
            burn(b.long_burn),
            burn(b.short_burn),
            format!("{}×", b.factor),
            state.to_string(),
        ]);
    }
    say!("");
    burns.print("");
}
