//! Who may do what on the test server: a per-test [`AccessPolicy`] that answers
//! SelfSubjectAccessReviews (`kubectl auth can-i`) and is enforced on every request, so a
//! denied verb is a 403 Forbidden exactly as RBAC would answer it.

use serde_json::{Value, json};

use super::status::ApiError;

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    allowed: bool,
    verb: String,
    resource: String,
    namespace: Option<String>,
}

/// Rules tried in order, the first that matches decides; none matching falls back to the
/// policy's default. A rule's resource is `namespaces`, `leases.coordination.k8s.io`,
/// `namespaces/status` or `*`; its verb is an API verb (`get`, `list`, `watch`, `create`,
/// `update`, `patch`, `delete`, `deletecollection`) or `*`.
///
/// ```ignore
/// server.set_access(AccessPolicy::allow_all().deny("delete", "namespaces"));
/// server.set_access(AccessPolicy::deny_all().allow("*", "configmaps").allow("list", "*"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AccessPolicy {
    rules: Vec<Rule>,
    otherwise: bool,
}

impl Default for AccessPolicy {
    fn default() -> Self {
        Self::allow_all()
    }
}

impl AccessPolicy {
    /// Everything allowed (a cluster-admin): the server's starting policy.
    pub fn allow_all() -> Self {
        Self {
            rules: Vec::new(),
            otherwise: true,
        }
    }

    /// Nothing allowed but what later rules allow.
    pub fn deny_all() -> Self {
        Self {
            rules: Vec::new(),
            otherwise: false,
        }
    }

    fn rule(mut self, allowed: bool, namespace: Option<&str>, verb: &str, resource: &str) -> Self {
        self.rules.push(Rule {
            allowed,
            verb: verb.to_string(),
            resource: resource.to_string(),
            namespace: namespace.map(str::to_string),
        });
        self
    }

    pub fn allow(self, verb: &str, resource: &str) -> Self {
        self.rule(true, None, verb, resource)
    }

    pub fn deny(self, verb: &str, resource: &str) -> Self {
        self.rule(false, None, verb, resource)
    }

    /// Allowed in one namespace only.
    pub fn allow_in(self, namespace: &str, verb: &str, resource: &str) -> Self {
        self.rule(true, Some(namespace), verb, resource)
    }

    /// Denied in one namespace only.
    pub fn deny_in(self, namespace: &str, verb: &str, resource: &str) -> Self {
        self.rule(false, Some(namespace), verb, resource)
    }

    /// May `verb` be done to `resource` (plural, with `/subresource` if any) of `group`
    /// in `namespace` (`None`: cluster scope)?
    pub fn allows(&self, verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> bool {
        let (plural, subresource) = match resource.split_once('/') {
            Some((plural, sub)) => (plural, Some(sub)),
            None => (resource, None),
        };
        let mut qualified = if group.is_empty() {
            plural.to_string()
        } else {
            format!("{plural}.{group}")
        };
        if let Some(sub) = subresource {
            qualified = format!("{qualified}/{sub}");
        }
        self.rules
            .iter()
            .find(|r| {
                (r.verb == "*" || r.verb == verb)
                    && (r.resource == "*" || r.resource == qualified)
                    && r.namespace
                        .as_deref()
                        .is_none_or(|ns| Some(ns) == namespace)
            })
            .map_or(self.otherwise, |r| r.allowed)
    }
}

/// Answer a `SelfSubjectAccessReview` (the request body) under `policy`.
pub fn review(policy: &AccessPolicy, body: &Value) -> Result<Value, ApiError> {
    let spec = body
        .get("spec")
        .filter(|s| s.is_object())
        .ok_or_else(|| ApiError::bad_request("SelfSubjectAccessReview has no spec"))?;
    let allowed = if let Some(attributes) = spec.get("resourceAttributes") {
        let text = |name: &str| attributes[name].as_str().unwrap_or("");
        let mut resource = text("resource").to_string();
        if !text("subresource").is_empty() {
            resource = format!("{resource}/{}", text("subresource"));
        }
        let namespace = Some(text("namespace")).filter(|ns| !ns.is_empty());
        policy.allows(text("verb"), text("group"), &resource, namespace)
    } else {
        // Non-resource URLs (/healthz, /version): decided by the default alone.
        policy.otherwise
    };
    let mut status = json!({"allowed": allowed});
    if allowed {
        status["reason"] = json!("allowed by the test API server's access policy");
    }
    Ok(json!({
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "spec": spec,
        "status": status,
    }))
}
