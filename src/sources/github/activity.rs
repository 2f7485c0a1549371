//! The activity probes' one entry: each [`Activity`] to the module that looks at it
//! ([`super::actions`] for runs and checks, [`super::pulls_probe`] for pull requests).

use super::client::GithubClient;
use super::{actions, pulls_probe};
use crate::sources::SourceError;
use crate::sources::activity::{Activity, Observation};

pub async fn observe(client: &GithubClient, what: &Activity) -> Result<Observation, SourceError> {
    match what {
        Activity::WorkflowRun {
            workflow,
            target,
            jobs,
        } => actions::workflow_run(client, workflow, target, jobs).await,
        Activity::Artifacts {
            workflow,
            target,
            names,
        } => actions::artifacts(client, workflow, target, names).await,
        Activity::CheckRun {
            name,
            target,
            conclusion,
        } => actions::check_run(client, name, target, conclusion).await,
        Activity::PullBlocked {
            paths,
            checks,
            pull,
        } => pulls_probe::blocked(client, paths, checks, *pull).await,
        Activity::PullsBy { author, since, min } => {
            pulls_probe::by(client, author, *since, *min).await
        }
        Activity::LabelledWhenRed {
            label,
            branch,
            within_secs,
        } => pulls_probe::labelled_when_red(client, label, branch, *within_secs).await,
    }
}
