//! What the demo's registry and Grafana hold for the publishing probes: the image of
//! main's head, `ghcr.io/acme/summit:sha-<head>`, signed with the demo's cosign key, and
//! the dashboard `captain slo dashboard` makes from the demo slo.yml, its panels drawn
//! from the world's traffic.

use crate::config::Span;
use crate::sources::Finding;
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

/// The image's signature, as `cosign verify --key` would judge it.
pub(super) fn signed(image: &ImageRef, head: &str) -> Finding {
    match digest(image, head) {
        Some(d) => Finding::pass(format!(
            "{image}: signature 1 of {} verifies over {d} (the demo's cosign key)",
            crate::sources::cosign::signature_tag(&d)
        )),
        None => Finding::fail(format!("no image {image} in the registry")),
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
            assert!(!signed(&at(&other), head).passed, "{other}");
        }
        assert!(signed(&tagged, head).passed);

        let quarter = Span::secs(15 * 60);
        let traffic = "canary traffic share (step weight)";
        let f = dashboard("captain-slo", traffic, quarter, 25);
        assert!(f.passed && f.evidence.contains("25 %"), "{f:?}");
        assert!(!dashboard("overview", traffic, quarter, 25).passed);
        let f = dashboard("captain-slo", "Requests", quarter, 25);
        assert!(!f.passed && f.evidence.contains(traffic), "{f:?}");
    }
}
