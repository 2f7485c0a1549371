//! What the demo repository and cluster hold for the plan's validation probes: the
//! governance a team has set up by phase 8 of the plan, and the stage and prod workloads.

use super::Scenario;
use crate::sources::{Finding, Governance, ReleaseRevision};

const ENVIRONMENTS: [(&str, &[&str]); 2] = [
    ("stage", &["branch_policy"]),
    (
        "prod",
        &["required_reviewers", "wait_timer", "branch_policy"],
    ),
];

const SECRETS: [&str; 7] = [
    "COSIGN_KEY",
    "COSIGN_PASSWORD",
    "KUBE_CONFIG",
    "PG_DRYRUN_CONN",
    "REGISTRY_TOKEN",
    "REGISTRY_USER",
    "SLACK_WEBHOOK",
];

const FILES: [&str; 8] = [
    ".ci/config/slo.yml",
    ".github/workflows/clean-main-sentinel.yml",
    ".github/workflows/migration-gate.yml",
    ".github/workflows/pr.yml",
    ".github/workflows/release-train.yml",
    ".github/workflows/wf-reuse-deploy.yml",
    ".renovaterc.json",
    "chart/Chart.yaml",
];

/// Branch protection on main requires these; the ruleset adds none.
const REQUIRED: [&str; 4] = ["ci-pr", "build", "test", "scan"];

const RULESET: &str = "main-guard";

pub fn governance(what: &Governance, scenario: Scenario) -> Finding {
    match what {
        Governance::EnvironmentProtected { environment } => {
            match ENVIRONMENTS.iter().find(|(e, _)| e == environment) {
                Some((_, rules)) => Finding::pass(format!(
                    "environment {environment}: {} protection rules ({})",
                    rules.len(),
                    rules.join(", ")
                )),
                None => Finding::fail(format!("no environment {environment}")),
            }
        }
        Governance::BranchRequiresCheck { branch, check } => {
            if branch != "main" {
                Finding::fail(format!("{branch} is not protected"))
            } else if REQUIRED.contains(&check.as_str()) {
                Finding::pass(format!(
                    "{branch} requires {check} (branch protection: {})",
                    REQUIRED.join(", ")
                ))
            } else {
                Finding::fail(format!(
                    "{branch} does not require {check}; it requires {}",
                    REQUIRED.join(", ")
                ))
            }
        }
        Governance::RulesetActive { name } => match name {
            Some(n) if n != RULESET => Finding::fail(format!(
                "no ruleset named {n}; rulesets: {RULESET} (active)"
            )),
            _ => Finding::pass(format!("ruleset {RULESET}: active")),
        },
        Governance::SecretPresent { name } => {
            if SECRETS.contains(&name.as_str()) {
                Finding::pass(format!("Actions secret {name} present"))
            } else {
                Finding::fail(format!(
                    "no Actions secret {name}; present: {}",
                    SECRETS.join(", ")
                ))
            }
        }
        Governance::FileExists { path, branch } => {
            if FILES.contains(&path.as_str()) {
                Finding::pass(format!("{path} on {branch}"))
            } else {
                Finding::fail(format!("no {path} on {branch}"))
            }
        }
        Governance::NoCriticalAlerts => {
            // main-red's failing `scan` is the critical finding that turned it red.
            if scenario == Scenario::MainRed {
                Finding::fail(
                    "1 critical open code-scanning alert: #31 js/sql-injection in api/search.ts",
                )
            } else {
                Finding::pass("4 open code-scanning alerts, none critical")
            }
        }
        Governance::SecretScanningEnabled => Finding::pass("secret scanning: enabled"),
    }
}

/// Namespaces outside the previews that exist in the demo cluster.
pub const NAMESPACES: [&str; 5] = ["default", "kube-system", "monitoring", "prod", "stage"];

/// The deployments, by namespace and name: (replicas, available).
pub fn deployment(namespace: &str, name: &str) -> Option<(u32, u32)> {
    match (namespace, name) {
        ("prod", "summit") => Some((6, 6)),
        ("stage", "summit") => Some((2, 2)),
        ("monitoring", "prometheus") => Some((1, 1)),
        _ => None,
    }
}

/// The stage release, a step ahead of prod.
pub fn stage_history(prod: &[ReleaseRevision]) -> Vec<ReleaseRevision> {
    prod.iter()
        .map(|r| ReleaseRevision {
            revision: r.revision + 15,
            ..r.clone()
        })
        .collect()
}
