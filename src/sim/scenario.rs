//! The demo scenarios.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scenario {
    /// Healthy steps to 50 %, a synthetic breach, the automatic rollback, stale previews,
    /// a check on main going red then green.
    #[default]
    Drill,
    /// The canary passes every window to 100 %.
    Steady,
    /// An error-rate breach at 50 % and the automatic rollback.
    Breach,
    /// Many previews, most of them stale or orphaned.
    StalePreviews,
    /// A required check red on main, PRs labelled freeze/main-red.
    MainRed,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Scenario::Drill,
        Scenario::Steady,
        Scenario::Breach,
        Scenario::StalePreviews,
        Scenario::MainRed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Drill => "drill",
            Scenario::Steady => "steady",
            Scenario::Breach => "breach",
            Scenario::StalePreviews => "stale-previews",
            Scenario::MainRed => "main-red",
        }
    }

    /// Whether the canary breaks its SLOs once it reaches 50 %.
    pub fn breaches(self) -> bool {
        matches!(self, Scenario::Drill | Scenario::Breach)
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Scenario::ALL.iter().map(|x| x.name()).collect();
                format!(
                    "unknown demo scenario `{s}`; expected one of {}",
                    names.join(", ")
                )
            })
    }
}
