//! [`ActionKind`]: every kind of change captain makes, once. Its name is what the journal
//! records, `[keys]` rebinds, the palette matches and the access review reports; its
//! default key and words are what the keymap and help show; what it needs the cluster to
//! allow is asked once at start (`ops::access`). Adding an action is one variant here
//! and its handler (`docs/keybindings.md`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// A new revision's canary started at its first step: captain does it by itself.
    Start,
    Promote,
    PromoteFull,
    Pause,
    Resume,
    Rollback,
    Abort,
    DeletePreview,
    CleanStale,
    PhaseStart,
    PhaseForceStart,
    PhaseValidate,
    PhaseConfirm,
    #[serde(rename = "phase-rollback")]
    PhaseRollBack,
    Sentinel,
}

/// Where an action's key works in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Where {
    Anywhere,
    Previews,
    Phases,
    MainHealth,
}

/// What an action is about, for what the cluster must allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touches {
    /// The canary's traffic (and the shared train).
    Train,
    /// The plan's progress (in the shared ConfigMap).
    Plan,
    /// Preview namespaces.
    Previews,
    /// Pull requests' labels on the forge: nothing in the cluster.
    Forge,
}

impl ActionKind {
    pub const ALL: [ActionKind; 15] = [
        ActionKind::Start,
        ActionKind::Promote,
        ActionKind::PromoteFull,
        ActionKind::Pause,
        ActionKind::Resume,
        ActionKind::Rollback,
        ActionKind::Abort,
        ActionKind::DeletePreview,
        ActionKind::CleanStale,
        ActionKind::PhaseStart,
        ActionKind::PhaseForceStart,
        ActionKind::PhaseValidate,
        ActionKind::PhaseConfirm,
        ActionKind::PhaseRollBack,
        ActionKind::Sentinel,
    ];

    /// Name, default key (none: captain alone takes it), where the key works, what it
    /// does, what it touches: one line each.
    #[rustfmt::skip]
    const fn row(self) -> (&'static str, &'static str, Where, &'static str, Touches) {
        use ActionKind::*;
        use Touches::{Forge, Plan, Previews as Ns, Train};
        use Where::*;
        match self {
            Start => ("start", "", Anywhere, "start a new revision's canary at its first step", Train),
            Promote => ("promote", "p", Anywhere, "promote the canary to the next step now", Train),
            PromoteFull => ("promote-full", "P", Anywhere, "promote the canary straight to 100 %", Train),
            Pause => ("pause", "f", Anywhere, "pause the train and tag frozen/rollback", Train),
            Resume => ("resume", "F", Anywhere, "delete frozen/rollback and resume the train", Train),
            Rollback => ("rollback", "R", Anywhere, "weight to 0 and helm rollback to the previous revision", Train),
            Abort => ("abort", "a", Anywhere, "weight to 0 without a helm rollback", Train),
            DeletePreview => ("delete-preview", "d", Previews, "delete the selected preview namespace", Ns),
            CleanStale => ("clean-stale", "D", Previews, "delete every stale preview namespace", Ns),
            PhaseStart => ("phase-start", "s", Phases, "start the selected phase", Plan),
            PhaseForceStart => ("phase-force-start", "S", Phases, "start it before the phase before it is validated", Plan),
            PhaseValidate => ("phase-validate", "v", Phases, "run the selected phase's validation probes", Plan),
            PhaseConfirm => ("phase-confirm", "m", Phases, "confirm the selected phase's manual checks", Plan),
            PhaseRollBack => ("phase-rollback", "u", Phases, "mark the selected phase rolled back, after its rollback", Plan),
            Sentinel => ("sentinel", "l", MainHealth, "label PRs freeze/main-red, or unlabel when green", Forge),
        }
    }

    /// As the journal records it and `[keys]` and the palette name it.
    pub const fn name(self) -> &'static str {
        self.row().0
    }

    /// Its key unless `[keys]` rebinds it, as `[keys]` writes keys; `None` for what
    /// only captain does (start).
    pub fn default_key(self) -> Option<&'static str> {
        Some(self.row().1).filter(|k| !k.is_empty())
    }

    pub const fn place(self) -> Where {
        self.row().2
    }

    /// What it does, for help and the palette.
    pub const fn describe(self) -> &'static str {
        self.row().3
    }

    pub const fn touches(self) -> Touches {
        self.row().4
    }

    /// Every action changes something: a read-only console has none of them.
    pub const fn mutates(self) -> bool {
        true
    }

    pub fn from_name(name: &str) -> Option<ActionKind> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_round_trip_and_serialize_as_written() {
        for a in ActionKind::ALL {
            assert_eq!(ActionKind::from_name(a.name()), Some(a));
            assert_eq!(
                serde_json::to_value(a).unwrap(),
                serde_json::Value::String(a.name().into())
            );
        }
        let mut names: Vec<_> = ActionKind::ALL.iter().map(|a| a.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ActionKind::ALL.len());
        assert_eq!(ActionKind::from_name("rollbak"), None);
    }
}
