//! May the user captain runs as do something? Asked of the API server as a
//! SelfSubjectAccessReview, so the answer comes from whatever authorizers the cluster runs
//! (RBAC, webhooks) rather than from captain's reading of roles.
//!
//! Creates the review and nothing else: the review is answered, never stored.

use chrono::{DateTime, Utc};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    SubjectAccessReviewStatus,
};
use kube::api::PostParams;
use kube::{Api, Client};

use super::client::source_error;
use crate::sources::{Access, AccessCheck, SourceError};

/// Ask the API server `client` reaches whether `check` would be allowed.
pub async fn review(
    client: &Client,
    check: &AccessCheck,
    now: DateTime<Utc>,
) -> Result<Access, SourceError> {
    let answered = Api::<SelfSubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &request(check))
        .await
        .map_err(|e| source_error(&e, &format!("review access to {check}"), now))?;
    Ok(access(answered.status.unwrap_or_default()))
}

/// The review for `check`; `pods/log` is the `log` subresource of `pods`, as RBAC names it.
fn request(check: &AccessCheck) -> SelfSubjectAccessReview {
    let (resource, subresource) = match check.resource.split_once('/') {
        Some((resource, sub)) => (resource, Some(sub.to_string())),
        None => (check.resource.as_str(), None),
    };
    SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(check.verb.clone()),
                group: Some(check.group.clone()),
                resource: Some(resource.to_string()),
                subresource,
                namespace: check.namespace.clone(),
                name: check.name.clone(),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    }
}

/// RBAC denies by having no rule, and says nothing; a webhook may say why, and an
/// authorizer that failed says what went wrong. Whatever was said is the reason.
fn access(status: SubjectAccessReviewStatus) -> Access {
    if status.allowed {
        return Access::Allowed;
    }
    let said: Vec<String> = [status.reason, status.evaluation_error]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    Access::Denied {
        reason: if said.is_empty() {
            "denied by RBAC".to_string()
        } else {
            said.join("; ")
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subresource_is_asked_apart_from_its_resource() {
        let check = AccessCheck::new("get", "", "pods/log").in_namespace("prod");
        let attributes = request(&check).spec.resource_attributes.unwrap();
        assert_eq!(attributes.resource.as_deref(), Some("pods"));
        assert_eq!(attributes.subresource.as_deref(), Some("log"));
        assert_eq!(attributes.namespace.as_deref(), Some("prod"));
        assert_eq!(attributes.name, None);
    }

    #[test]
    fn a_silent_denial_is_rbacs_and_an_evaluation_error_is_kept() {
        assert_eq!(
            access(SubjectAccessReviewStatus::default()),
            Access::Denied {
                reason: "denied by RBAC".into()
            }
        );
        let failed = SubjectAccessReviewStatus {
            evaluation_error: Some("role.rbac.authorization.k8s.io \"deployer\" not found".into()),
            ..SubjectAccessReviewStatus::default()
        };
        assert_eq!(
            access(failed),
            Access::Denied {
                reason: "role.rbac.authorization.k8s.io \"deployer\" not found".into()
            }
        );
    }
}
