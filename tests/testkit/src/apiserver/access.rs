//! Who may do what on the test server: a per-test [`AccessPolicy`] that answers
//! SelfSubjectAccessReviews (`kubectl auth can-i`) and is enforced on every request, so a
//! denied verb is a 403 Forbidden exactly as RBAC would answer it. A rule may carry the
//! reason an authorizer gives (RBAC gives none when it denies; a webhook may).

use serde_json::{Value, json};

use super::status::ApiError;

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    allowed: bool,
    verb: String,
    resource: String,
    namespace: Option<String>,
    reason: Option<String>,
}

/// What the policy decided, and the authorizer's reason when it gave one.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: Option<String>,
}

/// Rules tried in order, the first that matches decides; none matching falls back to the
/// policy's default. A rule's resource is `namespaces`, `leases.coordination.k8s.io`,
/// `namespaces/status` or `*`; its verb is an API verb (`get`, `list`, `watch`, `create`,
/// `update`, `patch`, `delete`, `deletecollection`) or `*`.
///
/// ```text
/// server.set_access(AccessPolicy::allow_all().deny("delete", "namespaces"));
/// server.set_access(AccessPolicy::deny_all().allow("*", "configmaps").allow("list", "*"));
/// server.set_access(AccessPolicy::allow_all().deny("delete", "namespaces").because("frozen"));
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
            reason: None,
        });
        self
    }

    /// The reason the authorizer gives when the rule before this one decides.
    pub fn because(mut self, reason: &str) -> Self {
        let rule = self
            .rules
            .last_mut()
            .expect("because() gives the reason of the rule before it");
        rule.reason = Some(reason.to_string());
        self
    }

    /// `verb` on `resource` allowed everywhere (`"*"` for any).
    pub fn allow(self, verb: &str, resource: &str) -> Self {
        self.rule(true, None, verb, resource)
    }

    /// `verb` on `resource` refused everywhere (`"*"` for any).
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
        self.decide(verb, group, resource, namespace).allowed
    }

    /// As [`allows`](Self::allows), with the reason of the rule that decided.
    pub fn decide(
        &self,
        verb: &str,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> Decision {
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
            .map_or(
                Decision {
                    allowed: self.otherwise,
                    reason: None,
                },
                |r| Decision {
                    allowed: r.allowed,
                    reason: r.reason.clone(),
                },
            )
    }
}

/// Answer a `SelfSubjectAccessReview` (the request body) under `policy`.
pub fn review(policy: &AccessPolicy, body: &Value) -> Result<Value, ApiError> {
    let spec = body
        .get("spec")
        .filter(|s| s.is_object())
        .ok_or_else(|| ApiError::bad_request("SelfSubjectAccessReview has no spec"))?;
    let decision = if let Some(attributes) = spec.get("resourceAttributes") {
        let text = |name: &str| attributes[name].as_str().unwrap_or("");
        let mut resource = text("resource").to_string();
        if !text("subresource").is_empty() {
            resource = format!("{resource}/{}", text("subresource"));
        }
        let namespace = Some(text("namespace")).filter(|ns| !ns.is_empty());
        policy.decide(text("verb"), text("group"), &resource, namespace)
    } else {
        // Non-resource URLs (/healthz, /version): decided by the default alone.
        Decision {
            allowed: policy.otherwise,
            reason: None,
        }
    };
    let mut status = json!({"allowed": decision.allowed});
    match (decision.reason, decision.allowed) {
        (Some(reason), _) => status["reason"] = json!(reason),
        (None, true) => {
            status["reason"] = json!("allowed by the test API server's access policy");
        }
        // RBAC denies by having no rule, and gives no reason.
        (None, false) => {}
    }
    Ok(json!({
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "spec": spec,
        "status": status,
    }))
}
