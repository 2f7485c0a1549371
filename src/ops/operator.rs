//! The one place that changes the world: it runs the train's measurements and applies the
//! engine's effects, and executes confirmed commands, auditing each before and after.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::audit::{self, Actor, AuditError, Entry, Journal, Phase};
use super::command::PhaseCommand;
use super::command::{Command, Confirmation, Confirmed};
use super::outcome::Outcome;
use super::progress::{self, Progress};
use crate::config::slo::SloConfig;
use crate::engine::analysis::{Analysis, Measurement, SliReading, analyse};
use crate::engine::burn::AlertState;
use crate::engine::signals::GoldenSample;
use crate::engine::train::{Effect, Policy, Revisions, Status, Train, TrainCommand};
use crate::sources::{Backends, Deletion, Queries, SourceError, TagChange};

/// What one measurement tick produced.
#[derive(Debug, Clone, Default)]
pub struct TickReport {
    pub analysis: Option<Analysis>,
    pub sample: Option<GoldenSample>,
    pub outcomes: Vec<Outcome>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("reading the release history: {0}")]
    History(SourceError),
    #[error("reading the canary's weight: {0}")]
    Weight(SourceError),
    #[error("release {0} has no deployed revision to run a canary of")]
    NoRevision(String),
    #[error("the shared train state: {0}")]
    Shared(SourceError),
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// Who runs the operator, on what.
#[derive(Clone)]
pub struct Setup {
    pub release: String,
    pub preview_prefix: String,
    pub actor: Actor,
    pub read_only: bool,
    /// Take the train as the cluster has it (a live console joining a canary under way)
    /// instead of starting one at the first step (the demo's fresh world).
    pub adopt: bool,
    /// What each action needs the cluster to allow (see `ops::access`).
    pub needs: Vec<(super::ActionKind, crate::sources::AccessCheck)>,
    /// The state every console of the release shares; without it, this console's train is
    /// its own.
    pub shared: Option<std::sync::Arc<dyn crate::sources::SharedState>>,
    /// How the driver's lease is timed; `None`: as derived from the measurement interval.
    pub lease: Option<super::coordination::LeaseTimings>,
}

mod drift;
mod phases;
mod shared;

pub use phases::Validation;

pub struct Operator {
    backends: Backends,
    /// The plan's progress; changed only through `execute` and validation runs.
    pub progress: Progress,
    slo: SloConfig,
    queries: Queries,
    evidence: BTreeMap<String, String>,
    pub train: Train,
    journal: Journal,
    actor: Actor,
    prefix: String,
    read_only: bool,
    /// The weight the cluster reported after the last change: what the panel shows.
    pub weight_read_back: Option<u8>,
    /// Burn-rate alerts as last evaluated, and when.
    burn: Vec<AlertState>,
    burn_at: Option<DateTime<Utc>>,
    /// Actions the cluster does not allow this user, with why.
    pub denied: BTreeMap<super::ActionKind, String>,
    /// The last look at the release for a stuck Helm operation: when, and what blocks.
    stuck: Option<(DateTime<Utc>, Option<String>)>,
    shared: Option<super::coordination::Coordination>,
    /// Why the last automatic promotion was held, so the log says it once.
    held: Option<String>,
    /// The revision Helm rolled back to, when the newest deployed revision is Helm's own
    /// rollback (its description says "Rollback to N"): not a new canary.
    rollback_of: Option<u32>,
    /// The release's revisions and their app versions, as read at start.
    versions: BTreeMap<u32, String>,
    /// How the train and the cluster's traffic last disagreed, if they did: at start, or
    /// when the route changed by hand during a run.
    pub drift: Option<String>,
    /// A newer revision found deployed while this train ran: the train is over, and is no
    /// longer measured or driven (`drive` moves on to it; `canary run` ends).
    pub overtaken: Option<u32>,
    /// The route's weight as watched, from the first measurement on.
    route: Option<crate::sources::Feed<u8>>,
    /// The watched reading last asked about, so a disagreement costs one read, not one a
    /// tick.
    drift_looked: Option<DateTime<Utc>>,
    /// Where breaches, rollbacks, pauses and resumes are posted (`[notify]`).
    notify: Option<super::notify::Notifier>,
}

impl Operator {
    /// Start a train for the release's current revision at the first step.
    pub async fn start(
        backends: Backends,
        slo: SloConfig,
        journal: Journal,
        setup: Setup,
        progress: Progress,
        now: DateTime<Utc>,
    ) -> Result<(Self, Vec<Outcome>), StartError> {
        let history = backends
            .deployer
            .history()
            .await
            .map_err(StartError::History)?;
        let deployed: Vec<_> = history.iter().filter(|r| r.status == "deployed").collect();
        let current = deployed
            .last()
            .copied()
            .ok_or_else(|| StartError::NoRevision(setup.release.clone()))?;
        let previous = history
            .iter()
            .rev()
            .find(|r| r.revision < current.revision)
            .map_or(current.revision, |r| r.revision);
        let revisions = Revisions {
            current: current.revision,
            previous,
            last_passing: None,
            image: current.app_version.clone(),
        };
        let queries = Queries::resolve(&slo);
        let evidence = queries.evidence();
        let policy = Policy::from_config(&slo);
        let rollback_of = current
            .description
            .strip_prefix("Rollback to ")
            .and_then(|n| n.trim().parse::<u32>().ok());
        let versions = history
            .iter()
            .map(|r| (r.revision, r.app_version.clone()))
            .collect();
        let (train, effects, cluster_weight) = if setup.adopt {
            let weight = backends
                .cluster
                .canary_weight()
                .await
                .map_err(StartError::Weight)?;
            let train = Train::adopt(&setup.release, policy, revisions, weight, now);
            (train, Vec::new(), Some(weight))
        } else {
            let (train, effects) = Train::start(&setup.release, policy, revisions, now);
            (train, effects, None)
        };
        let denied = if setup.read_only {
            BTreeMap::new()
        } else {
            super::access::review(backends.cluster.as_ref(), &setup.needs).await
        };
        let lease = setup
            .lease
            .unwrap_or_else(|| super::coordination::LeaseTimings::derived(slo.rollout.interval.0));
        let shared = setup.shared.map(|store| {
            super::coordination::Coordination::new(
                store,
                super::coordination::Coordination::identity(&setup.actor.os_user),
                lease,
            )
        });
        let mut op = Operator {
            notify: None,
            held: None,
            rollback_of,
            versions,
            drift: None,
            overtaken: None,
            route: None,
            drift_looked: None,
            denied,
            stuck: None,
            shared,
            backends,
            progress,
            slo,
            queries,
            evidence,
            train,
            journal,
            actor: setup.actor,
            prefix: setup.preview_prefix,
            read_only: setup.read_only,
            weight_read_back: None,
            burn: Vec::new(),
            burn_at: None,
        };
        let joined = op.join_shared().await?;
        if let Some(weight) = cluster_weight {
            op.reconcile_rollback(weight, current.revision, now).await?;
            op.check_drift(weight, now).await;
        }
        if op.read_only
            && let Some(c) = &mut op.shared
        {
            // Whether anyone drives, for the header and `canary status`.
            c.peek(now).await;
        }
        let mut outcomes = Vec::new();
        if !op.read_only && !joined && !effects.is_empty() {
            let from = "0 %".to_string();
            outcomes.push(
                op.act_automatically(super::ActionKind::Start, from, effects, None, now)
                    .await?,
            );
        }
        Ok((op, outcomes))
    }

    /// Burn rates move slowly over windows of minutes to days: once a minute is enough, and
    /// keeps the extra queries off every tick.
    async fn refresh_burn(&mut self, now: DateTime<Utc>) {
        let Some(cfg) = &self.slo.burn_rate else {
            return;
        };
        if self.queries.burn.is_empty()
            || self
                .burn_at
                .is_some_and(|at| now - at < chrono::Duration::seconds(60))
        {
            return;
        }
        match self.backends.metrics.ratios(&self.queries.burn, now).await {
            Ok(values) => {
                self.burn = self.queries.burn_alerts(cfg, values);
                self.burn_at = Some(now);
            }
            Err(e) => log::debug!("burn rates: {e}"),
        }
    }

    /// The last ten minutes of golden signals from the metrics store, for the charts to
    /// open with; at most a few hundred points.
    pub async fn history(&self, now: DateTime<Utc>) -> Vec<GoldenSample> {
        let span = chrono::Duration::minutes(10);
        let step = self
            .slo
            .rollout
            .interval
            .0
            .max(std::time::Duration::from_secs(2));
        match self.backends.metrics.history(now - span, now, step).await {
            Ok(samples) => samples,
            Err(e) => {
                log::warn!("chart history: {e}");
                Vec::new()
            }
        }
    }

    pub fn slo(&self) -> &SloConfig {
        &self.slo
    }

    pub fn journal_path(&self) -> &std::path::Path {
        self.journal.path()
    }

    /// One measurement: golden signals for the charts, the SLO verdict, and whatever the
    /// train decides on it (an automatic promotion or rollback), audited.
    pub async fn tick(&mut self, now: DateTime<Utc>) -> Result<TickReport, AuditError> {
        let mut report = TickReport {
            sample: self.backends.metrics.golden(now).await.ok(),
            ..TickReport::default()
        };
        self.follow_shared();
        if self.train.status.is_terminal() || self.overtaken.is_some() {
            return Ok(report);
        }
        let measurement = match self.backends.metrics.measure(&self.queries, now).await {
            Ok(m) => m,
            Err(e) => Measurement {
                at: now,
                canary_requests: None,
                stable_requests: None,
                readings: self
                    .queries
                    .slis
                    .iter()
                    .map(|q| (q.name.clone(), SliReading::Error(e.to_string())))
                    .collect(),
            },
        };
        let mut analysis = analyse(&self.slo, &measurement, &self.evidence);
        self.refresh_burn(now).await;
        analysis.burn = self.burn.clone();
        let alone = match self.drive_mode(now).await {
            // Looking only, or another console drives: the verdict is shown, the train is
            // not driven from here.
            shared::Drive::Follows => {
                self.train.last = Some(analysis.clone());
                report.analysis = Some(analysis);
                return Ok(report);
            }
            shared::Drive::Leads => None,
            shared::Drive::Alone(why) => Some(why),
        };
        // The train driven from here follows the route if it was changed by hand.
        self.watch_drift(now).await;
        let before = self.train.weight;
        let unobserved = self.train.clone();
        let mut effects = self.train.observe(analysis.clone(), now);
        if unobserved.failures == 0 && self.train.failures > 0 {
            self.notify_breach(&analysis, now);
        }
        let promotes =
            |e: &[Effect]| matches!(e.first(), Some(Effect::SetWeight(w)) if *w > before);
        if promotes(&effects) {
            let fresh = self
                .stuck
                .as_ref()
                .is_none_or(|(at, _)| now - *at >= chrono::Duration::seconds(60));
            let held = match &alone {
                Some(why) => Some(format!("nobody can be known to drive ({why})")),
                None if self.frozen() => Some(
                    "the tag frozen/rollback pauses the release train: resume to promote"
                        .to_string(),
                ),
                None => self.stuck_release(now, !fresh).await,
            };
            if let Some(why) = held {
                // Hold at this weight: the train tries again on a later tick, and a
                // breach meanwhile still rolls back.
                if self.held.as_ref() != Some(&why) {
                    log::warn!("not promoting {}: {why}", self.train.release);
                    self.held = Some(why);
                }
                self.train = unobserved.clone();
                self.train.last = Some(analysis.clone());
                effects = Vec::new();
            } else {
                self.held = None;
            }
        }
        // Why this console acts on a breach without the others agreeing, for the journal.
        let mut uncoordinated = alone.clone();
        if !self.train.same_course(&unobserved) {
            match self.commit_train().await {
                Ok(()) => {}
                Err(lost @ super::coordination::Lost::Race(_)) => {
                    let measured = std::mem::replace(&mut self.train, unobserved.clone());
                    self.take_theirs(super::coordination::TRAIN, &lost);
                    if effects.is_empty() || promotes(&effects) || self.train.status.is_terminal() {
                        // Someone acted on the train since this console last looked: their
                        // state stands, and the next measurement is judged against it.
                        log::warn!(
                            "the train changed on another console first; nothing done this tick"
                        );
                        effects = Vec::new();
                    } else {
                        // The breach this console measured is not acted on in what won:
                        // a rollback or pause goes ahead whatever the race.
                        log::warn!("{lost}; acting on the breach measured here anyway");
                        uncoordinated = Some(lost.to_string());
                        self.train = measured;
                        if let Err(e) = self.commit_train().await {
                            log::warn!("recording the train after the race: {e}");
                        }
                    }
                }
                Err(super::coordination::Lost::Store(e)) if promotes(&effects) => {
                    log::warn!("not promoting: {e}");
                    self.train = unobserved;
                    self.train.last = Some(analysis.clone());
                    effects = Vec::new();
                }
                // A rollback or a pause goes ahead: acting safely beats agreeing.
                Err(lost @ super::coordination::Lost::Store(_)) => {
                    log::warn!("{lost}");
                    if !effects.is_empty() {
                        uncoordinated = Some(lost.to_string());
                    }
                }
            }
        }
        report.analysis = Some(analysis);
        if !effects.is_empty() {
            let action = match effects.first() {
                Some(Effect::SetWeight(w)) if *w > before => super::ActionKind::Promote,
                Some(Effect::Freeze) => super::ActionKind::Pause,
                _ => super::ActionKind::Rollback,
            };
            let reason = self
                .train
                .timeline
                .last()
                .map(|t| t.event.clone())
                .map(|r| match &uncoordinated {
                    Some(why) => format!("{r} (acted on without the other consoles: {why})"),
                    None => r,
                });
            let outcome = self
                .act_automatically(action, format!("{before} %"), effects, reason, now)
                .await?;
            report.outcomes.push(outcome);
        }
        Ok(report)
    }

    async fn act_automatically(
        &mut self,
        action: super::ActionKind,
        from: String,
        effects: Vec<Effect>,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, AuditError> {
        let actor = Actor::automatic(&self.actor);
        let to = self.state_label();
        let entry = self.entry(
            Phase::Intent,
            action,
            &self.train.release.clone(),
            from,
            to,
            reason,
            Confirmation::Automatic,
            actor,
        );
        self.run_audited(entry, effects, now).await
    }

    /// A train recorded as rolled back is held to the cluster: the route must send the
    /// canary nothing and helm must have rolled the release back (its newest deployed
    /// revision is no longer the canary's). A console killed in the middle of a rollback
    /// (the train is written before the effects run) leaves one or both undone: the train
    /// is then unfinished and the driving console retries it, and the finding is journalled
    /// as the outcome of the interrupted rollback.
    async fn reconcile_rollback(
        &mut self,
        cluster_weight: u8,
        deployed: u32,
        now: DateTime<Utc>,
    ) -> Result<(), AuditError> {
        let Status::RolledBack { to_revision, .. } = self.train.status else {
            return Ok(());
        };
        let canary = self.train.revisions.current;
        let mut undone = Vec::new();
        if cluster_weight != 0 {
            undone.push(format!("the route sends {cluster_weight} % to the canary"));
        }
        if deployed == canary {
            undone.push(format!(
                "revision {canary} is still the release's deployed revision (helm did not roll back to {to_revision})"
            ));
        }
        if undone.is_empty() {
            return Ok(());
        }
        let found = format!("interrupted: found {}", undone.join(" and "));
        log::warn!(
            "the rollback of {} was {found}; it will be retried",
            self.train.release
        );
        self.train.settle_rollback(Err(found.clone()), now);
        if !self.read_only {
            if let Err(e) = self.commit_train().await {
                log::warn!("recording the unfinished rollback: {e}");
            }
            let mut entry = self.entry(
                Phase::Outcome,
                super::ActionKind::Rollback,
                &self.train.release.clone(),
                "rolled back".into(),
                "unfinished".into(),
                Some(found.clone()),
                Confirmation::Automatic,
                Actor::automatic(&self.actor),
            );
            entry.result = Some(format!("failed: {found}; retried at the next measurement"));
            self.journal.answer(entry)?;
        }
        Ok(())
    }

    /// Whether `revision` (deployed after `train`'s) is the revision Helm made when `train`
    /// rolled back: described "Rollback to N" (Helm 3), or, as Helm 4 records the reason
    /// instead, the app version of the revision the train rolled back to. Never a new canary.
    pub fn made_by_rollback(
        train: &Train,
        revision: u32,
        description: &str,
        app_version: &str,
        versions: &BTreeMap<u32, String>,
    ) -> bool {
        if description.starts_with("Rollback to ") {
            return true;
        }
        let to = match &train.status {
            Status::RolledBack { to_revision, .. } | Status::RollingBack { to_revision, .. } => {
                *to_revision
            }
            _ => return false,
        };
        revision > train.revisions.current && versions.get(&to).is_some_and(|v| v == app_version)
    }

    /// Start the canary of a revision found deployed with no traffic and no train, as Argo
    /// Rollouts starts a new revision: its first step, journalled as an automatic `start`.
    /// `Ok(Err(why))` when there is nothing to start (the train is under way or ended, the
    /// revision is Helm's own rollback, this console may not change traffic, or another
    /// console started it first: then its train is the one this console now holds).
    pub async fn start_new(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Result<Outcome, String>, AuditError> {
        let revision = self.train.revisions.current;
        if self.train.status != Status::NotStarted {
            return Ok(Err(format!(
                "revision {revision}'s train is {}: nothing to start",
                self.train.status.label()
            )));
        }
        if let Some(to) = self.rollback_of {
            return Ok(Err(format!(
                "revision {revision} is Helm's rollback to revision {to}, not a new canary: nothing to start"
            )));
        }
        if self.read_only {
            return Ok(Err("read-only: nothing is started".into()));
        }
        if let Some(why) = self.denied.get(&super::ActionKind::Start) {
            return Ok(Err(format!("starting the canary is unavailable: {why}")));
        }
        if self.frozen() {
            return Ok(Err(
                "the tag frozen/rollback pauses the release train: resume to start".into(),
            ));
        }
        let unstarted = self.train.clone();
        let effects = self.train.begin(now, "a new revision");
        if let Err(lost) = self.commit_train().await {
            self.train = unstarted;
            self.take_theirs(super::coordination::TRAIN, &lost);
            return Ok(Err(lost.to_string()));
        }
        let reason = format!(
            "revision {revision} is deployed with no canary traffic and no train: a new canary"
        );
        let outcome = self
            .act_automatically(
                super::ActionKind::Start,
                "0 %".into(),
                effects,
                Some(reason),
                now,
            )
            .await?;
        if !outcome.ok {
            // Not started after all: the train says what the cluster does.
            self.train = unstarted;
            if let Err(e) = self.commit_train().await {
                log::warn!("recording the train after a failed start: {e}");
            }
        }
        Ok(Ok(outcome))
    }

    /// Why the release cannot be promoted now, if it cannot: a release stuck `pending-*`
    /// is mid-operation (Helm refuses the next upgrade until someone resolves it), and
    /// promoting it would send more traffic to something nobody can vouch for. A history
    /// that cannot be read blocks as well. `memo`: take the last look
    /// (an automatic promotion checks at most once a minute).
    async fn stuck_release(&mut self, now: DateTime<Utc>, memo: bool) -> Option<String> {
        if memo && let Some((_, why)) = &self.stuck {
            return why.clone();
        }
        let why = match self.backends.deployer.history().await {
            Ok(h) => h.last().filter(|r| r.status.starts_with("pending-")).map(|r| {
                format!(
                    "release {} is stuck {} at revision {}: finish or roll back that operation first",
                    self.train.release, r.status, r.revision
                )
            }),
            Err(e) => Some(format!(
                "the release history cannot be read to rule out a stuck Helm operation: {e}"
            )),
        };
        self.stuck = Some((now, why.clone()));
        why
    }

    /// Whether the tag `frozen/rollback` exists, as the forge last saw it: it holds every
    /// promotion, whatever the train's own state (a breach still rolls back).
    fn frozen(&self) -> bool {
        self.backends
            .forge
            .main_health()
            .borrow()
            .value
            .as_ref()
            .is_some_and(|m| m.frozen.is_some())
    }

    fn state_label(&self) -> String {
        format!("{} at {} %", self.train.status.label(), self.train.weight)
    }

    #[allow(clippy::too_many_arguments)]
    fn entry(
        &self,
        phase: Phase,
        action: super::ActionKind,
        target: &str,
        from: String,
        to: String,
        reason: Option<String>,
        confirmation: Confirmation,
        actor: Actor,
    ) -> Entry {
        Entry {
            phase,
            trace_id: audit::trace_id(),
            actor,
            action: action.name().into(),
            target: target.into(),
            from,
            to,
            reason,
            confirmation: confirmation.label().into(),
            slo: self.train.last.as_ref().map(|a| {
                serde_json::json!({
                    "at": a.at,
                    "verdict": a.verdict,
                    "score": a.score,
                    "reason": a.reason,
                })
            }),
            result: None,
        }
    }

    /// The intent a human's confirmed command is journalled with, before it runs.
    pub(super) fn intent(&self, c: &Confirmed, proposal: &super::command::Proposal) -> Entry {
        self.entry(
            Phase::Intent,
            proposal.action,
            &proposal.target,
            proposal.from.clone(),
            proposal.to.clone(),
            c.reason.clone(),
            c.confirmation,
            self.actor.clone(),
        )
    }

    /// Intent, effects, outcome.
    async fn run_audited(
        &mut self,
        intent: Entry,
        effects: Vec<Effect>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, AuditError> {
        let begun = self.journal.begin(intent)?;
        let reason = begun.intent().reason.clone();
        let by = begun.intent().actor.clone();
        // A rollback retried at every measurement is posted when it fails first and when it
        // is done, not at every try.
        let retrying = matches!(self.train.status, Status::RollingBack { .. });
        let result = self.apply(&effects, begun.intent().reason.as_deref()).await;
        if effects
            .iter()
            .any(|e| matches!(e, Effect::HelmRollback { .. }))
        {
            self.settle_rollback(result.as_ref().map(drop).map_err(Clone::clone), now)
                .await;
        }
        let outcome = self.journal.settle(begun, result)?;
        if !retrying || outcome.ok {
            self.notify_outcome(&outcome, reason.as_deref(), &by);
        }
        Ok(outcome)
    }

    /// Post breaches, rollbacks, pauses and resumes to `notifier` from now on.
    pub fn notify_to(&mut self, notifier: super::notify::Notifier) {
        self.notify = Some(notifier);
    }

    /// Wait for the posts still on their way (each within the timeout budget): before the
    /// process ends.
    pub async fn notifications_sent(&self) {
        if let Some(n) = &self.notify {
            n.settle().await;
        }
    }

    fn notify_breach(&self, analysis: &Analysis, now: DateTime<Utc>) {
        let Some(n) = &self.notify else { return };
        let t = &self.train;
        let what = match t.policy.on_fail {
            crate::config::slo::OnFail::Rollback => "automatic rollback",
            crate::config::slo::OnFail::Pause => "automatic pause",
        };
        let within = t.failure_action_within(now).map_or(String::new(), |d| {
            format!(
                " in ≤ {}",
                crate::config::duration::format_span(d.to_std().unwrap_or_default())
            )
        });
        n.post(
            super::notify::Event::Breach,
            format!(
                "{} revision {} at {} %: SLO breach, {}/{} failed measurements: {}. {what}{within} unless the next measurements pass",
                t.release,
                t.revisions.current,
                t.weight,
                t.failures,
                t.policy.failure_limit,
                analysis.reason
            ),
        );
    }

    fn notify_outcome(&self, o: &Outcome, reason: Option<&str>, by: &Actor) {
        let Some(n) = &self.notify else { return };
        let Some(event) = super::notify::Event::of_action(&o.action) else {
            return;
        };
        let who = if by.automatic {
            "automatic".to_string()
        } else {
            format!("by {}", by.os_user)
        };
        let done = if o.ok { "done" } else { "FAILED" };
        let why = reason.map_or(String::new(), |r| format!(" · why: {r}"));
        n.post(
            event,
            format!(
                "{} revision {}: {} {done} ({who}): {}{why}",
                o.target, self.train.revisions.current, o.action, o.message
            ),
        );
    }

    /// A rollback stands as done only once the weight read back is 0 and helm returned;
    /// otherwise it is unfinished, shown so, and tried again at the next measurement.
    async fn settle_rollback(&mut self, result: Result<(), String>, now: DateTime<Utc>) {
        if self.train.settle_rollback(result, now)
            && let Err(e) = self.commit_train().await
        {
            log::warn!("recording the rollback's state: {e}");
        }
    }

    /// Perform the engine's effects in order; stop at the first that fails.
    async fn apply(&mut self, effects: &[Effect], reason: Option<&str>) -> Result<String, String> {
        let mut said = Vec::new();
        for effect in effects {
            match effect {
                Effect::SetWeight(w) => {
                    let back = self
                        .backends
                        .cluster
                        .set_canary_weight(*w)
                        .await
                        .map_err(|e| format!("setting the canary weight to {w} %: {e}"))?;
                    self.weight_read_back = Some(back);
                    if back != *w {
                        return Err(format!(
                            "the canary weight was set to {w} % but the cluster reads back {back} %"
                        ));
                    }
                    said.push(format!("canary weight {back} %"));
                }
                Effect::HelmRollback { to_revision } => {
                    let out = self
                        .backends
                        .deployer
                        .rollback(*to_revision, reason)
                        .await
                        .map_err(|e| format!("helm rollback to {to_revision}: {e}"))?;
                    log::info!("helm: {out}");
                    said.push(format!("helm rolled back to revision {to_revision}"));
                }
                Effect::Freeze => {
                    let version = self.train.revisions.image.clone();
                    let change = self
                        .backends
                        .forge
                        .freeze(&version)
                        .await
                        .map_err(|e| format!("creating frozen/rollback: {e}"))?;
                    said.push(match change {
                        TagChange::AlreadyThere => {
                            "already frozen: frozen/rollback was there".into()
                        }
                        _ => "tag frozen/rollback created".into(),
                    });
                }
                Effect::Unfreeze => {
                    let change = self
                        .backends
                        .forge
                        .unfreeze()
                        .await
                        .map_err(|e| format!("deleting frozen/rollback: {e}"))?;
                    said.push(match change {
                        TagChange::AlreadyGone => "frozen/rollback was already gone".into(),
                        _ => "tag frozen/rollback deleted".into(),
                    });
                }
            }
        }
        Ok(said.join("; "))
    }

    /// Execute a command a human confirmed.
    pub async fn execute(
        &mut self,
        c: Confirmed,
        now: DateTime<Utc>,
    ) -> Result<Outcome, AuditError> {
        self.follow_shared();
        let proposal = match &c.command {
            Command::Phase(pc) => {
                progress::propose(pc, self.progress.plan(), self.progress.states())
            }
            other => other.propose(Some(&self.train)),
        };
        let action = c.command.action();
        if let Some(why) = self.refusal(&c, &proposal) {
            return Ok(Outcome::refused(action, &proposal.target, why));
        }
        let intent = self.intent(&c, &proposal);
        match &c.command {
            Command::Train(cmd) => self.train_command(cmd, intent, now).await,
            Command::Phase(PhaseCommand::Validate { .. }) => Ok(Outcome::refused(
                action,
                &proposal.target,
                "a validation runs its probes first: see Operator::begin_validation".into(),
            )),
            Command::Phase(pc) => self.phase_command(pc, intent, now).await,
            Command::DeletePreview { namespace } => self.delete_preview(namespace, intent).await,
            Command::Sentinel { relabel, .. } => {
                super::sentinel::execute(
                    self.backends.forge.as_ref(),
                    &mut self.journal,
                    &self.actor,
                    relabel,
                    &c,
                )
                .await
            }
            Command::CleanStale { namespaces } => self.clean_stale(namespaces, intent).await,
        }
    }

    /// Why this console may take no `action` at all: it is read-only, or the cluster does not
    /// allow it.
    pub(super) fn not_allowed(&self, action: super::ActionKind) -> Option<String> {
        if self.read_only {
            return Some("read-only: no action is allowed".into());
        }
        self.denied
            .get(&action)
            .map(|why| format!("{action} is unavailable: {why}"))
    }

    /// Why a command may not go ahead, whatever it is: not allowed, a train moved since the
    /// human looked, a missing reason.
    fn refusal(&self, c: &Confirmed, proposal: &super::command::Proposal) -> Option<String> {
        let action = c.command.action();
        if self.read_only {
            return self.not_allowed(action);
        }
        if let Some(why) = moved_since_seen(c, proposal) {
            return Some(why);
        }
        if let Some(why) = self.not_allowed(action) {
            return Some(why);
        }
        if proposal.reason_required && c.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Some(format!("{action} needs a reason"));
        }
        None
    }

    /// A promote, pause, resume, rollback or abort: recorded in the shared train before
    /// anything is changed, then applied and audited.
    async fn train_command(
        &mut self,
        cmd: &TrainCommand,
        intent: Entry,
        now: DateTime<Utc>,
    ) -> Result<Outcome, AuditError> {
        let action = Command::Train(cmd.clone()).action();
        let target = intent.target.clone();
        let promote = matches!(cmd, TrainCommand::Promote | TrainCommand::PromoteFull);
        if promote && self.frozen() {
            return Ok(Outcome::refused(
                action,
                &target,
                "the tag frozen/rollback pauses the release train: resume first".into(),
            ));
        }
        if promote && let Some(why) = self.stuck_release(now, false).await {
            return Ok(Outcome::refused(action, &target, why));
        }
        let mut next = self.train.clone();
        let effects = match next.command(cmd, now) {
            Ok(e) => e,
            Err(refused) => return Ok(Outcome::refused(action, &target, refused.0)),
        };
        let moves = next != self.train;
        let before = std::mem::replace(&mut self.train, next);
        // Recorded where every console sees it before anything is changed: a command
        // computed from a train someone else moved meanwhile loses, and says so. (A
        // command that leaves the train as it is, such as a pause of an ended train,
        // which only sets the tag, writes nothing.)
        if moves && let Err(lost) = self.commit_train().await {
            match lost {
                super::coordination::Lost::Race(_) => {
                    self.take_theirs(super::coordination::TRAIN, &lost)
                }
                super::coordination::Lost::Store(_) => self.train = before,
            }
            return Ok(Outcome::refused(action, &target, lost.to_string()));
        }
        let outcome = self.run_audited(intent, effects, now).await?;
        let reverts = matches!(
            cmd,
            TrainCommand::Promote | TrainCommand::PromoteFull | TrainCommand::Abort
        );
        if !outcome.ok && reverts && moves {
            // The cluster did not take the new weight: the train says what the
            // cluster does, not what was asked of it.
            self.train = before;
            if let Err(e) = self.commit_train().await {
                log::warn!("recording the train after a failed {action}: {e}");
            }
        }
        Ok(outcome)
    }

    /// A phase started, confirmed or rolled back: a rollback's typed actions run first, and
    /// the phase is marked rolled back only when every one of them succeeded.
    async fn phase_command(
        &mut self,
        pc: &PhaseCommand,
        intent: Entry,
        now: DateTime<Utc>,
    ) -> Result<Outcome, AuditError> {
        if let Err(why) = self.progress.check(pc, now) {
            let action = Command::Phase(pc.clone()).action();
            return Ok(Outcome::refused(action, &intent.target, why));
        }
        let reason = intent.reason.clone();
        let begun = self.journal.begin(intent)?;
        let done = match pc {
            PhaseCommand::RollBack { phase } => {
                self.roll_back_phase(*phase, reason.as_deref(), now).await
            }
            _ => Ok(Vec::new()),
        };
        let by = self.actor.os_user.clone();
        let mut result = done.and_then(|said| {
            self.progress.apply(pc, &by, now).map(|marked| {
                said.into_iter()
                    .chain(std::iter::once(marked))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        });
        if result.is_ok()
            && let Err(lost) = self.commit_plan().await
        {
            self.take_theirs(super::coordination::PLAN, &lost);
            result = Err(lost.to_string());
        }
        self.journal.settle(begun, result)
    }

    /// One preview deleted, when it is provably one (`docs/runbook.md`, section 5).
    async fn delete_preview(
        &mut self,
        namespace: &str,
        intent: Entry,
    ) -> Result<Outcome, AuditError> {
        if let Err(why) = self.preview_rule().check(namespace) {
            return Ok(Outcome::refused(
                super::ActionKind::DeletePreview,
                namespace,
                why,
            ));
        }
        let begun = self.journal.begin(intent)?;
        let result = match self.delete(namespace).await {
            Ok(Ok(said)) => Ok(said),
            Ok(Err(kept)) | Err(kept) => Err(kept),
        };
        self.journal.settle(begun, result)
    }

    /// Every stale preview deleted, one by one; one that is not provably a preview, or
    /// holds what must not go, is kept and said so.
    async fn clean_stale(
        &mut self,
        namespaces: &[String],
        intent: Entry,
    ) -> Result<Outcome, AuditError> {
        let begun = self.journal.begin(intent)?;
        let mut lines = Vec::new();
        let mut failed = false;
        for ns in namespaces {
            if let Err(why) = self.preview_rule().check(ns) {
                lines.push(format!("{ns}: kept: {why}"));
                continue;
            }
            // A namespace kept for what it holds is the rule working, not a failure.
            match self.delete(ns).await {
                Ok(Ok(m) | Err(m)) => lines.push(m),
                Err(m) => {
                    failed = true;
                    lines.push(m);
                }
            }
        }
        let joined = lines.join("; ");
        self.journal
            .settle(begun, if failed { Err(joined) } else { Ok(joined) })
    }

    /// The name rule every deletion is held to here; the cluster checks it again, with what
    /// the namespace holds, just before it deletes.
    fn preview_rule(&self) -> crate::engine::previews::Protected {
        crate::engine::previews::Protected::new(&self.prefix, &[])
    }

    /// `Ok(Ok)` deleted or gone, `Ok(Err)` kept by the cluster's check and why, `Err` failed.
    async fn delete(&self, namespace: &str) -> Result<Result<String, String>, String> {
        match self.backends.cluster.delete_namespace(namespace).await {
            Ok(Deletion::Deleted) => Ok(Ok(format!("{namespace}: deleted"))),
            Ok(Deletion::AlreadyGone) => Ok(Ok(format!("{namespace}: already gone"))),
            Ok(Deletion::Kept(why)) => Ok(Err(format!("{namespace}: kept: {why}"))),
            Err(e) => Err(format!("{namespace}: {e}")),
        }
    }
}

/// Why `c` is refused when what it starts from is no longer what the human confirmed.
fn moved_since_seen(c: &Confirmed, now: &super::Proposal) -> Option<String> {
    let seen = c.seen.as_deref()?;
    (seen != now.from).then(|| {
        format!(
            "lost a race: {} is at {} now, not at {seen} as confirmed; nothing was done, look \
             again",
            now.target, now.from
        )
    })
}
