//! The probes of what a release published: `oci.image`, `cosign.verified`,
//! `grafana.dashboard`. A registry or Grafana that cannot be reached is unavailable, like
//! one not configured: neither says anything about the image or the dashboard.

use std::path::Path;

use super::{ProbeContext, unavailable};
use crate::config::Span;
use crate::engine::phases::ProbeStatus;
use crate::sources::cosign::Expected;
use crate::sources::cosign::keyless::{Identity, Subject};
use crate::sources::oci::ImageRef;
use crate::sources::published::Published;
use crate::sources::{Finding, SourceError};

/// How long `<sha>` waits for main's head from the forge.
const HEAD_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

pub(super) async fn image(ctx: &ProbeContext, template: &str) -> (ProbeStatus, String) {
    let Some(published) = &ctx.published else {
        return unavailable("the registry source");
    };
    let image = match resolve(ctx, published.as_ref(), template).await {
        Ok(i) => i,
        Err(e) => return e,
    };
    judged(published.image(&image).await.map(|digest| match digest {
        Some(d) => Finding::pass(format!("{image}: {d}")),
        None => Finding::fail(format!("no image {image} in the registry")),
    }))
}

/// Whom a `cosign.verified` probe expects: its key, its identity, or `[cosign]`'s choice.
pub(super) fn expected(
    key: Option<&Path>,
    identity: Option<&str>,
    regexp: Option<&str>,
    issuer: Option<&str>,
) -> Expected {
    let subject = identity
        .map(|i| Subject::Exact(i.to_string()))
        .or_else(|| regexp.map(|r| Subject::Pattern(r.to_string())));
    match (key, subject, issuer) {
        (Some(key), _, _) => Expected::Key(key.to_path_buf()),
        (None, Some(subject), Some(issuer)) => Expected::Keyless(Identity {
            subject,
            issuer: issuer.to_string(),
        }),
        _ => Expected::Configured,
    }
}

pub(super) async fn signed(
    ctx: &ProbeContext,
    template: &str,
    expected: &Expected,
) -> (ProbeStatus, String) {
    let Some(published) = &ctx.published else {
        return unavailable("the registry source");
    };
    match resolve(ctx, published.as_ref(), template).await {
        Ok(image) => judged(published.signed(&image, expected).await),
        Err(e) => e,
    }
}

pub(super) async fn dashboard(
    ctx: &ProbeContext,
    uid: &str,
    panel: &str,
    within: Span,
) -> (ProbeStatus, String) {
    match &ctx.published {
        Some(p) => judged(p.dashboard(uid, panel, within).await),
        None => unavailable("the Grafana source"),
    }
}

fn judged(r: Result<Finding, SourceError>) -> (ProbeStatus, String) {
    match r {
        Ok(f) if f.passed => (ProbeStatus::Pass, f.evidence),
        Ok(f) => (ProbeStatus::Fail, f.evidence),
        Err(SourceError::Unconfigured(why)) => (ProbeStatus::Unavailable, why),
        Err(e @ SourceError::Unreachable(_)) => (ProbeStatus::Unavailable, e.to_string()),
        Err(e) => (ProbeStatus::Fail, format!("could not check: {e}")),
    }
}

/// The reference with `<org>`, `<repo>` (the configured repository, lower-cased as
/// registries name it) and `<sha>` (main's head) filled in.
async fn resolve(
    ctx: &ProbeContext,
    published: &dyn Published,
    template: &str,
) -> Result<ImageRef, (ProbeStatus, String)> {
    let repo = published.repo().to_ascii_lowercase();
    let (org, name) = repo.split_once('/').unwrap_or(("", &repo));
    let mut reference = template.replace("<org>", org).replace("<repo>", name);
    if reference.contains("<sha>") {
        let Some(forge) = &ctx.forge else {
            return Err(unavailable("the GitHub source (for main's head, <sha>)"));
        };
        let head = crate::sources::first_reading(forge.main_health(), HEAD_WAIT).await;
        match head {
            Ok(h) => reference = reference.replace("<sha>", &h.head.sha),
            Err(e) => {
                return Err((
                    ProbeStatus::Unavailable,
                    format!("main's head (for <sha>) is not known: {e}"),
                ));
            }
        }
    }
    ImageRef::parse(&reference).map_err(|e| (ProbeStatus::Fail, e))
}
