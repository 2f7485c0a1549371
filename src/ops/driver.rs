//! The operator as a task: ticks at the measurement interval, takes confirmed commands
//! over a channel, sends owned updates back. The UI never holds the operator.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::command::PhaseCommand;
use super::command::{Command, Confirmed};
use super::operator::{Operator, TickReport, Validation};
use super::outcome::Outcome;
use super::probes;
use crate::clock::Clock;
use crate::engine::analysis::Analysis;
use crate::engine::phases::{PhaseState, ProbeResult};
use crate::engine::signals::GoldenSample;
use crate::engine::train::Train;

#[derive(Debug)]
pub enum Update {
    Phases(Vec<PhaseState>),
    Train(Box<Train>, Option<u8>),
    Sample(GoldenSample),
    Analysis(Box<Analysis>),
    Outcome(Outcome),
    /// Actions the cluster does not allow this user, with why.
    Denied(std::collections::BTreeMap<super::ActionKind, String>),
    /// Which console drives the train, when consoles share it; and whether it is this one.
    Driver(Option<String>, bool),
    /// Why nobody would roll the canary back by itself now (`None`: somebody would).
    AutoRollback(Option<String>),
    /// What the shared state and the cluster said that the header must show
    /// (`Operator::notes`).
    Notes(Vec<String>),
    /// The audit journal failed: nothing more can be done safely.
    Fault(String),
    /// An action still under way, once a second: what it waits on (a remote call of its
    /// own, when one is in flight) and for how long it has run.
    Waiting {
        action: String,
        on: Option<String>,
        waited: std::time::Duration,
    },
    /// The train could not be started (the cluster unreachable): why, and when it is tried
    /// again (`ops::starting`).
    Unstarted {
        why: String,
        retry_at: chrono::DateTime<chrono::Utc>,
    },
}

/// A measurement tick as updates for the UI.
pub fn updates(report: TickReport) -> Vec<Update> {
    let mut batch = Vec::new();
    batch.extend(report.sample.map(Update::Sample));
    batch.extend(report.analysis.map(|a| Update::Analysis(Box::new(a))));
    batch.extend(report.outcomes.into_iter().map(Update::Outcome));
    batch
}

/// The train as it stands, for the UI.
pub fn train(op: &Operator) -> Update {
    Update::Train(Box::new(op.train.clone()), op.weight_read_back)
}

/// Run `action` to its end, telling the UI once a second what it waits on and for how long,
/// so an action that hangs on a server is never a silent "sent".
async fn reporting_waits<T>(
    action: super::ActionKind,
    run: impl std::future::Future<Output = T>,
    out: &mpsc::Sender<Update>,
) -> T {
    let every = std::time::Duration::from_secs(1);
    let started = tokio::time::Instant::now();
    let mut ticker = tokio::time::interval_at(started + every, every);
    tokio::pin!(run);
    loop {
        tokio::select! {
            done = &mut run => return done,
            _ = ticker.tick() => {
                let waiting = Update::Waiting {
                    action: action.to_string(),
                    on: crate::sources::deadline::longest_wait_here().map(|(what, _)| what),
                    waited: started.elapsed(),
                };
                // A full queue must not hold the action up: this word is redone in a second.
                let _ = out.try_send(waiting);
            }
        }
    }
}

/// Run until the request channel closes (or the console stops listening), then give the
/// lease up, so another console may drive at once, and see the webhook posts out.
pub async fn run(
    mut op: Operator,
    clock: Arc<dyn Clock>,
    tick: std::time::Duration,
    requests: mpsc::Receiver<Confirmed>,
    out: mpsc::Sender<Update>,
) {
    drive(&mut op, clock, tick, requests, out).await;
    op.release_shared().await;
    op.notifications_sent().await;
}

async fn drive(
    op: &mut Operator,
    clock: Arc<dyn Clock>,
    tick: std::time::Duration,
    mut requests: mpsc::Receiver<Confirmed>,
    out: mpsc::Sender<Update>,
) {
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Validations run apart, so a slow probe never delays a measurement.
    let (done_tx, mut done_rx) = mpsc::channel::<(Validation, Vec<ProbeResult>)>(4);
    if out.send(Update::Phases(op.phases())).await.is_err()
        || out.send(Update::Denied(op.denied.clone())).await.is_err()
    {
        return;
    }
    for sample in op.history(clock.now()).await {
        if out.send(Update::Sample(sample)).await.is_err() {
            return;
        }
    }
    // The lease keeps its own time (`[lease]`), apart from the measurements'.
    let mut lease_ticker = tokio::time::interval(op.lease_period().unwrap_or(tick));
    lease_ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let has_lease = op.lease_period().is_some();
    let mut last_driver = None;
    let mut last_off = None;
    let mut last_notes = Vec::new();
    let mut first = true;
    loop {
        let mut lease_only = false;
        let sent = tokio::select! {
            _ = lease_ticker.tick(), if has_lease && !first => {
                op.keep_lease(clock.now()).await;
                lease_only = true;
                Vec::new()
            }
            _ = ticker.tick() => {
                match op.tick(clock.now()).await {
                    Ok(report) => updates(report),
                    Err(e) => vec![Update::Fault(format!("audit journal: {e}"))],
                }
            }
            request = requests.recv() => {
                let Some(confirmed) = request else { return };
                let now = clock.now();
                let validation = matches!(
                    confirmed.command,
                    Command::Phase(PhaseCommand::Validate { .. })
                );
                let result = if validation {
                    op.begin_validation(&confirmed, now).map(|begun| match begun {
                        Ok(v) => {
                            let done = done_tx.clone();
                            tokio::spawn(async move {
                                let results = probes::run_all(&v.checks, &v.context).await;
                                let _ = done.send((v, results)).await;
                            });
                            None
                        }
                        Err(refused) => Some(refused),
                    })
                } else {
                    let action = confirmed.command.action();
                    reporting_waits(action, op.execute(confirmed, now), &out).await.map(Some)
                };
                match result {
                    Ok(Some(outcome)) => vec![Update::Outcome(outcome), Update::Phases(op.phases())],
                    Ok(None) => vec![Update::Phases(op.phases())],
                    Err(e) => vec![Update::Fault(format!("audit journal: {e}"))],
                }
            }
            Some((v, results)) = done_rx.recv() => {
                match op.finish_validation(v, results, clock.now()).await {
                    Ok(outcome) => vec![Update::Outcome(outcome), Update::Phases(op.phases())],
                    Err(e) => vec![Update::Fault(format!("audit journal: {e}"))],
                }
            }
        };
        let driver = op.driver();
        let driver_update = (first || driver != last_driver).then(|| {
            last_driver = driver.clone();
            Update::Driver(driver, op.drives())
        });
        let off = op.auto_rollback_off();
        let arming_update = (first || off != last_off).then(|| {
            last_off = off.clone();
            Update::AutoRollback(off)
        });
        let notes = op.notes();
        let notes_update = (notes != last_notes).then(|| {
            last_notes = notes.clone();
            Update::Notes(notes)
        });
        first = false;
        // A look at the lease changes no train: only who drives, if anyone, is news.
        let snapshot = (!lease_only).then(|| train(op));
        // The train first: an outcome on screen never precedes the state it produced.
        for update in snapshot
            .into_iter()
            .chain(sent)
            .chain(driver_update)
            .chain(arming_update)
            .chain(notes_update)
        {
            if out.send(update).await.is_err() {
                return;
            }
        }
    }
}
