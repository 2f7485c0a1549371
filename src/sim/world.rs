//! The simulated world and its four faces: cluster, forge, metrics, deployer.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;

use super::signals::{self, Conditions};
use super::{Scenario, activity, main_health, previews, published, pulls, settings};
use crate::clock::Clock;
use crate::engine::analysis::{Measurement, SliReading};
use crate::engine::main_health::{Freeze, MainHealth};
use crate::engine::previews::Preview;
use crate::engine::signals::{GoldenSample, GoldenSet, Signal, Track};
use crate::sources::activity::{Activity, Observation, PullComment};
use crate::sources::{
    Backends, Cluster, Deletion, Deployer, Feed, Finding, Forge, Governance, Inspection,
    LabelChange, Metrics, OpenPull, Queries, Reading, ReleaseRevision, SourceError, TagChange,
};

/// The demo canary's first step, as in the demo slo.yml.
const FIRST_STEP: u8 = 5;

/// How long after reaching 50 % the scenarios' breach starts (past the warm-up).
const BREACH_AFTER: i64 = 20;

struct State {
    weight: u8,
    /// When the canary reached 50 %, for the breach schedule.
    at_half: Option<DateTime<Utc>>,
    rolled_back: bool,
    previews: Vec<Preview>,
    deleted: BTreeSet<String>,
    frozen: Option<Freeze>,
    history: Vec<ReleaseRevision>,
    pulls: Vec<OpenPull>,
}

struct Inner {
    scenario: Scenario,
    seed: u64,
    origin: DateTime<Utc>,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    previews_tx: watch::Sender<Reading<Vec<Preview>>>,
    main_tx: watch::Sender<Reading<MainHealth>>,
    /// The route's canary weight, as a watch on it would see it.
    weight_tx: watch::Sender<Reading<u8>>,
    /// The golden signals of the demo's slo.yml, in its order.
    golden: GoldenSet,
}

/// The demo world. Cheap to clone: clones share one world.
#[derive(Clone)]
pub struct World(Arc<Inner>);

impl World {
    pub fn new(scenario: Scenario, seed: u64, clock: Arc<dyn Clock>) -> Self {
        let origin = clock.now();
        let previews = previews::generate(scenario, seed, origin);
        let history = initial_history(seed, origin);
        let pulls = pulls::open(scenario);
        let main = main_health::health(scenario, seed, origin, origin, None, &pulls);
        let (previews_tx, _) = watch::channel(Reading::fresh(previews.clone(), origin));
        let (main_tx, _) = watch::channel(Reading::fresh(main, origin));
        let (weight_tx, _) = watch::channel(Reading::fresh(FIRST_STEP, origin));
        World(Arc::new(Inner {
            scenario,
            seed,
            origin,
            clock,
            golden: GoldenSet::of(&super::demo_slo()),
            state: Mutex::new(State {
                // The canary went out at its first step before any console looked at it.
                weight: FIRST_STEP,
                at_half: None,
                rolled_back: false,
                previews,
                deleted: BTreeSet::new(),
                frozen: None,
                history,
                pulls,
            }),
            previews_tx,
            main_tx,
            weight_tx,
        }))
    }

    pub fn scenario(&self) -> Scenario {
        self.0.scenario
    }

    pub fn origin(&self) -> DateTime<Utc> {
        self.0.origin
    }

    /// The world seen through the four source traits.
    pub fn backends(&self) -> Backends {
        Backends {
            metrics: Arc::new(self.clone()),
            cluster: Arc::new(self.clone()),
            forge: Arc::new(self.clone()),
            deployer: Arc::new(self.clone()),
            host: Arc::new(self.clone()),
            published: Arc::new(self.clone()),
        }
    }

    /// Send `weight` percent to the canary, as captain or somebody with kubectl would.
    pub fn route(&self, weight: u8) -> u8 {
        let now = self.0.clock.now();
        let mut s = self.state();
        if weight >= 50 && s.weight < 50 {
            s.at_half = Some(now);
        }
        s.weight = weight;
        self.0.weight_tx.send_if_modified(|r| {
            let changed = r.value.as_deref() != Some(&weight);
            if changed {
                *r = Reading::fresh(weight, now);
            }
            changed
        });
        s.weight
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn conditions(&self, at: DateTime<Utc>) -> Conditions {
        let s = self.state();
        let breached = self.0.scenario.breaches()
            && !s.rolled_back
            && s.at_half
                .is_some_and(|h| at >= h + Duration::seconds(BREACH_AFTER));
        Conditions {
            seed: self.0.seed,
            weight: s.weight,
            breached,
            slow: self.0.scenario == Scenario::Drill,
        }
    }

    /// Publish what changed with time (main's checks); the world's own heartbeat, run by
    /// the console while it shows the demo.
    pub async fn run(self, period: std::time::Duration) {
        let mut ticker = tokio::time::interval(period);
        loop {
            ticker.tick().await;
            self.heartbeat();
        }
    }

    /// One beat: publish main's checks as of now, confirm the previews are current.
    pub fn heartbeat(&self) {
        let now = self.0.clock.now();
        // A live watch confirms its data is current; so does the world's heartbeat.
        self.0.previews_tx.send_modify(|r| r.updated = Some(now));
        let next = self.main_now(now);
        self.0.main_tx.send_modify(|r| {
            if r.value.as_deref() == Some(&next) {
                r.updated = Some(now);
            } else {
                *r = Reading::fresh(next, now);
            }
        });
    }

    fn publish_previews(&self, now: DateTime<Utc>) {
        let list = self.state().previews.clone();
        self.0.previews_tx.send_replace(Reading::fresh(list, now));
    }

    fn publish_main(&self, now: DateTime<Utc>) {
        let next = self.main_now(now);
        self.0.main_tx.send_replace(Reading::fresh(next, now));
    }

    fn main_now(&self, now: DateTime<Utc>) -> MainHealth {
        let (frozen, pulls) = {
            let s = self.state();
            (s.frozen.clone(), s.pulls.clone())
        };
        main_health::health(
            self.0.scenario,
            self.0.seed,
            self.0.origin,
            now,
            frozen,
            &pulls,
        )
    }

    /// What the activity probes read of the world now.
    fn seen<'a>(&self, s: &'a State) -> activity::Seen<'a> {
        activity::Seen {
            scenario: self.0.scenario,
            seed: self.0.seed,
            origin: self.0.origin,
            now: self.0.clock.now(),
            pulls: &s.pulls,
            previews: &s.previews,
        }
    }

    /// Change one PR's labels; `add` puts `label` on, else takes it off.
    fn relabel(&self, number: u32, label: &str, add: bool) -> Result<LabelChange, SourceError> {
        let change = {
            let mut s = self.state();
            let Some(pr) = s.pulls.iter_mut().find(|p| p.number == number) else {
                return Err(SourceError::Rejected(format!(
                    "no open pull request #{number}"
                )));
            };
            let has = pr.labels.iter().any(|l| l == label);
            match (add, has) {
                (true, true) => LabelChange::AlreadyThere,
                (true, false) => {
                    pr.labels.push(label.to_string());
                    LabelChange::Added
                }
                (false, true) => {
                    pr.labels.retain(|l| l != label);
                    LabelChange::Removed
                }
                (false, false) => LabelChange::AlreadyGone,
            }
        };
        self.publish_main(self.0.clock.now());
        Ok(change)
    }
}

fn initial_history(seed: u64, origin: DateTime<Utc>) -> Vec<ReleaseRevision> {
    let sha = |n: u64| {
        format!(
            "{:07x}",
            (seed.wrapping_add(n).wrapping_mul(0x2545_F491_4F6C_DD1D)) >> 36
        )
    };
    [(40, 6), (41, 3), (42, 0)]
        .into_iter()
        .map(|(rev, days)| ReleaseRevision {
            revision: rev,
            status: if rev == 42 { "deployed" } else { "superseded" }.into(),
            chart: "summit-4.2.0".into(),
            app_version: format!("sha-{}", sha(u64::from(rev))),
            description: if rev == 40 {
                "Install complete"
            } else {
                "Upgrade complete"
            }
            .into(),
            deployed: origin - Duration::days(days) - Duration::minutes(3),
        })
        .collect()
}

/// The demo's registry and Grafana (`published`), without leaving the process.
#[async_trait]
impl crate::sources::published::Published for World {
    fn repo(&self) -> String {
        published::REPO.into()
    }

    async fn image(
        &self,
        image: &crate::sources::oci::ImageRef,
    ) -> Result<Option<String>, SourceError> {
        Ok(published::digest(image, &self.head()))
    }

    async fn signed(
        &self,
        image: &crate::sources::oci::ImageRef,
        expected: &crate::sources::cosign::Expected,
    ) -> Result<Finding, SourceError> {
        Ok(published::signed(image, &self.head(), expected))
    }

    async fn dashboard(
        &self,
        uid: &str,
        panel: &str,
        within: crate::config::Span,
    ) -> Result<Finding, SourceError> {
        let weight = self.state().weight;
        Ok(published::dashboard(uid, panel, within, weight))
    }
}

impl World {
    /// Main's head commit, as the forge shows it.
    fn head(&self) -> String {
        let health = self.0.main_tx.borrow();
        health
            .value
            .as_ref()
            .map(|h| h.head.sha.clone())
            .unwrap_or_default()
    }
}

#[async_trait]
impl Metrics for World {
    async fn measure(&self, q: &Queries, now: DateTime<Utc>) -> Result<Measurement, SourceError> {
        let c = self.conditions(now);
        let readings = q
            .slis
            .iter()
            .map(|q| {
                let reading = match Signal::from_sli(&q.name) {
                    Some(sig) => SliReading::Values {
                        canary: signals::value(&c, sig, Track::Canary, now),
                        stable: signals::value(&c, sig, Track::Stable, now),
                    },
                    None => SliReading::Values {
                        canary: None,
                        stable: None,
                    },
                };
                (q.name.clone(), reading)
            })
            .collect();
        Ok(Measurement {
            at: now,
            canary_requests: Some(signals::requests(&c, Track::Canary, now, 30)),
            stable_requests: Some(signals::requests(&c, Track::Stable, now, 30)),
            readings,
        })
    }

    async fn golden(&self, now: DateTime<Utc>) -> Result<GoldenSample, SourceError> {
        Ok(signals::sample(&self.conditions(now), &self.0.golden, now))
    }

    /// The world keeps no history: every window reads the canary's error ratio now.
    async fn ratios(
        &self,
        queries: &[(crate::config::Span, String)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<f64>>, SourceError> {
        let c = self.conditions(now);
        let v = signals::value(&c, Signal::ErrorRate, Track::Canary, now);
        Ok(queries.iter().map(|_| v).collect())
    }

    async fn rule_groups(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<crate::sources::alerting::LoadedGroup>, SourceError> {
        super::alerting::rule_groups(&self.conditions(now), now)
    }

    /// The world serves its golden signals under the demo slo.yml's queries (either
    /// track, with the window resolved); any other query finds no series, as a
    /// Prometheus without that metric answers.
    async fn value(&self, query: &str, now: DateTime<Utc>) -> Result<Option<f64>, SourceError> {
        let slo = super::demo_slo();
        let c = self.conditions(now);
        for (name, sli) in &slo.slis {
            let Some(signal) = Signal::from_sli(name) else {
                continue;
            };
            let q = crate::sources::SliQuery::resolve(name, &sli.query, &slo);
            if q.canary == query {
                return Ok(signals::value(&c, signal, Track::Canary, now));
            }
            if q.stable == query {
                return Ok(signals::value(&c, signal, Track::Stable, now));
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl Cluster for World {
    fn previews(&self) -> Feed<Vec<Preview>> {
        self.0.previews_tx.subscribe()
    }

    async fn delete_namespace(&self, name: &str) -> Result<Deletion, SourceError> {
        let now = self.0.clock.now();
        let outcome = {
            let mut s = self.state();
            let before = s.previews.len();
            s.previews.retain(|p| p.namespace != name);
            if s.previews.len() < before {
                s.deleted.insert(name.to_string());
                Deletion::Deleted
            } else {
                Deletion::AlreadyGone
            }
        };
        if outcome == Deletion::Deleted {
            self.publish_previews(now);
        }
        Ok(outcome)
    }

    async fn canary_weight(&self) -> Result<u8, SourceError> {
        Ok(self.state().weight)
    }

    async fn set_canary_weight(&self, weight: u8) -> Result<u8, SourceError> {
        Ok(self.route(weight))
    }

    fn canary_weight_feed(&self) -> Feed<u8> {
        self.0.weight_tx.subscribe()
    }

    async fn preview_status(&self, url: &str) -> Result<u16, SourceError> {
        activity::preview_status(&self.state().previews, url)
            .ok_or_else(|| SourceError::Unreachable(format!("GET {url}: no such host in the demo")))
    }

    async fn inspect(&self, what: &Inspection) -> Result<Finding, SourceError> {
        let s = self.state();
        Ok(match what {
            Inspection::NamespaceExists { namespace } => {
                let preview = s.previews.iter().find(|p| &p.namespace == namespace);
                if settings::NAMESPACES.contains(&namespace.as_str()) || preview.is_some() {
                    Finding::pass(format!("namespace {namespace}: Active"))
                } else {
                    Finding::fail(format!("no namespace {namespace}"))
                }
            }
            Inspection::DeploymentReady { namespace, name } => {
                match settings::deployment(namespace, name) {
                    Some((want, have)) if want == have => Finding::pass(format!(
                        "{namespace}/{name}: {have}/{want} updated, {have}/{want} available"
                    )),
                    Some((want, have)) => {
                        Finding::fail(format!("{namespace}/{name}: {have}/{want} available"))
                    }
                    None => Finding::fail(format!("no deployment {namespace}/{name}")),
                }
            }
            Inspection::HelmReleaseStatus {
                release,
                namespace,
                status,
            } => {
                let history = match (release.as_str(), namespace.as_str()) {
                    ("summit", "prod") => s.history.clone(),
                    ("summit", "stage") => settings::stage_history(&s.history),
                    _ => Vec::new(),
                };
                match history.last() {
                    None => Finding::fail(format!("no release {namespace}/{release}")),
                    Some(r) => {
                        let seen = format!(
                            "revision {}: {}, chart {}, app {}",
                            r.revision, r.status, r.chart, r.app_version
                        );
                        if &r.status == status {
                            Finding::pass(seen)
                        } else {
                            Finding::fail(format!("{seen} (expected {status})"))
                        }
                    }
                }
            }
        })
    }
}

#[async_trait]
impl Forge for World {
    fn main_health(&self) -> Feed<MainHealth> {
        self.0.main_tx.subscribe()
    }

    async fn freeze(&self, version: &str) -> Result<TagChange, SourceError> {
        let now = self.0.clock.now();
        let sha = version.strip_prefix("sha-").unwrap_or(version);
        let change = {
            let mut s = self.state();
            if s.frozen.is_some() {
                TagChange::AlreadyThere
            } else {
                s.frozen = Some(Freeze {
                    sha: sha.to_string(),
                    since: now,
                });
                TagChange::Created
            }
        };
        self.publish_main(now);
        Ok(change)
    }

    async fn unfreeze(&self) -> Result<TagChange, SourceError> {
        let now = self.0.clock.now();
        let change = match self.state().frozen.take() {
            Some(_) => TagChange::Deleted,
            None => TagChange::AlreadyGone,
        };
        self.publish_main(now);
        Ok(change)
    }

    async fn open_pulls(&self) -> Result<Vec<OpenPull>, SourceError> {
        Ok(self.state().pulls.clone())
    }

    async fn add_label(&self, number: u32, label: &str) -> Result<LabelChange, SourceError> {
        self.relabel(number, label, true)
    }

    async fn remove_label(&self, number: u32, label: &str) -> Result<LabelChange, SourceError> {
        self.relabel(number, label, false)
    }

    async fn check(&self, what: &Governance) -> Result<Finding, SourceError> {
        Ok(settings::governance(what, self.0.scenario))
    }

    async fn observe(&self, what: &Activity) -> Result<Observation, SourceError> {
        let s = self.state();
        Ok(self.seen(&s).observe(what))
    }

    async fn pull_comment(
        &self,
        pull: Option<u32>,
        pattern: &regex::Regex,
    ) -> Result<Option<PullComment>, SourceError> {
        let s = self.state();
        Ok(self.seen(&s).pull_comment(pull, pattern))
    }
}

#[async_trait]
impl Deployer for World {
    async fn history(&self) -> Result<Vec<ReleaseRevision>, SourceError> {
        Ok(self.state().history.clone())
    }

    async fn rollback(&self, revision: u32, _reason: Option<&str>) -> Result<String, SourceError> {
        let now = self.0.clock.now();
        let mut s = self.state();
        let Some(target) = s.history.iter().find(|r| r.revision == revision).cloned() else {
            return Err(SourceError::Rejected(format!(
                "Error: release: not found (revision {revision})"
            )));
        };
        let next = s.history.last().map_or(1, |r| r.revision + 1);
        for r in &mut s.history {
            if r.status == "deployed" {
                r.status = "superseded".into();
            }
        }
        s.history.push(ReleaseRevision {
            revision: next,
            status: "deployed".into(),
            chart: target.chart,
            app_version: target.app_version,
            description: format!("Rollback to {revision}"),
            deployed: now,
        });
        s.rolled_back = true;
        Ok("Rollback was a success! Happy Helming!".into())
    }

    async fn rollback_release(
        &self,
        release: &str,
        namespace: &str,
        revision: Option<u32>,
        reason: Option<&str>,
    ) -> Result<String, SourceError> {
        if (release, namespace) == ("summit", "prod") {
            let previous = {
                let s = self.state();
                let current = s.history.last().map_or(0, |r| r.revision);
                s.history
                    .iter()
                    .rev()
                    .find(|r| r.revision < current)
                    .map_or(current, |r| r.revision)
            };
            return self.rollback(revision.unwrap_or(previous), reason).await;
        }
        if (release, namespace) != ("summit", "stage") {
            return Err(SourceError::Rejected(format!(
                "Error: release: not found ({namespace}/{release})"
            )));
        }
        Ok("Rollback was a success! Happy Helming!".into())
    }
}
