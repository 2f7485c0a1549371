//! The rollout plan: phases with owner, days, steps, validation and rollback.
//! The seed's twelve phases ship built in (`builtin_plan.yml`); see `docs/plan.md`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ConfigError;
use super::Span;
use super::nodes::{NodePath, Positions};
use super::probe::{Check, Probe};
use super::rollback::{Rollback, RollbackAction};

const BUILTIN: &str = include_str!("builtin_plan.yml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub version: u32,
    pub phases: Vec<PhaseSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseSpec {
    pub id: u8,
    pub title: String,
    pub owner: Role,
    pub days: Vec<u8>,
    #[serde(default)]
    pub effort: Option<String>,
    #[serde(default)]
    pub risk: Option<String>,
    pub steps: Vec<String>,
    pub validation: Vec<Check>,
    pub rollback: Rollback,
    #[serde(default)]
    pub evidence: Vec<String>,
}

/// The RACI roles of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Platform,
    #[serde(rename = "CI/CD")]
    CiCd,
    SecOps,
    Data,
    #[serde(rename = "Release Captain")]
    ReleaseCaptain,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Platform => "Platform",
            Role::CiCd => "CI/CD",
            Role::SecOps => "SecOps",
            Role::Data => "Data",
            Role::ReleaseCaptain => "Release Captain",
        }
    }
}

impl Role {
    /// For narrow columns.
    pub fn short(self) -> &'static str {
        match self {
            Role::Platform => "Platform",
            Role::CiCd => "CI/CD",
            Role::SecOps => "SecOps",
            Role::Data => "Data",
            Role::ReleaseCaptain => "Captain",
        }
    }
}

impl PhaseSpec {
    /// `Day 4–5` or `Day 3`.
    pub fn days_label(&self) -> String {
        match self.days.as_slice() {
            [a, b] if a != b => format!("D{a}–{b}"),
            [a, ..] => format!("D{a}"),
            [] => "—".into(),
        }
    }
}

impl Plan {
    /// The seed's phases 0–11.
    pub fn builtin() -> Self {
        Self::parse(Path::new("<builtin plan>"), BUILTIN)
            .unwrap_or_else(|e| unreachable!("the built-in plan is checked by tests: {e}"))
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = super::source::read(path)?;
        Self::parse(path, &text)
    }

    pub fn parse(origin: &Path, text: &str) -> Result<Self, ConfigError> {
        super::prescan::check(origin, text)?;
        let plan: Plan =
            serde_yaml_ng::from_str(text).map_err(|e| ConfigError::from_yaml(origin, &e))?;
        // Whole-file rules point at their node: the text is read again for positions.
        let at = |path: NodePath, message: String| {
            let e = ConfigError::new(origin, message);
            match Positions::parse(text).find(&path) {
                Some((line, column)) => e.at(line, column),
                None => e,
            }
        };
        if plan.version != 1 {
            return Err(at(
                NodePath::root().key("version"),
                format!(
                    "version: expected 1, the only plan format captain reads, found {}",
                    plan.version
                ),
            ));
        }
        if plan.phases.is_empty() {
            return Err(at(
                NodePath::root().key("phases"),
                "phases: expected at least one phase".into(),
            ));
        }
        for (i, p) in plan.phases.iter().enumerate() {
            let phase = NodePath::root().key("phases").index(i);
            if usize::from(p.id) != i {
                return Err(at(
                    phase.key("id"),
                    format!(
                        "phases[{i}].id: expected phase id {i} in position {i}, found {}",
                        p.id
                    ),
                ));
            }
            if p.days.is_empty() || p.days.len() > 2 {
                return Err(at(
                    phase.key("days"),
                    format!("phases[{i}].days: expected one or two day numbers"),
                ));
            }
            if let [first, last] = p.days[..]
                && first >= last
            {
                return Err(at(
                    phase.key("days").index(1),
                    format!(
                        "phases[{i}].days: expected the first and last day in ascending order, such as [{first}, {}], found [{first}, {last}]",
                        first.saturating_add(1)
                    ),
                ));
            }
            for (j, c) in p.validation.iter().enumerate() {
                let probe = phase.clone().key("validation").index(j).key("probe");
                let problem = match &c.probe {
                    Probe::Command { argv, timeout, .. } => command_problem(argv, *timeout),
                    Probe::PrometheusQuery { value, .. } if !value.is_finite() => {
                        Some(("value", format!("expected a finite number, found {value}")))
                    }
                    other => other.problem(),
                };
                if let Some((key, problem)) = problem {
                    let path = probe.key(key);
                    return Err(at(path.clone(), format!("{path}: {problem}")));
                }
            }
            for (k, action) in p.rollback.actions.iter().enumerate() {
                if let RollbackAction::Command { argv, timeout, .. } = action
                    && let Some((key, problem)) = command_problem(argv, *timeout)
                {
                    let path = phase
                        .clone()
                        .key("rollback")
                        .key("actions")
                        .index(k)
                        .key(key);
                    return Err(at(path.clone(), format!("{path}: {problem}")));
                }
            }
        }
        Ok(plan)
    }
}

/// What is wrong with a command to run, and under which key: nothing to run, or no time to
/// run it in.
fn command_problem(argv: &[String], timeout: Span) -> Option<(&'static str, String)> {
    let expected = "expected a program and its arguments, such as [helm, test, summit]";
    match argv.first() {
        None => return Some(("argv", format!("{expected}, found none"))),
        Some(program) if program.trim().is_empty() => {
            return Some(("argv", format!("{expected}, found an empty program name")));
        }
        Some(_) => {}
    }
    if timeout.0.is_zero() {
        return Some(("timeout", "expected a timeout of more than 0s".into()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_plan_has_the_seeds_twelve_phases_in_order() {
        let plan = Plan::parse(Path::new("builtin"), BUILTIN).unwrap();
        assert_eq!(plan.phases.len(), 12);
        assert_eq!(plan.phases[0].title, "Preflight");
        assert_eq!(plan.phases[8].owner, Role::ReleaseCaptain);
        assert!(plan.phases[8].title.contains("Canary"));
    }

    #[test]
    fn a_check_is_a_plain_string_or_a_typed_probe() {
        let text = r#"version: 1
phases:
  - id: 0
    title: x
    owner: Platform
    days: [1]
    steps: []
    validation:
      - "Look at the dashboard"
      - check: "helm template renders"
        probe: {kind: command, argv: [helm, template, chart], timeout: 30s}
      - check: "stage is protected"
        probe: {kind: github.environment_protected, environment: stage}
    rollback: none
"#;
        let plan = Plan::parse(Path::new("plan.yml"), text).unwrap();
        let v = &plan.phases[0].validation;
        assert_eq!(v[0].probe, Probe::Manual);
        assert!(
            matches!(&v[1].probe, Probe::Command { argv, timeout, expect_exit: 0 }
            if argv == &["helm", "template", "chart"] && timeout.as_secs() == 30)
        );
        assert_eq!(v[2].probe.kind(), "github.environment_protected");
    }

    #[test]
    fn an_unknown_probe_kind_is_an_error_not_a_skip() {
        let text = "version: 1\nphases:\n  - id: 0\n    title: x\n    owner: Data\n    days: [1]\n    steps: []\n    validation:\n      - check: y\n        probe: {kind: github.vibes}\n    rollback: none\n";
        let err = Plan::parse(Path::new("plan.yml"), text).unwrap_err();
        assert!(
            err.message.contains("unknown variant `github.vibes`"),
            "{err}"
        );
        assert_eq!(err.line, Some(10), "{err}");
    }

    #[test]
    fn unknown_owner_is_rejected_with_its_position() {
        let text = "version: 1\nphases:\n  - id: 0\n    title: x\n    owner: Intern\n    days: [1]\n    steps: []\n    validation: []\n    rollback: none\n";
        let err = Plan::parse(Path::new("plan.yml"), text).unwrap_err();
        assert_eq!(err.line, Some(5), "{err}");
        assert!(err.message.contains("unknown variant `Intern`"), "{err}");
    }
}
