//! `captain drive`: the canary trains of one or more releases driven without a terminal,
//! for good, as Argo Rollouts' and Flagger's controllers drive theirs: so automatic
//! rollback never depends on somebody's laptop being open (docs/runbook.md, "Unattended:
//! captain drive").
//!
//! For each release it takes the release's lease like any console, starts each new
//! revision it finds deployed at 0 %, measures, promotes and rolls back by the SLOs; when a
//! train has ended it waits for the next revision. Releases are driven apart, each on its
//! own task with its own journal: one that fails stops only itself, and `/healthz` says
//! which. SIGTERM (a Deployment's rollout, a node drain) gives every lease up before it
//! exits.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr, bail};
use serde_json::json;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::cli::Cli;
use crate::engine::train::Status;
use crate::launch::{Session, Settings};
use crate::ops::Operator;

/// What `/healthz` answers from, for one release.
#[derive(Default)]
struct Health {
    last_tick: Option<Instant>,
    tick: Duration,
    summary: serde_json::Value,
    /// Why this release is no longer driven.
    failed: Option<String>,
}

impl Health {
    /// Measuring: the last measurement is at most three intervals old.
    fn fresh(&self) -> bool {
        self.failed.is_none()
            && self
                .last_tick
                .is_some_and(|at| at.elapsed() <= self.tick * 3)
    }
}

/// Every release's health, by release name.
type Shared = Arc<Mutex<BTreeMap<String, Health>>>;

pub async fn run(cli: &Cli, health: Option<SocketAddr>, more: &[PathBuf]) -> Result<ExitCode> {
    let sessions = open_all(cli, more).await?;
    let state: Shared = Arc::default();
    {
        let mut h = state.lock().unwrap_or_else(|e| e.into_inner());
        for s in &sessions {
            let entry = h.entry(s.settings.config.release.name.clone()).or_default();
            entry.tick = s.tick;
        }
    }
    if let Some(addr) = health {
        serve_health(addr, state.clone(), sessions.len() > 1).await?;
    }
    let mut term = signal(SignalKind::terminate()).wrap_err("listening for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).wrap_err("listening for SIGINT")?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for session in sessions {
        let state = state.clone();
        let stop = stop_rx.clone();
        tasks.spawn(async move {
            let release = session.settings.config.release.name.clone();
            if let Err(e) = drive(&session, &state, stop).await {
                let why = crate::text::sanitize(&format!("{e:#}")).into_owned();
                log::error!("{release}: no longer driven: {why}");
                let mut h = state.lock().unwrap_or_else(|e| e.into_inner());
                h.entry(release).or_default().failed = Some(why);
            }
        });
    }
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        // Every release failed: nothing is driven any more.
        () = async { while tasks.join_next().await.is_some() {} } => {
            bail!("no release is driven any more; the log says why");
        }
    }
    log::info!("stopping: giving the drivers' leases up");
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(ExitCode::SUCCESS)
}

/// The release of `--config`, and one more for each `--release` captain.toml. With more
/// than one, each keeps its journal and plan progress in a directory of its own, named
/// after it, under the state directory.
async fn open_all(cli: &Cli, more: &[PathBuf]) -> Result<Vec<Session>> {
    let mut settings = vec![Settings::load(cli)?];
    for path in more {
        settings.push(Settings::load_from(cli, Some(path))?);
    }
    let mut names = std::collections::BTreeSet::new();
    for s in &settings {
        let name = &s.config.release.name;
        if !names.insert(name.clone()) {
            bail!("release {name} is named twice: each release is driven once");
        }
    }
    let apart = settings.len() > 1;
    let mut sessions = Vec::new();
    for mut s in settings {
        if apart && s.demo.is_none() {
            let dir = crate::paths::state_dir().join(&s.config.release.name);
            std::fs::create_dir_all(&dir)
                .wrap_err_with(|| format!("making the state directory {}", dir.display()))?;
            s.state_dir = Some(dir);
        }
        sessions.push(Session::open_with(cli, s).await?);
    }
    Ok(sessions)
}

/// Drive one release until told to stop.
async fn drive(session: &Session, state: &Shared, mut stop: watch::Receiver<bool>) -> Result<()> {
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
                _ = stop.changed() => {
                    op.release_shared().await;
                    // What [notify] still has in flight goes out before the process ends.
                    op.notifications_sent().await;
                    return Ok(());
                }
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
            record(state, &op);
            // A train overtaken by a deploy (found by the route's watch) moves on at once.
            if op.overtaken.is_some() {
                break;
            }
            let idle = op.train.status.is_terminal() || op.train.status == Status::NotStarted;
            if idle && looked.elapsed() >= recheck {
                looked = Instant::now();
                if op.newer_deploy().await.is_some() {
                    break;
                }
            }
        }
    }
}

fn record(state: &Shared, op: &Operator) {
    let t = &op.train;
    let mut all = state.lock().unwrap_or_else(|e| e.into_inner());
    let h = all.entry(t.release.clone()).or_default();
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

/// `GET /healthz`: 200 while every release's measurements go on; 503 once one's last is
/// older than three of its intervals, or it failed (a stuck driver is restarted by its
/// liveness probe rather than left holding the lease). The body is the train's summary,
/// or with several releases `{"releases": {name: summary}}`, a failed one with `error`.
async fn serve_health(addr: SocketAddr, state: Shared, several: bool) -> Result<()> {
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
                let all = state.lock().unwrap_or_else(|e| e.into_inner());
                let fresh = all.values().all(Health::fresh);
                let code = if fresh {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                let body = if several {
                    let releases: serde_json::Map<String, serde_json::Value> = all
                        .iter()
                        .map(|(name, h)| {
                            let mut summary = h.summary.clone();
                            if let (Some(why), Some(map)) = (&h.failed, summary.as_object_mut()) {
                                map.insert("error".into(), json!(why));
                            } else if let Some(why) = &h.failed {
                                summary = json!({ "release": name, "error": why });
                            }
                            (name.clone(), summary)
                        })
                        .collect();
                    json!({ "releases": releases })
                } else {
                    all.values()
                        .next()
                        .map(|h| h.summary.clone())
                        .unwrap_or_default()
                };
                (code, axum::Json(body))
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
