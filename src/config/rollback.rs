//! A phase's rollback: what a person reads, and the typed actions captain runs for it
//! (each confirmed as part of the phase's rollback, and journalled with it).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Span;

fn default_timeout() -> Span {
    Span::secs(60)
}

/// One step of a rollback that captain can take itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum RollbackAction {
    /// Run a program (never through a shell); it must exit with `expect_exit`.
    #[serde(rename = "command")]
    Command {
        argv: Vec<String>,
        #[serde(default = "default_timeout")]
        timeout: Span,
        #[serde(default)]
        expect_exit: i32,
    },
    /// `helm rollback` of a release: to `revision`, or the one before the current.
    #[serde(rename = "helm.rollback")]
    HelmRollback {
        release: String,
        namespace: String,
        #[serde(default)]
        revision: Option<u32>,
    },
    /// Roll the canary train back: all traffic to stable, helm rollback of the release.
    #[serde(rename = "train.rollback")]
    TrainRollback,
    /// Pause the train and tag `frozen/rollback`.
    #[serde(rename = "train.pause")]
    TrainPause,
}

impl fmt::Display for RollbackAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RollbackAction::Command { argv, .. } => write!(f, "run {}", argv.join(" ")),
            RollbackAction::HelmRollback {
                release,
                namespace,
                revision,
            } => match revision {
                Some(r) => write!(f, "helm rollback {namespace}/{release} to revision {r}"),
                None => write!(
                    f,
                    "helm rollback {namespace}/{release} to its previous revision"
                ),
            },
            RollbackAction::TrainRollback => f.write_str("roll the canary train back"),
            RollbackAction::TrainPause => {
                f.write_str("pause the canary train and tag frozen/rollback")
            }
        }
    }
}

/// Written either as a plain string (a person does it) or as `{text, actions}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rollback {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<RollbackAction>,
}

impl<'de> Deserialize<'de> for Rollback {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RollbackVisitor;

        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            text: String,
            #[serde(default)]
            actions: Vec<RollbackAction>,
        }

        impl<'de> serde::de::Visitor<'de> for RollbackVisitor {
            type Value = Rollback;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a rollback: a string, or a map with `text` and `actions`")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Rollback, E> {
                Ok(Rollback {
                    text: v.to_string(),
                    actions: Vec::new(),
                })
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Rollback, A::Error> {
                let full = Full::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Rollback {
                    text: full.text,
                    actions: full.actions,
                })
            }
        }

        d.deserialize_any(RollbackVisitor)
    }
}

impl fmt::Display for Rollback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_is_a_rollback_a_person_does_and_a_map_carries_typed_actions() {
        let plain: Rollback = serde_yaml_ng::from_str("\"disable the job\"").unwrap();
        assert_eq!(plain.text, "disable the job");
        assert!(plain.actions.is_empty());
        let typed: Rollback = serde_yaml_ng::from_str(
            "text: roll back stage\nactions:\n  - {kind: helm.rollback, release: summit, namespace: stage}\n  - {kind: train.pause}\n  - {kind: command, argv: [\"true\"], timeout: 5s}\n",
        )
        .unwrap();
        assert_eq!(
            typed.actions,
            vec![
                RollbackAction::HelmRollback {
                    release: "summit".into(),
                    namespace: "stage".into(),
                    revision: None
                },
                RollbackAction::TrainPause,
                RollbackAction::Command {
                    argv: vec!["true".into()],
                    timeout: Span::secs(5),
                    expect_exit: 0
                },
            ]
        );
        let back: Rollback =
            serde_yaml_ng::from_str(&serde_yaml_ng::to_string(&typed).unwrap()).unwrap();
        assert_eq!(back, typed);
    }

    #[test]
    fn an_unknown_action_kind_is_an_error() {
        let err =
            serde_yaml_ng::from_str::<Rollback>("text: x\nactions:\n  - {kind: kubectl.delete}\n")
                .unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `kubectl.delete`"),
            "{err}"
        );
    }
}
