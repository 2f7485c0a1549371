//! What the demo's registry and Grafana hold for the publishing probes: the image of
//! main's head, `ghcr.io/acme/summit:sha-<head>`, signed with the demo's cosign key and
//! keylessly by the demo's release workflow, and
//! the dashboard `captain slo dashboard` makes from the demo slo.yml, its panels drawn
//! from the world's traffic.

use crate::config::Span;
use crate::sources::Finding;
use crate::sources::cosign::Expected;
use crate::sources::oci::{ImageRef, digest_of};

/// The demo's repository and where its images go.
pub(super) const REPO: &str = "acme/summit";
const REGISTRY: &str = "ghcr.io";

/// The digest of the image the demo registry holds by that reference, if it holds one:
/// main's head by its tag, or that image by its digest.
pub(super) fn digest(image: &ImageRef, head: &str) -> Option<String> {
    let ours = image.registry == REGISTRY && image.name == REPO;
    let digest = digest_of(format!("{REGISTRY}/{REPO}:sha-{head}").as_bytes());
    (ours && (image.reference == format!("sha-{head}") || image.reference == digest))
        .then_some(digest)
}

/// Who signed the demo's images keylessly: its release workflow on main, through GitHub
/// Actions' OIDC token, as a team's CI does.
pub(super) const WORKFLOW: &str =
    "https://github.com/acme/summit/.github/workflows/release.yml@refs/heads/main";
pub(super) const ACTIONS: &str = "https://token.actions.githubusercontent.com";

/// The image's signatures, judged as `cosign verify` judges them: by the demo's key, or,
/// when a probe expects a keyless signer, by the identity and issuer of its certificate
/// (the demo's release workflow), with live's words for a mismatch.
pub(super) fn signed(image: &ImageRef, head: &str, expected: &Expected) -> Finding {
    let Some(d) = digest(image, head) else {
        return Finding::fail(format!("no image {image} in the registry"));
    };
    let tag = crate::sources::cosign::signature_tag(&d);
    match expected {
        Expected::Keyless(identity) if !identity.subject.matches(WORKFLOW) => {
            Finding::fail(format!(
                "{image}: signature 2 of {tag}: the certificate is for {WORKFLOW}, not {}",
                identity.subject
            ))
        }
        Expected::Keyless(identity) if identity.issuer != ACTIONS => Finding::fail(format!(
            "{image}: signature 2 of {tag}: the certificate's OIDC issuer is {ACTIONS}, not {}",
            identity.issuer
        )),
        Expected::Keyless(_) => Finding::pass(format!(
            "{image}: signature 2 of {tag} verifies over {d} by {WORKFLOW} (issuer {ACTIONS}), \
             Rekor log index 42"
        )),
        Expected::Key(_) | Expected::Configured => Finding::pass(format!(
            "{image}: signature 1 of {tag} verifies over {d} (the demo's cosign key)"
        )),
    }
}

/// The demo Grafana's dashboard: every panel has data while requests flow.
pub(super) fn dashboard(uid: &str, panel: &str, within: Span, canary_weight: u8) -> Finding {
    let model = crate::slo_rules::dashboard::generate(&super::demo_slo());
    if model["uid"] != uid {
        return Finding::fail(format!("no dashboard with uid {uid} in Grafana"));
    }
    let panels = model["panels"].as_array().cloned().unwrap_or_default();
    let titles: Vec<&str> = panels.iter().filter_map(|p| p["title"].as_str()).collect();
    if !titles.contains(&panel) {
        return Finding::fail(format!(
            "dashboard {:?} ({uid}) has no panel {panel:?}; its panels: {}",
            model["title"].as_str().unwrap_or(uid),
            titles.join(", ")
        ));
    }
    Finding::pass(format!(
        "{:?} panel {panel:?}: data over the last {} (the canary takes {canary_weight} % of \
         the traffic)",
        model["title"].as_str().unwrap_or(uid),
        crate::config::slo::prom_duration(within)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::cosign::keyless::{Identity, Subject};

    #[test]
    fn the_demo_holds_mains_head_image_signed_and_the_generated_dashboards_panels() {
        let head = "4fe26b7fd77b195930b60744f41b89318815c8c2";
        let at = |r: &str| ImageRef::parse(r).unwrap();
        let tagged = at(&format!("ghcr.io/acme/summit:sha-{head}"));
        let d = digest(&tagged, head).unwrap();
        assert_eq!(
            digest(&at(&format!("ghcr.io/acme/summit@{d}")), head),
            Some(d)
        );
        for other in [
            "ghcr.io/acme/summit:sha-0000000".to_string(),
            format!("ghcr.io/acme/other:sha-{head}"),
            format!("docker.io/acme/summit:sha-{head}"),
        ] {
            assert_eq!(digest(&at(&other), head), None, "{other}");
            assert!(
                !signed(&at(&other), head, &Expected::Configured).passed,
                "{other}"
            );
        }
        assert!(signed(&tagged, head, &Expected::Configured).passed);
        let keyless = |subject: Subject, issuer: &str| {
            Expected::Keyless(Identity {
                subject,
                issuer: issuer.into(),
            })
        };
        let f = signed(
            &tagged,
            head,
            &keyless(Subject::Exact(WORKFLOW.into()), ACTIONS),
        );
        assert!(f.passed && f.evidence.contains("Rekor log index"), "{f:?}");
        let f = signed(
            &tagged,
            head,
            &keyless(
                Subject::Pattern("^https://github.com/acme/".into()),
                ACTIONS,
            ),
        );
        assert!(f.passed, "{f:?}");
        let nightly = WORKFLOW.replace("release", "nightly");
        let f = signed(
            &tagged,
            head,
            &keyless(Subject::Exact(nightly.clone()), ACTIONS),
        );
        assert!(
            !f.passed
                && f.evidence
                    .contains(&format!("is for {WORKFLOW}, not {nightly}")),
            "{f:?}"
        );
        let f = signed(
            &tagged,
            head,
            &keyless(
                Subject::Exact(WORKFLOW.into()),
                "https://accounts.google.com",
            ),
        );
        assert!(!f.passed && f.evidence.contains("OIDC issuer"), "{f:?}");

        let quarter = Span::secs(15 * 60);
        let traffic = "canary traffic share (step weight)";
        let f = dashboard("captain-slo", traffic, quarter, 25);
        assert!(f.passed && f.evidence.contains("25 %"), "{f:?}");
        assert!(!dashboard("overview", traffic, quarter, 25).passed);
        let f = dashboard("captain-slo", "Requests", quarter, 25);
        assert!(!f.passed && f.evidence.contains(traffic), "{f:?}");
    }
}
