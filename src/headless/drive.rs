//! `captain drive`: the release's canary trains driven without a terminal, for good, as
//! Argo Rollouts' and Flagger's controllers drive theirs: so automatic rollback never
//! depends on somebody's laptop being open (docs/runbook.md, "Unattended: captain drive").
//!
//! It takes the release's lease like any console, starts each new revision it finds
//! deployed at 0 %, measures, promotes and rolls back by the SLOs; when a train has ended
//! it waits for the next revision. `GET /healthz` says whether it is measuring. SIGTERM
//! (a Deployment's rollout, a node drain) gives the lease up before it exits.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr};
use serde_json::json;
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::Cli;
use crate::engine::train::Status;
use crate::launch::Session;
use crate::ops::Operator;

/// What `/healthz` answers from.
#[derive(Default)]
struct Health {
    last_tick: Option<Instant>,
    summary: serde_json::Value,
}

type Shared = Arc<Mutex<Health>>;

pub async fn run(cli: &Cli, health: Option<SocketAddr>) -> Result<ExitCode> {
    let session = Session::open(cli).await?;
    let state: Shared = Arc::default();
    if let Some(addr) = health {
        serve_health(addr, state.clone(), session.tick).await?;
    }
    let mut term = signal(SignalKind::terminate()).wrap_err("listening for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).wrap_err("listening for SIGINT")?;
    // A new revision is looked for this often once a train has ended (one read of the
    // release's history).
    let recheck = (session.tick * 5).max(Duration::from_secs(5));
    loop {
        let (mut op, _) = session.operator().await?;
        log::info!(
            "driving {} revision {}: {}",
            op.train.release,
            op.train.revisions.current,
            op.train.status.label()
        );
        let mut ticker = tokio::time::interval(session.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut looked = Instant::now();
        let mut refused: Option<String> = None;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = term.recv() => return stop(&mut op).await,
                _ = int.recv() => return stop(&mut op).await,
            }
            let now = session.clock.now();
            if op.train.status == Status::NotStarted {
                match op.start_new(now).await? {
                    Ok(o) if !o.ok => log::error!("start {}: {}", o.target, o.message),
                    Ok(_) => refused = None,
                    Err(why) if refused.as_ref() != Some(&why) => {
                        log::info!("{why}");
                        refused = Some(why);
                    }
                    Err(_) => {}
                }
            }
            let report = op.tick(now).await?;
            for o in report.outcomes.iter().filter(|o| !o.ok) {
                log::error!("{} {}: {}", o.action, o.target, o.message);
            }
            record(&state, &op);
            let idle = op.train.status.is_terminal() || op.train.status == Status::NotStarted;
            if idle && looked.elapsed() >= recheck {
                looked = Instant::now();
                if newer_revision(&session, &op).await {
                    break;
                }
            }
        }
    }
}

/// Whether the release has a deployed revision other than this train's (and other than
/// Helm's own rollback of it): a new train to drive.
async fn newer_revision(session: &Session, op: &Operator) -> bool {
    match session.backends.deployer.history().await {
        Ok(history) => {
            let versions = history
                .iter()
                .map(|r| (r.revision, r.app_version.clone()))
                .collect();
            history
                .iter()
                .rev()
                .find(|r| r.status == "deployed")
                .is_some_and(|r| {
                    r.revision > op.train.revisions.current
                        && !Operator::made_by_rollback(
                            &op.train,
                            r.revision,
                            &r.description,
                            &r.app_version,
                            &versions,
                        )
                })
        }
        Err(e) => {
            log::warn!("reading the release history: {e}");
            false
        }
    }
}

fn record(state: &Shared, op: &Operator) {
    let t = &op.train;
    let mut h = state.lock().unwrap_or_else(|e| e.into_inner());
    h.last_tick = Some(Instant::now());
    h.summary = json!({
        "release": t.release,
        "revision": t.revisions.current,
        "weight": t.weight,
        "status": t.status.label(),
        "drives": op.drives(),
        "driver": op.driver(),
        "auto_rollback_off": op.auto_rollback_off(),
    });
}

async fn stop(op: &mut Operator) -> Result<ExitCode> {
    log::info!("stopping: giving the driver's lease up");
    op.release_shared().await;
    op.notifications_sent().await;
    Ok(ExitCode::SUCCESS)
}

/// `GET /healthz`: 200 with the train's summary while measurements go on; 503 once the
/// last one is older than three intervals (a stuck driver is restarted by its liveness
/// probe rather than left holding the lease).
async fn serve_health(addr: SocketAddr, state: Shared, tick: Duration) -> Result<()> {
    use axum::http::StatusCode;
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .wrap_err_with(|| format!("serving /healthz on {addr}"))?;
    let app = axum::Router::new().route(
        "/healthz",
        get(move || {
            let state = state.clone();
            async move {
                let h = state.lock().unwrap_or_else(|e| e.into_inner());
                let fresh = h.last_tick.is_some_and(|at| at.elapsed() <= tick * 3);
                let code = if fresh {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                (code, axum::Json(h.summary.clone()))
            }
        }),
    );
    log::info!("serving /healthz on {addr}");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            log::error!("/healthz: {e}");
        }
    });
    Ok(())
}
