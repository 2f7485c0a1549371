//! The operator as a task: ticks at the measurement interval, takes confirmed commands
//! over a channel, sends owned updates back. The UI never holds the operator.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::command::Confirmed;
use super::operator::{Operator, Outcome, TickReport};
use crate::clock::Clock;
use crate::engine::analysis::Analysis;
use crate::engine::signals::GoldenSample;
use crate::engine::train::Train;

#[derive(Debug)]
pub enum Update {
    Train(Box<Train>, Option<u8>),
    Sample(GoldenSample),
    Analysis(Box<Analysis>),
    Outcome(Outcome),
    /// The audit journal failed: nothing more can be done safely.
    Fault(String),
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

/// Run until the request channel closes.
pub async fn run(
    mut op: Operator,
    clock: Arc<dyn Clock>,
    tick: std::time::Duration,
    mut requests: mpsc::Receiver<Confirmed>,
    out: mpsc::Sender<Update>,
) {
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let sent = tokio::select! {
            _ = ticker.tick() => {
                match op.tick(clock.now()).await {
                    Ok(report) => updates(report),
                    Err(e) => vec![Update::Fault(format!("audit journal: {e}"))],
                }
            }
            request = requests.recv() => {
                let Some(confirmed) = request else { return };
                match op.execute(confirmed, clock.now()).await {
                    Ok(outcome) => vec![Update::Outcome(outcome)],
                    Err(e) => vec![Update::Fault(format!("audit journal: {e}"))],
                }
            }
        };
        // The train first: an outcome on screen never precedes the state it produced.
        for update in std::iter::once(train(&op)).chain(sent) {
            if out.send(update).await.is_err() {
                return;
            }
        }
    }
}
