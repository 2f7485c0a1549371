//! `captain plan show|validate`.

use std::process::ExitCode;
use std::sync::Arc;

use color_eyre::eyre::{Result, bail};
use serde_json::json;

use super::out::{self, Format, Table};
use crate::cli::{Cli, PlanCmd};
use crate::config::plan::Plan;
use crate::engine::phases::ProbeStatus;
use crate::launch::{Session, Settings};
use crate::ops::probes::{self, ProbeContext};

pub async fn run(cli: &Cli, cmd: &PlanCmd) -> Result<ExitCode> {
    let settings = Settings::load(cli)?;
    let plan = settings.plan()?;
    match cmd {
        PlanCmd::Show(j) => {
            show(&plan, j.format())?;
            Ok(ExitCode::SUCCESS)
        }
        PlanCmd::Validate { phase, j } => validate(cli, &settings, &plan, *phase, j.format()).await,
    }
}

fn show(plan: &Plan, format: Format) -> Result<()> {
    if !out::structured(format, plan)? {
        let mut t = Table::new(
            format,
            &[
                ("PHASE", false),
                ("TITLE", false),
                ("OWNER", false),
                ("DAYS", false),
                ("CHECKS", true),
            ],
        );
        for p in &plan.phases {
            t.row(vec![
                p.id.to_string(),
                p.title.clone(),
                p.owner.label().to_string(),
                p.days_label(),
                p.validation.len().to_string(),
            ]);
        }
        t.print("the plan has no phases");
    }
    Ok(())
}

async fn validate(
    cli: &Cli,
    settings: &Settings,
    plan: &Plan,
    only: Option<usize>,
    format: Format,
) -> Result<ExitCode> {
    if let Some(n) = only.filter(|n| *n >= plan.phases.len()) {
        bail!(
            "no phase {n}: the plan has phases 0–{}",
            plan.phases.len() - 1
        );
    }
    let ctx = if settings.demo.is_some() {
        let session = Session::open(cli).await?;
        ProbeContext {
            audit_path: settings.audit_path(),
            metrics: Some((session.backends.metrics.clone(), session.slo.clone())),
            forge: Some(session.backends.forge.clone()),
            cluster: Some(session.backends.cluster.clone()),
            host: session.backends.host.clone(),
            published: Some(session.backends.published.clone()),
            now: session.clock.now(),
        }
    } else {
        live_context(cli, settings).await
    };
    let mut worst = ProbeStatus::Pass;
    let mut report = Vec::new();
    let mut table = Table::new(
        format,
        &[
            ("PHASE", false),
            ("STATUS", false),
            ("CHECK", false),
            ("PROBE", true),
            ("EVIDENCE", false),
        ],
    );
    for p in plan
        .phases
        .iter()
        .filter(|p| only.is_none_or(|n| usize::from(p.id) == n))
    {
        let results = probes::run_all(&p.validation, &ctx).await;
        for (c, r) in p.validation.iter().zip(&results) {
            worst = match (worst, r.status) {
                (_, ProbeStatus::Fail) | (ProbeStatus::Fail, _) => ProbeStatus::Fail,
                (ProbeStatus::Pass, s) => s,
                (w, _) => w,
            };
            table.row(vec![
                p.id.to_string(),
                r.status.label().to_string(),
                c.check.clone(),
                c.probe.to_string(),
                r.evidence.clone(),
            ]);
        }
        report.push(json!({
            "phase": p.id,
            "title": p.title,
            "checks": p.validation.iter().zip(&results).map(|(c, r)| json!({
                "check": c.check, "probe": c.probe.kind(), "status": r.status, "evidence": r.evidence, "at": r.at,
            })).collect::<Vec<_>>(),
        }));
    }
    if !out::structured(format, &report)? {
        table.print("no validation checks");
    }
    Ok(ExitCode::from(match worst {
        ProbeStatus::Pass => 0,
        ProbeStatus::Fail => 1,
        ProbeStatus::Manual | ProbeStatus::Unavailable => 2,
    }))
}

/// The live sources the probes may ask, each one that cannot be set up left out (its
/// probes then say it is unavailable, and why).
async fn live_context(cli: &Cli, settings: &Settings) -> ProbeContext {
    let metrics = settings.slo().ok().and_then(|slo| {
        crate::launch::live_metrics(settings, &slo)
            .ok()
            .map(|m| (m, slo))
    });
    let forge: Arc<dyn crate::sources::Forge> = match crate::launch::live_forge(settings).await {
        Ok(f) => f,
        Err(e) => Arc::new(crate::sources::unavailable::UnavailableForge::new(format!(
            "{e:#}"
        ))),
    };
    let cfg = &settings.config;
    let context = settings.kube_context(cli);
    let cluster = match crate::sources::kube::connect(context.as_deref(), None).await {
        Ok(target) => Some(Arc::new(crate::sources::kube::KubeCluster::spawn(
            &target,
            &cfg.previews,
            &cfg.release,
            &cfg.traffic,
            Arc::new(crate::clock::SystemClock),
        )) as Arc<dyn crate::sources::Cluster>),
        Err(e) => Some(
            Arc::new(crate::sources::unavailable::UnavailableCluster::new(
                format!("Kubernetes: {e}"),
            )) as Arc<dyn crate::sources::Cluster>,
        ),
    };
    ProbeContext {
        audit_path: settings.audit_path(),
        metrics,
        forge: Some(forge),
        cluster,
        host: Arc::new(crate::sources::host::LocalHost),
        published: Some(crate::launch::live_published(settings)),
        now: chrono::Utc::now(),
    }
}
