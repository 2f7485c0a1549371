//! The command line (`docs/runbook.md` for what each subcommand is for).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::headless::out::Format;

#[derive(Debug, Parser)]
#[command(
    name = "captain",
    version,
    about = "The release-captain console: phases, canary, previews, main health."
)]
pub struct Cli {
    /// captain.toml to read (else $CAPTAIN_CONFIG, ./captain.toml, the XDG config dir).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Kubernetes context to use (default: the current one).
    #[arg(long, global = true, value_name = "KUBE_CONTEXT")]
    pub context: Option<String>,
    /// Remove every action that changes anything.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Theme: default, light, high-contrast, or a theme file. The console's alone: not
    /// global, so the subcommands' help does not offer it.
    #[arg(long, value_name = "NAME|FILE")]
    pub theme: Option<String>,
    /// Run against the embedded demo world; scenarios: drill (default), steady, breach,
    /// stale-previews, main-red. The value is taken only after `=`.
    #[arg(long, global = true, num_args = 0..=1, require_equals = true, default_missing_value = "drill", value_name = "SCENARIO")]
    pub demo: Option<String>,
    /// How long remote calls may take: all of a reading command's together, each call of
    /// the console, `canary run` and commands that change something (default: `[timeouts]
    /// budget` in captain.toml, else 30s).
    #[arg(long, global = true, value_name = "DUR")]
    pub timeout: Option<crate::config::Span>,
    /// Run the demo world's clock this many times faster (0.01 to 10000).
    #[arg(long, global = true, default_value_t = 1.0, value_name = "X", value_parser = speed)]
    pub speed: f64,
    /// The demo world's seed: the same seed, the same world.
    #[arg(long, global = true, default_value_t = 1, value_name = "N")]
    pub seed: u64,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

/// The exit status of a usage error (an unknown flag, a bad value): EX_USAGE of BSD's
/// sysexits, so that it never reads as one of the verdicts 0–3 (`docs/runbook.md`).
pub const EXIT_USAGE: u8 = 64;

/// The range `--speed` accepts: slower than a hundredth the demo barely moves, and faster
/// than ten thousand times its measurement interval (5 s) is under a millisecond.
pub const SPEEDS: std::ops::RangeInclusive<f64> = 0.01..=10_000.0;

fn speed(text: &str) -> Result<f64, String> {
    let x: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if SPEEDS.contains(&x) {
        Ok(x)
    } else {
        Err(format!(
            "{text} is out of range: expected {} to {}",
            SPEEDS.start(),
            SPEEDS.end()
        ))
    }
}

impl Cli {
    /// The command line, or the process ends: `--help` and `--version` print and exit 0; a
    /// usage error prints clap's message and exits [`EXIT_USAGE`] (clap's own exit is 2,
    /// which `slo check` and `canary run` use for a verdict).
    pub fn parse_or_exit() -> Self {
        match Self::try_parse() {
            Ok(cli) => cli,
            Err(e) => {
                let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
                // Nothing more can be said if even this cannot be printed.
                let _ = e.print();
                std::process::exit(i32::from(code))
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// The canary release train.
    Canary {
        #[command(subcommand)]
        action: CanaryCmd,
    },
    /// Preview namespaces.
    Previews {
        #[command(subcommand)]
        action: PreviewsCmd,
    },
    /// Health of main.
    Main {
        #[command(subcommand)]
        action: MainCmd,
    },
    /// The canary's SLOs, evaluated once.
    Slo {
        #[command(subcommand)]
        action: SloCmd,
    },
    /// The rollout plan.
    Plan {
        #[command(subcommand)]
        action: PlanCmd,
    },
    /// The sprint's acceptance evidence, written out.
    Evidence {
        #[command(subcommand)]
        action: EvidenceCmd,
    },
    /// The audit journal.
    Audit {
        #[command(subcommand)]
        action: AuditCmd,
    },
    /// Drive the releases' canary trains without a terminal, for good: hold the lease,
    /// start each new revision, promote and roll back by the SLOs (in the cluster, as a
    /// Deployment: see deploy/).
    Drive {
        /// Serve `GET /healthz` here (e.g. 0.0.0.0:8080): 200 while measuring, 503 when the
        /// last measurement is older than three intervals.
        #[arg(long, value_name = "ADDR")]
        health: Option<std::net::SocketAddr>,
        /// Drive one more release, described by its own captain.toml (repeatable); the
        /// release of --config is driven too. Each then keeps its journal in
        /// <state dir>/<release>/.
        #[arg(long = "release", value_name = "FILE")]
        releases: Vec<std::path::PathBuf>,
    },
    /// Write a starter captain.toml and .ci/config/slo.yml in the current directory, and
    /// beside slo.yml the Prometheus rules and Grafana dashboard it makes.
    Init {
        /// Overwrite files that already exist.
        #[arg(long)]
        force: bool,
    },
    /// A completion script for a shell, on stdout: `captain completions bash >
    /// /etc/bash_completion.d/captain`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The man page (roff): captain.1 on stdout, or with --out a page for every subcommand
    /// too, written into DIR.
    Man {
        /// Write captain.1 and a captain-<subcommand>.1 for each subcommand here instead of
        /// stdout.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Where config, audit log, logs and themes are read from, and what the commands act
    /// on: the kube context and its server, the release, the GitHub repository, Prometheus.
    Info(Json),
}

#[derive(Debug, Clone, Args)]
pub struct Mutate {
    /// Do it without asking (required without a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Why: recorded in the audit journal (required for rollback, abort and deletes).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct Json {
    /// Output format: text (aligned columns), wide (more columns), json or yaml.
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,
    /// The same as `-o json`.
    #[arg(long, conflicts_with = "output")]
    pub json: bool,
}

impl Json {
    /// What `-o` or `--json` asked for; text when neither.
    pub fn format(&self) -> Format {
        match (self.output, self.json) {
            (Some(f), _) => f,
            (None, true) => Format::Json,
            (None, false) => Format::Text,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum CanaryCmd {
    /// The train now: release, revision, image, canary weight and state.
    Status {
        /// Keep watching: print the train again each time it changes, until interrupted
        /// (exit 128 + the signal's number, e.g. 130 on Ctrl-C).
        #[arg(short = 'w', long)]
        watch: bool,
        #[command(flatten)]
        j: Json,
    },
    /// Drive the train to its end: exit 0 promoted, 1 rolled back or aborted, 2 paused.
    Run(Json),
    /// Set the canary's weight to the next step's now, skipping the rest of the observation
    /// window (or start a train that has not started).
    Promote {
        /// Straight to 100 %.
        #[arg(long)]
        full: bool,
        #[command(flatten)]
        m: Mutate,
        #[command(flatten)]
        j: Json,
    },
    /// Stop automatic promotion (the canary stays at its weight) and create the tag
    /// frozen/rollback on GitHub.
    Pause {
        #[command(flatten)]
        m: Mutate,
        #[command(flatten)]
        j: Json,
    },
    /// Delete the tag frozen/rollback and restart the current step's observation window.
    Resume {
        #[command(flatten)]
        m: Mutate,
        #[command(flatten)]
        j: Json,
    },
    /// Set the canary's weight to 0 % and run helm rollback to the previous revision (needs
    /// --reason).
    Rollback {
        /// Roll back to this revision instead of the previous one.
        #[arg(long, value_name = "N")]
        to_revision: Option<u32>,
        #[command(flatten)]
        m: Mutate,
        #[command(flatten)]
        j: Json,
    },
    /// Set the canary's weight to 0 % without a helm rollback: its pods keep running (needs
    /// --reason).
    Abort {
        #[command(flatten)]
        m: Mutate,
        #[command(flatten)]
        j: Json,
    },
}

#[derive(Debug, Subcommand)]
pub enum PreviewsCmd {
    /// Every preview namespace, oldest first.
    List {
        /// Stale when older than this (default: the configured TTL).
        #[arg(long, value_name = "DUR")]
        older_than: Option<crate::config::Span>,
        #[command(flatten)]
        j: Json,
    },
    /// Delete the stale ones.
    Clean {
        /// Stale when older than this (default: the configured TTL).
        #[arg(long, value_name = "DUR")]
        older_than: Option<crate::config::Span>,
        /// Also delete the orphans, whatever their age: the previews whose pull request
        /// was merged or closed (as the Previews panel flags them).
        #[arg(long)]
        orphaned: bool,
        /// Say what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        m: Mutate,
        #[command(flatten)]
        j: Json,
    },
}

#[derive(Debug, Subcommand)]
pub enum MainCmd {
    /// Exit 0 green, 1 red, 3 could not evaluate.
    Status(Json),
    /// The clean-main sentinel: while main is red, label every open pull request
    /// `freeze/main-red`; once it is green, take the label off. Exit 0 done (or nothing to
    /// do), 1 a label could not be changed, 3 could not evaluate.
    Sentinel {
        /// Say what would change, change nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        m: Mutate,
        #[command(flatten)]
        j: Json,
    },
}

#[derive(Debug, Subcommand)]
pub enum SloCmd {
    /// Measure every objective now: exit 0 pass, 1 fail, 2 inconclusive (warn or no data),
    /// 3 could not evaluate.
    Check(Json),
    /// Write the Prometheus rules slo.yml makes: every SLI recorded on both tracks, and the
    /// burn-rate alerts (default: slo-rules.yml beside slo.yml).
    Rules(Generate),
    /// Write the Grafana dashboard slo.yml makes: canary against stable with the objectives'
    /// bounds, burn rates, step weights (default: slo-dashboard.json beside slo.yml).
    Dashboard(Generate),
    /// The synthetic burn drill: check the rule group is loaded and healthy, wait for the
    /// alert while the error budget is burnt on purpose, journal what fired. Exit 0 fired,
    /// 1 not loaded or not fired in time, 3 could not evaluate.
    BurnDrill(BurnDrill),
}

#[derive(Debug, Clone, Args)]
pub struct Generate {
    /// A file, a directory to write the default name in, or `-` for stdout.
    #[arg(long, value_name = "FILE|DIR|-")]
    pub out: Option<PathBuf>,
    /// Overwrite a file that differs from what slo.yml makes now.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BurnDrill {
    /// How long to wait for the alert to fire.
    #[arg(long, default_value = "15m", value_name = "DUR")]
    pub wait: crate::config::Span,
    /// The `severity` of the alert to wait for.
    #[arg(long, default_value = "page", value_name = "SEVERITY")]
    pub severity: String,
    #[command(flatten)]
    pub j: Json,
}

#[derive(Debug, Subcommand)]
pub enum PlanCmd {
    /// The phases, in order.
    Show(Json),
    /// Run the phases' validation probes: exit 0 all pass, 1 any fails, 2 some need a person
    /// or a source that is not available. Reports only: progress is not changed.
    Validate {
        /// Only this phase.
        #[arg(long, value_name = "N")]
        phase: Option<usize>,
        #[command(flatten)]
        j: Json,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCmd {
    /// Write index.md, the audit trail, the release train's who/what/why/when, probe
    /// outputs and SVG charts into DIR. On the demo world, a whole run of the scenario is
    /// rehearsed first, at full speed, and charted.
    Export {
        /// The directory to write into (made when missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Print the journal.
    Show(Json),
    /// Check the hash chain and the journal's head (the file beside it, and a live
    /// release's copy in its shared ConfigMap): exit 0 intact, 1 broken, 3 when the
    /// cluster's copy cannot be read.
    Verify(VerifyArgs),
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub json: Json,
    /// Check the file and its head file alone, without the cluster's copy of the head
    /// (off the cluster's network, or a journal copied elsewhere).
    #[arg(long)]
    pub local: bool,
}
