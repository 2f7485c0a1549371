//! The demo repository's open pull requests. Labels change only when someone (the
//! sentinel, from captain) puts them on or takes them off, as on GitHub.

use super::Scenario;
use crate::engine::main_health::{FREEZE_LABEL, OpenPull, PrRef};
const RENOVATE: &str = "renovate[bot]";

pub fn open(scenario: Scenario) -> Vec<OpenPull> {
    // In main-red the sentinel already labelled the first two; the rest opened since.
    let frozen = |n: u32| scenario == Scenario::MainRed && matches!(n, 421 | 423);
    [
        (409, "Update rust Docker tag to v1.95", RENOVATE),
        (415, "Update helm/kind-action action to v1.12", RENOVATE),
        (421, "Add SBOM upload to publish", "mira"),
        (423, "Tighten CSP headers", "jonas"),
        (424, "Migrate sessions table to uuid keys", "ana"),
        (426, "Runbook: rolling back a stuck canary", "mira"),
    ]
    .into_iter()
    .map(|(number, title, author)| OpenPull {
        number,
        title: title.into(),
        author: author.into(),
        labels: if frozen(number) {
            vec![FREEZE_LABEL.into()]
        } else {
            Vec::new()
        },
    })
    .collect()
}

fn refs(pulls: &[OpenPull], pick: impl Fn(&OpenPull) -> bool) -> Vec<PrRef> {
    pulls
        .iter()
        .filter(|p| pick(p))
        .map(|p| PrRef {
            number: p.number,
            title: p.title.clone(),
        })
        .collect()
}

/// The PRs labelled `freeze/main-red`.
pub fn frozen(pulls: &[OpenPull]) -> Vec<PrRef> {
    refs(pulls, OpenPull::frozen)
}

/// The PRs Renovate opened.
pub fn renovate(pulls: &[OpenPull]) -> Vec<PrRef> {
    refs(pulls, |p| p.author == RENOVATE)
}
