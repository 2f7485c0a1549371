//! The clean-main sentinel: while main is red, every open pull request carries
//! `freeze/main-red` (a ruleset blocks merging them); once main is green again, none does.
//! Pending changes nothing, so a check re-running does not make labels flap.

use serde::{Deserialize, Serialize};

use super::main_health::{OpenPull, Overall};

/// What the sentinel would change now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relabel {
    /// Pull requests to put the label on.
    pub label: Vec<u32>,
    /// Pull requests to take it off.
    pub unlabel: Vec<u32>,
}

impl Relabel {
    pub fn is_empty(&self) -> bool {
        self.label.is_empty() && self.unlabel.is_empty()
    }
}

/// Why the sentinel would do what it would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    MainRed,
    MainGreen,
    MainPending,
}

impl Reason {
    pub fn label(self) -> &'static str {
        match self {
            Reason::MainRed => "main is red",
            Reason::MainGreen => "main is green",
            Reason::MainPending => "main's checks are still running",
        }
    }
}

pub fn plan(overall: Overall, pulls: &[OpenPull]) -> (Reason, Relabel) {
    let numbers = |want: bool| -> Vec<u32> {
        pulls
            .iter()
            .filter(|p| p.frozen() == want)
            .map(|p| p.number)
            .collect()
    };
    match overall {
        Overall::Red { .. } => (
            Reason::MainRed,
            Relabel {
                label: numbers(false),
                unlabel: Vec::new(),
            },
        ),
        Overall::Green => (
            Reason::MainGreen,
            Relabel {
                label: Vec::new(),
                unlabel: numbers(true),
            },
        ),
        Overall::Pending => (Reason::MainPending, Relabel::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::main_health::FREEZE_LABEL;

    fn pr(number: u32, labels: &[&str]) -> OpenPull {
        OpenPull {
            number,
            title: format!("PR {number}"),
            author: "mira".into(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
        }
    }

    fn pulls() -> Vec<OpenPull> {
        vec![
            pr(1, &[FREEZE_LABEL]),
            pr(2, &["dependencies"]),
            pr(3, &[]),
            pr(4, &["dependencies", FREEZE_LABEL]),
        ]
    }

    #[test]
    fn red_labels_every_open_pull_request_not_yet_labelled() {
        let (why, r) = plan(Overall::Red { since: None }, &pulls());
        assert_eq!(why, Reason::MainRed);
        assert_eq!(r.label, vec![2, 3]);
        assert!(r.unlabel.is_empty());
    }

    #[test]
    fn green_takes_the_label_off_only_where_it_is() {
        let (why, r) = plan(Overall::Green, &pulls());
        assert_eq!(why, Reason::MainGreen);
        assert_eq!(r.unlabel, vec![1, 4]);
        assert!(r.label.is_empty());
    }

    #[test]
    fn pending_changes_nothing() {
        let (why, r) = plan(Overall::Pending, &pulls());
        assert_eq!(why, Reason::MainPending);
        assert!(r.is_empty());
    }

    #[test]
    fn nothing_to_do_when_labels_already_match() {
        let all = vec![pr(1, &[FREEZE_LABEL])];
        assert!(plan(Overall::Red { since: None }, &all).1.is_empty());
        assert!(plan(Overall::Green, &[pr(2, &[])]).1.is_empty());
    }
}
