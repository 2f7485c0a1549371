//! From the command line to a running world: config, clock, backends, SLOs, plan, journal.
//! Shared by the TUI and the subcommands, so both run the same engine on the same inputs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DurationRound, TimeDelta, Utc};
use color_eyre::eyre::{Result, WrapErr, bail, eyre};

use crate::cli::Cli;
use crate::clock::{Clock, ScaledClock};
use crate::config::app::AppConfig;
use crate::config::plan::Plan;
use crate::config::slo::SloConfig;
use crate::engine::phases::PhaseState;
use crate::ops::audit::{Actor, Head, Journal};
use crate::ops::coordination::LeaseTimings;
use crate::ops::progress::Progress;
use crate::ops::{Operator, Outcome, Setup};
use crate::sim::{Scenario, World};
use crate::sources::Backends;
use crate::sources::deadline::Budget;
use crate::{paths, sim};

/// The configuration as found, before any backend is touched.
pub struct Settings {
    pub config: AppConfig,
    pub config_path: Option<PathBuf>,
    pub demo: Option<Scenario>,
    pub read_only: bool,
    /// Where this release keeps its journal and plan progress, when not in the state
    /// directory itself: `drive` with several releases gives each a directory of its own.
    pub state_dir: Option<PathBuf>,
}

impl Settings {
    /// The kube context to use: `--context`, else `[kube] context` (`None`: the
    /// kubeconfig's current one, or the pod's service account).
    pub fn kube_context(&self, cli: &Cli) -> Option<String> {
        cli.context
            .clone()
            .or_else(|| self.config.kube.context.clone())
    }

    pub fn load(cli: &Cli) -> Result<Self> {
        Self::load_from(cli, cli.config.as_deref())
    }

    /// As [`Settings::load`], from the captain.toml at `config` (else as `--config` is
    /// looked for).
    pub fn load_from(cli: &Cli, config: Option<&Path>) -> Result<Self> {
        let demo = cli
            .demo
            .as_deref()
            .map(|s| s.parse::<Scenario>().map_err(|e| eyre!(e)))
            .transpose()?;
        let config_path = paths::find_config(config);
        let mut config = match &config_path {
            Some(p) => AppConfig::load(p)?,
            None => AppConfig::default(),
        };
        if let Some(timeout) = cli.timeout {
            config.timeouts.budget = timeout;
        }
        let read_only = cli.read_only || config.ui.read_only;
        if let Some(otel) = &config.otel {
            let dir = config_path
                .as_deref()
                .and_then(Path::parent)
                .unwrap_or(Path::new(""));
            crate::ops::telemetry::install(otel, dir, &config.release.name)?;
        }
        Ok(Settings {
            config,
            config_path,
            demo,
            read_only,
            state_dir: None,
        })
    }

    pub fn plan(&self) -> Result<Plan> {
        match self.config.plan.file.as_str() {
            "builtin" => Ok(Plan::builtin()),
            file => Ok(Plan::load(&self.relative(file))?),
        }
    }

    /// A path from the config file, relative to the config file.
    fn relative(&self, file: &str) -> PathBuf {
        let p = PathBuf::from(file);
        match (&self.config_path, p.is_absolute()) {
            (Some(cfg), false) => cfg.parent().map_or(p.clone(), |d| d.join(&p)),
            _ => p,
        }
    }

    /// The SLO file named in the config (relative to the config file).
    pub fn slo(&self) -> Result<SloConfig> {
        Ok(SloConfig::load(&self.slo_path())?)
    }

    /// Where the SLO file is: what `slo rules` and `slo dashboard` write beside.
    pub fn slo_path(&self) -> PathBuf {
        self.relative(&self.config.slo.file.to_string_lossy())
    }

    pub fn audit_path(&self) -> PathBuf {
        match &self.state_dir {
            Some(dir) => dir.join("audit.jsonl"),
            None => paths::audit_file(self.demo.is_some()),
        }
    }

    /// Where a live plan's progress is kept.
    pub fn plan_state_path(&self) -> PathBuf {
        match &self.state_dir {
            Some(dir) => dir.join("plan-state.json"),
            None => paths::plan_state_file(),
        }
    }
}

/// A world to run against, with everything the engine needs.
pub struct Session {
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
    pub world: Option<World>,
    pub backends: Backends,
    pub slo: SloConfig,
    pub plan: Plan,
    pub phases: Vec<PhaseState>,
    pub label: String,
    /// Real time between two measurements.
    pub tick: std::time::Duration,
    /// The train and the plan's progress as every console of the release shares them.
    pub shared: Arc<dyn crate::sources::SharedState>,
}

impl Session {
    pub async fn open(cli: &Cli) -> Result<Self> {
        Self::open_with(cli, Settings::load(cli)?).await
    }

    /// As [`Session::open`], with the settings already loaded (another release's).
    pub async fn open_with(cli: &Cli, settings: Settings) -> Result<Self> {
        let Some(scenario) = settings.demo else {
            return Self::live(cli, settings).await;
        };
        if !(cli.speed > 0.0 && cli.speed.is_finite()) {
            bail!("--speed must be a positive number, got {}", cli.speed);
        }
        let origin = Utc::now()
            .duration_trunc(TimeDelta::seconds(1))
            .unwrap_or_else(|_| Utc::now());
        let clock: Arc<dyn Clock> = Arc::new(ScaledClock::new(origin, cli.speed));
        let world = World::new(scenario, cli.seed, clock.clone());
        let slo = sim::demo_slo();
        let plan = settings.plan()?;
        let phases = sim::phase_states(&plan, origin);
        let tick = slo.rollout.interval.0.div_f64(cli.speed);
        Ok(Session {
            shared: Arc::new(crate::sources::memory_state::MemoryState::new(
                clock.clone(),
            )),
            backends: world.backends(),
            label: format!("demo: {scenario}"),
            world: Some(world),
            clock,
            slo,
            plan,
            phases,
            settings,
            tick,
        })
    }

    /// The real backends: the cluster and Helm through the kube context, GitHub, Prometheus.
    async fn live(cli: &Cli, settings: Settings) -> Result<Self> {
        let cfg = &settings.config;
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
        let slo = settings.slo()?;
        let plan = settings.plan()?;
        let phases = crate::ops::progress::pending(&plan);
        let context = settings.kube_context(cli);
        let budget = budget(cli, cfg)?;
        let target = crate::sources::kube::connect_within(context.as_deref(), None, budget)
            .await
            .map_err(|e| eyre!("Kubernetes: {e}"))?;
        let metrics = live_metrics(&settings, &slo)?;
        // The console works without GitHub: its panel says why, the rest goes on.
        let forge = match live_forge(&settings).await {
            Ok(f) => f,
            Err(e) => Arc::new(crate::sources::unavailable::UnavailableForge::new(format!(
                "{e:#}"
            ))),
        };
        let cluster = crate::sources::kube::KubeCluster::spawn(
            &target,
            &cfg.previews,
            &cfg.release,
            &cfg.traffic,
            clock.clone(),
        );
        let cluster = crate::sources::previews_joined::JoinedCluster::spawn(
            Arc::new(cluster),
            forge.pulls(),
            cfg.previews.prefix.clone(),
            crate::engine::preview_links::UrlRule::new(
                cfg.previews.url_pattern.as_deref(),
                cfg.previews.url_template.as_deref(),
            )
            .map_err(|e| eyre!("[previews] {e}"))?,
        );
        let deployer = crate::sources::kube::HelmReleases::new(
            &target,
            &cfg.release,
            crate::sources::kube::HelmCli::default(),
            clock.clone(),
        );
        let label = format!(
            "{} · {}",
            target.context.as_deref().unwrap_or("in-cluster"),
            cfg.release.namespace
        );
        let name = crate::sources::kube::shared::object_name(&cfg.release.name);
        let shared = crate::sources::kube::KubeShared::spawn(
            target.client.clone(),
            &cfg.release.namespace,
            &name,
            &name,
            clock.clone(),
        );
        Ok(Session {
            shared: Arc::new(shared),
            backends: Backends {
                metrics,
                cluster: Arc::new(cluster),
                forge,
                deployer: Arc::new(deployer),
                host: Arc::new(crate::sources::host::LocalHost),
                published: live_published(&settings),
            },
            label,
            world: None,
            clock,
            tick: slo.rollout.interval.0,
            slo,
            plan,
            phases,
            settings,
        })
    }

    /// Open the journal and start the operator on the release's current revision.
    pub async fn operator(&self) -> Result<(Operator, Vec<Outcome>)> {
        self.operator_with(self.settings.read_only).await
    }

    /// An operator that only looks: it writes nothing, not even the train's start.
    pub async fn observer(&self) -> Result<Operator> {
        Ok(self.operator_with(true).await?.0)
    }

    /// The journal at `path` against its head's copy in the cluster, when the cluster
    /// answers: a copy it cannot read leaves the head file to vouch for the journal alone,
    /// as before the copy was kept.
    async fn check_cluster_head(&self, path: &Path, ours: &Head) -> Result<()> {
        use crate::ops::audit::{self, shared_head};
        let key = shared_head::key(path);
        let location = shared_head::location(&key);
        let doc = match self.shared.read(&key).await {
            Ok(Some(doc)) => doc,
            Ok(None) => return Ok(()),
            Err(e) => {
                log::warn!(
                    "audit: {location} could not be read ({e}); the journal is checked against its head file alone"
                );
                return Ok(());
            }
        };
        let theirs = shared_head::HeadDoc::parse(&doc).map_err(|why| eyre!("{location} {why}"))?;
        // The usual case: the copy names the journal's last record, which opening the
        // journal has just verified. Only a copy that differs needs the records again.
        if theirs.head() == *ours {
            return Ok(());
        }
        let records = audit::verify(path)?;
        audit::check_head_at(path, &records, &theirs.head(), &location)?;
        Ok(())
    }

    async fn operator_with(&self, read_only: bool) -> Result<(Operator, Vec<Outcome>)> {
        let path = self.settings.audit_path();
        let cannot_use = || {
            format!(
                "the audit journal {} cannot be used; `captain audit verify` says why",
                path.display()
            )
        };
        let mut journal = Journal::open(&path).wrap_err_with(cannot_use)?;
        journal.trace_to(
            crate::ops::telemetry::current()
                .map(|t| t.for_release(&self.settings.config.release.name)),
        );
        // A live release keeps the journal's head in its shared ConfigMap too, and a
        // journal the cluster's copy says is cut short is not written to (docs/architecture.md,
        // "The audit journal"). A watching console writes nothing, the copy included.
        if self.world.is_none() && !read_only {
            self.check_cluster_head(&path, &journal.head())
                .await
                .wrap_err_with(cannot_use)?;
            let actor = Actor::local();
            journal
                .mirror_head(Box::new(crate::ops::audit::shared_head::SharedHead::spawn(
                    self.shared.clone(),
                    &path,
                    journal.head(),
                    crate::ops::coordination::Coordination::identity(&actor.os_user),
                )))
                .wrap_err_with(cannot_use)?;
        }
        let lease = LeaseTimings::resolve(&self.settings.config.lease, self.slo.rollout.interval.0)
            .map_err(|e| {
                let file = self
                    .settings
                    .config_path
                    .as_deref()
                    .unwrap_or(Path::new("captain.toml"));
                eyre!("{}: {e}", file.display())
            })?;
        let setup = Setup {
            release: self.settings.config.release.name.clone(),
            lease: Some(lease),
            preview_prefix: self.settings.config.previews.prefix.clone(),
            actor: Actor::local(),
            read_only,
            // A live console joins the train where the cluster has it; the demo starts one.
            adopt: self.world.is_none(),
            shared: Some(self.shared.clone()),
            needs: crate::ops::access::requirements(
                &self.settings.config.release,
                &self.settings.config.traffic,
            ),
        };
        // The demo's progress lives as long as the demo; a real plan's is kept on disk.
        let store = self
            .settings
            .demo
            .is_none()
            .then(|| self.settings.plan_state_path());
        let progress =
            Progress::open(self.plan.clone(), self.phases.clone(), store).map_err(|e| eyre!(e))?;
        let (mut op, outcomes) = Operator::start(
            self.backends.clone(),
            self.slo.clone(),
            journal,
            setup,
            progress,
            self.clock.now(),
        )
        .await?;
        // The demo's breaches are nobody's incident: only a real release posts.
        if let Some(notify) = &self.settings.config.notify
            && self.world.is_none()
            && !read_only
        {
            let budget = self.settings.config.timeouts.budget.0;
            op.notify_to(
                crate::ops::notify::Notifier::new(&notify.url, &notify.events, budget)
                    .map_err(|e| eyre!(e))?,
            );
        }
        Ok((op, outcomes))
    }
}

/// How long remote calls may take: `[timeouts] budget` (`--timeout` overrides it when the
/// settings are loaded). A command that
/// only reads shares it among all its calls; the console, `canary run` and a command that
/// changes something give it to each call, so a slow read never cuts a write short.
pub fn budget(cli: &Cli, cfg: &AppConfig) -> Result<Budget> {
    use crate::cli::{CanaryCmd, Cmd, MainCmd, PreviewsCmd};
    let limit = cfg.timeouts.budget.0;
    if limit.is_zero() {
        bail!("the timeout budget (--timeout or [timeouts] budget) must be longer than 0s");
    }
    let reads_only = match &cli.command {
        None => false,
        // A watch goes on for hours: each of its calls has the budget of its own.
        Some(Cmd::Canary { action }) => matches!(action, CanaryCmd::Status { watch: false, .. }),
        Some(Cmd::Previews { action }) => match action {
            PreviewsCmd::List { .. } => true,
            PreviewsCmd::Clean { dry_run, .. } => *dry_run,
        },
        Some(Cmd::Main { action }) => match action {
            MainCmd::Status(_) => true,
            MainCmd::Sentinel { dry_run, .. } => *dry_run,
        },
        Some(_) => true,
    };
    Ok(if reads_only {
        Budget::total(limit)
    } else {
        Budget::per_call(limit)
    })
}

/// The live metrics source: Prometheus at the configured URL.
pub fn live_metrics(
    settings: &Settings,
    slo: &SloConfig,
) -> Result<Arc<dyn crate::sources::Metrics>> {
    let url = &settings.config.prometheus.url;
    let metrics = crate::sources::prometheus::PrometheusMetrics::new(url, slo)
        .map_err(|e| eyre!("[prometheus] url = {url:?}: {e}"))?
        .within(settings.config.timeouts.budget.0);
    Ok(Arc::new(metrics))
}

/// The forge the subcommands talk to, or why there is none (exit 3).
pub async fn forge(
    cli: &Cli,
    settings: &Settings,
) -> Result<std::result::Result<Arc<dyn crate::sources::Forge>, String>> {
    Ok(if settings.demo.is_some() {
        Ok(Session::open(cli).await?.backends.forge.clone())
    } else {
        live_forge(settings).await.map_err(|e| format!("{e:#}"))
    })
}

/// The live forge: GitHub at the configured API URL, with the token from `$GITHUB_TOKEN`
/// or `gh auth token` (never logged).
pub async fn live_forge(settings: &Settings) -> Result<Arc<dyn crate::sources::Forge>> {
    let api_url = settings.config.github.api_url.clone();
    let token = tokio::task::spawn_blocking(move || crate::sources::github::token_for(&api_url))
        .await
        .map_err(|e| eyre!("resolving the GitHub token: {e}"))?
        .ok_or_else(|| eyre!("no GitHub token: set $GITHUB_TOKEN or run `gh auth login`"))?;
    let forge = crate::sources::github::GithubForge::spawn(
        &settings.config.github,
        &token,
        crate::sources::github::DEFAULT_POLL,
        Arc::new(crate::clock::SystemClock),
    )
    .map_err(|e| eyre!("[github] {e}"))?;
    Ok(Arc::new(forge))
}

/// The live registries and Grafana the publishing probes read.
pub fn live_published(settings: &Settings) -> Arc<dyn crate::sources::published::Published> {
    let cfg = &settings.config;
    let key = cfg
        .cosign
        .public_key
        .as_ref()
        .map(|k| settings.relative(&k.to_string_lossy()));
    let file = |f: &Option<toml::Spanned<std::path::PathBuf>>| {
        f.as_ref()
            .map(|f| settings.relative(&f.get_ref().to_string_lossy()))
    };
    let keyless = crate::sources::published::Keyless {
        fulcio_roots: file(&cfg.cosign.fulcio_roots),
        rekor_public_key: file(&cfg.cosign.rekor_public_key),
        identity: cfg.cosign.identity(),
    };
    Arc::new(
        crate::sources::published::LivePublished::new(
            &cfg.github.repo,
            cfg.grafana.url.as_deref(),
            key,
            |k| std::env::var(k).ok(),
        )
        .with_keyless(keyless),
    )
}
