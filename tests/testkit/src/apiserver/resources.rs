//! The resource types the test API server serves: where each lives, what it is called,
//! which verbs it takes and how the server treats it. Nothing here holds state.

/// One served resource type: where it lives, what it is called, what may be done to it.
#[derive(Debug)]
pub struct ResourceType {
    /// `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub verbs: &'static [&'static str],
    /// Has a `/status` subresource: the main resource's writes keep the stored status.
    pub status_subresource: bool,
    /// `metadata.generation` counts changes to `spec`.
    pub generation: bool,
    /// A custom resource: list items keep `apiVersion` and `kind` (built-in lists drop them).
    pub custom: bool,
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

pub const NAMESPACES: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    namespaced: false,
    short_names: &["ns"],
    categories: &[],
    verbs: &[
        "create", "delete", "get", "list", "patch", "update", "watch",
    ],
    status_subresource: true,
    generation: false,
    custom: false,
};

pub const SECRETS: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "secrets",
    singular: "secret",
    kind: "Secret",
    namespaced: true,
    short_names: &[],
    categories: &[],
    verbs: ALL_VERBS,
    status_subresource: false,
    generation: false,
    custom: false,
};

pub const CONFIGMAPS: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "configmaps",
    singular: "configmap",
    kind: "ConfigMap",
    namespaced: true,
    short_names: &["cm"],
    categories: &[],
    verbs: ALL_VERBS,
    status_subresource: false,
    generation: false,
    custom: false,
};

pub const LEASES: ResourceType = ResourceType {
    group: "coordination.k8s.io",
    version: "v1",
    plural: "leases",
    singular: "lease",
    kind: "Lease",
    namespaced: true,
    short_names: &[],
    categories: &[],
    verbs: ALL_VERBS,
    status_subresource: false,
    generation: false,
    custom: false,
};

pub const INGRESSES: ResourceType = ResourceType {
    group: "networking.k8s.io",
    version: "v1",
    plural: "ingresses",
    singular: "ingress",
    kind: "Ingress",
    namespaced: true,
    short_names: &["ing"],
    categories: &[],
    verbs: ALL_VERBS,
    status_subresource: true,
    generation: true,
    custom: false,
};

pub const HTTPROUTES: ResourceType = ResourceType {
    group: "gateway.networking.k8s.io",
    version: "v1",
    plural: "httproutes",
    singular: "httproute",
    kind: "HTTPRoute",
    namespaced: true,
    short_names: &[],
    categories: &["gateway-api"],
    verbs: ALL_VERBS,
    status_subresource: true,
    generation: true,
    custom: true,
};

pub const DEPLOYMENTS: ResourceType = ResourceType {
    group: "apps",
    version: "v1",
    plural: "deployments",
    singular: "deployment",
    kind: "Deployment",
    namespaced: true,
    short_names: &["deploy"],
    categories: &["all"],
    verbs: ALL_VERBS,
    status_subresource: true,
    generation: true,
    custom: false,
};

pub const SELF_SUBJECT_ACCESS_REVIEWS: ResourceType = ResourceType {
    group: "authorization.k8s.io",
    version: "v1",
    plural: "selfsubjectaccessreviews",
    singular: "selfsubjectaccessreview",
    kind: "SelfSubjectAccessReview",
    namespaced: false,
    short_names: &[],
    categories: &[],
    verbs: &["create"],
    status_subresource: false,
    generation: false,
    custom: false,
};

/// Every served type, stored ones first; the access reviews are answered, never stored.
pub static TYPES: [&ResourceType; 8] = [
    &NAMESPACES,
    &SECRETS,
    &CONFIGMAPS,
    &LEASES,
    &INGRESSES,
    &HTTPROUTES,
    &DEPLOYMENTS,
    &SELF_SUBJECT_ACCESS_REVIEWS,
];

impl ResourceType {
    /// `v1` or `group/version`, as objects spell their `apiVersion`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `namespaces` or `leases.coordination.k8s.io`: the name kubectl and RBAC use.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub fn is_stored(&self) -> bool {
        self.plural != SELF_SUBJECT_ACCESS_REVIEWS.plural
    }

    /// The `kind` of its list: `NamespaceList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }
}

/// The type served at `group/version/plural`.
pub fn by_path(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    TYPES
        .iter()
        .copied()
        .find(|t| t.group == group && t.version == version && t.plural == plural)
}

/// The type an object names with its `apiVersion` and `kind`.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    TYPES
        .iter()
        .copied()
        .find(|t| t.api_version() == api_version && t.kind == kind)
}

/// The type named `namespaces`, `leases.coordination.k8s.io` or `ns`, as the in-process
/// methods take them.
pub fn by_name(name: &str) -> Option<&'static ResourceType> {
    TYPES
        .iter()
        .copied()
        .find(|t| t.plural == name || t.qualified() == name || t.short_names.contains(&name))
}
