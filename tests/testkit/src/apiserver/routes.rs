//! The HTTP face: one handler that authenticates (a wrong bearer token → 401), records the request,
//! answers discovery, parses resource paths (`/api/v1[/namespaces/<ns>]/<plural>[/<name>
//! [/status]]` and `/apis/<group>/<version>/...`), authorizes against the access policy (→
//! 403) and dispatches the verb. Answers are JSON, errors `Status` objects.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use super::access;
use super::discovery;
use super::list::{self, ListQuery};
use super::metadata::{self, Shape};
use super::patch::PatchType;
use super::protobuf;
use super::resources::{self, ResourceType};
use super::selectors::{FieldSelector, LabelSelector, Selectors};
use super::shared::{RecordedRequest, Shared, lock};
use super::status::{ApiError, json_response};
use super::table::{self, IncludeObject};
use super::watch::{self, WatchRequest};
use super::writes::Deletion;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(serve).with_state(shared)
}

/// A request for stored objects, parsed from its path.
#[derive(Debug)]
struct Target {
    t: &'static ResourceType,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

type Params = HashMap<String, String>;

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn serve(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(params): Query<Params>,
    body: Bytes,
) -> Response {
    let accept = header_text(&headers, header::ACCEPT);
    let content_type = header_text(&headers, header::CONTENT_TYPE);
    lock(&shared.requests).push(RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        accept: accept.clone(),
        content_type: content_type.clone(),
        body: recorded_body(&content_type, &body),
    });
    // A wrong credential is refused. None at all is let in: kubectl (client-go) never sends
    // its bearer token over plain HTTP, and this server speaks nothing else.
    let authorization = header_text(&headers, header::AUTHORIZATION);
    if !authorization.is_empty() && authorization != format!("Bearer {}", shared.token) {
        return ApiError::unauthorized().into_response();
    }
    if let Some(document) = discovery::answer(&shared.address, &method, uri.path()) {
        return document;
    }
    let target = match parse_path(uri.path()) {
        Ok(target) => target,
        Err(error) => return error.into_response(),
    };
    let request = Request {
        shared,
        method,
        params,
        accept,
        content_type,
        body,
    };
    match request.dispatch(target) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// A request body as JSON for the log, protobuf decoded; `None` when there is none or it
/// is neither.
fn recorded_body(content_type: &str, body: &[u8]) -> Option<Value> {
    if body.is_empty() {
        return None;
    }
    if content_type.starts_with("application/vnd.kubernetes.protobuf") {
        return protobuf::decode(body, content_type).ok();
    }
    serde_json::from_slice(body).ok()
}

fn parse_path(path: &str) -> Result<Target, ApiError> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(ApiError::no_route()),
    };
    let lookup =
        |plural: &str| resources::by_path(group, version, plural).ok_or_else(ApiError::no_route);
    let target = |t, namespace: Option<&str>, name: Option<&str>, sub: Option<&str>| Target {
        t,
        namespace: namespace.map(str::to_string),
        name: name.map(str::to_string),
        subresource: sub.map(str::to_string),
    };
    let core_namespaces = group.is_empty() && version == "v1";
    match rest {
        // /api/v1/namespaces/<ns>/<plural>[/<name>[/<sub>]]: a namespaced type in one
        // namespace; /api/v1/namespaces/<name>/status is the namespace's own subresource.
        ["namespaces", ns, plural, tail @ ..]
            if !(core_namespaces && matches!(*plural, "status" | "finalize")) =>
        {
            let t = lookup(plural)?;
            if !t.namespaced {
                return Err(ApiError::no_route());
            }
            match tail {
                [] => Ok(target(t, Some(ns), None, None)),
                [name] => Ok(target(t, Some(ns), Some(name), None)),
                [name, sub] => Ok(target(t, Some(ns), Some(name), Some(sub))),
                _ => Err(ApiError::no_route()),
            }
        }
        [plural, tail @ ..] => {
            let t = lookup(plural)?;
            match tail {
                [] => Ok(target(t, None, None, None)),
                [name] if !t.namespaced => Ok(target(t, None, Some(name), None)),
                [name, sub] if !t.namespaced => Ok(target(t, None, Some(name), Some(sub))),
                _ => Err(ApiError::no_route()),
            }
        }
        [] => Err(ApiError::no_route()),
    }
}

/// The API verb and resource of a recorded request, as audit logs name them (`list
/// namespaces`, `watch configmaps`, `create selfsubjectaccessreviews`, `update
/// leases`); discovery and anything else the server answers without a resource is
/// `get discovery`.
pub fn verb_and_resource(request: &RecordedRequest) -> (&'static str, String) {
    let Ok(target) = parse_path(&request.path) else {
        return ("get", "discovery".to_string());
    };
    let watch = request
        .param("watch")
        .is_some_and(|w| w == "1" || w == "true");
    let verb = match (request.method.as_str(), target.name.is_some()) {
        ("GET", false) if watch => "watch",
        ("GET", false) => "list",
        ("GET", true) => "get",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", false) => "deletecollection",
        ("DELETE", true) => "delete",
        _ => "other",
    };
    let resource = match &target.subresource {
        Some(sub) => format!("{}/{sub}", target.t.plural),
        None => target.t.plural.to_string(),
    };
    (verb, resource)
}

struct Request {
    shared: Arc<Shared>,
    method: Method,
    params: Params,
    accept: String,
    content_type: String,
    body: Bytes,
}

impl Request {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.param(name), Some("1" | "true"))
    }

    fn dry_run(&self) -> bool {
        self.param("dryRun") == Some("All")
    }

    fn json_body(&self) -> Result<Value, ApiError> {
        if self.body.is_empty() {
            return Ok(json!({}));
        }
        if self
            .content_type
            .starts_with("application/vnd.kubernetes.protobuf")
        {
            return protobuf::decode(&self.body, &self.content_type);
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            ApiError::bad_request(format!("the body of the request is not valid JSON: {e}"))
        })
    }

    fn selectors(&self, t: &'static ResourceType) -> Result<Selectors, ApiError> {
        Ok(Selectors {
            labels: LabelSelector::parse(self.param("labelSelector").unwrap_or(""))?,
            fields: FieldSelector::parse(self.param("fieldSelector").unwrap_or(""), t)?,
        })
    }

    /// The API verb a method on a collection or an object is.
    fn verb(&self, target: &Target) -> &'static str {
        match (&self.method, target.name.is_some()) {
            (&Method::GET, false) if self.flag("watch") => "watch",
            (&Method::GET, false) => "list",
            (&Method::GET, true) => "get",
            (&Method::POST, _) => "create",
            (&Method::PUT, _) => "update",
            (&Method::PATCH, _) => "patch",
            (&Method::DELETE, false) => "deletecollection",
            (&Method::DELETE, true) => "delete",
            _ => "",
        }
    }

    fn authorize(&self, target: &Target, verb: &str) -> Result<(), ApiError> {
        let t = target.t;
        let resource = match &target.subresource {
            Some(sub) => format!("{}/{sub}", t.plural),
            None => t.plural.to_string(),
        };
        let namespace = target.namespace.as_deref();
        let decision = lock(&self.shared.access).decide(verb, t.group, &resource, namespace);
        if decision.allowed {
            return Ok(());
        }
        let subject = match &target.name {
            Some(name) => format!("{} \"{name}\"", t.qualified()),
            None => t.qualified(),
        };
        let scope = match namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_string(),
        };
        let mut message = format!(
            "{subject} is forbidden: User \"{}\" cannot {verb} resource \"{resource}\" in API \
             group \"{}\" {scope}",
            self.shared.user, t.group
        );
        // The real server appends the authorizer's reason when there is one.
        if let Some(reason) = decision.reason {
            message = format!("{message}: {reason}");
        }
        Err(ApiError::forbidden(
            message,
            t,
            target.name.as_deref().unwrap_or(""),
        ))
    }

    fn dispatch(self, target: Target) -> Result<Response, ApiError> {
        let verb = self.verb(&target);
        if verb.is_empty() || !target.t.verbs.contains(&verb) {
            return Err(ApiError::method_not_allowed());
        }
        // Across all namespaces a namespaced type is only listed and watched.
        if target.t.namespaced && target.namespace.is_none() && !matches!(verb, "list" | "watch") {
            return Err(ApiError::method_not_allowed());
        }
        if target.t.is_stored() {
            self.authorize(&target, verb)?;
        }
        if let Some(sub) = target.subresource.as_deref()
            && !(sub == "status"
                && target.t.status_subresource
                && matches!(verb, "get" | "update" | "patch"))
        {
            return Err(ApiError::no_route());
        }
        let t = target.t;
        let ns = target.namespace.as_deref();
        let name = target.name.as_deref().unwrap_or_default();
        let sub = target.subresource.as_deref();
        let ok = |code: StatusCode, body: &Value| Ok(json_response(code, body));
        match verb {
            "list" => self.list(&target),
            "watch" => self.watch(&target),
            "create" if !t.is_stored() => {
                let review = access::review(&lock(&self.shared.access), &self.json_body()?)?;
                ok(StatusCode::CREATED, &review)
            }
            "create" => {
                let created = self
                    .shared
                    .create(t, ns, self.json_body()?, self.dry_run())?;
                ok(StatusCode::CREATED, &created)
            }
            "get" => {
                let object = self
                    .shared
                    .object(t, ns, name)
                    .ok_or_else(|| ApiError::not_found(t, name))?;
                if table::wants_table(&self.accept) {
                    let include = IncludeObject::parse(self.param("includeObject"));
                    let rv = object["metadata"]["resourceVersion"].clone();
                    let document = table::table(
                        t,
                        &[object],
                        json!({"resourceVersion": rv}),
                        include,
                        Utc::now(),
                    );
                    return ok(StatusCode::OK, &document);
                }
                if Shape::of(&self.accept) == Shape::Metadata {
                    return ok(StatusCode::OK, &metadata::partial(&object));
                }
                ok(StatusCode::OK, &object)
            }
            "update" => {
                let updated =
                    self.shared
                        .update(t, ns, name, self.json_body()?, sub, self.dry_run())?;
                ok(StatusCode::OK, &updated)
            }
            "patch" => {
                let kind = PatchType::from_content_type(&self.content_type)?;
                let (patched, created) =
                    self.shared
                        .patch(t, ns, name, kind, &self.body, sub, self.dry_run())?;
                ok(
                    if created {
                        StatusCode::CREATED
                    } else {
                        StatusCode::OK
                    },
                    &patched,
                )
            }
            "delete" => match self
                .shared
                .delete(t, ns, name, &self.json_body()?, self.dry_run())?
            {
                Deletion::Pending(object) => ok(StatusCode::OK, &object),
                Deletion::Gone(status) => ok(StatusCode::OK, &status),
            },
            "deletecollection" => {
                let selectors = self.selectors(t)?;
                let page = list::list(
                    &lock(&self.shared.store),
                    t,
                    ns,
                    &ListQuery {
                        selectors,
                        ..Default::default()
                    },
                )?;
                let options = self.json_body()?;
                for object in &page.items {
                    let name = object["metadata"]["name"].as_str().unwrap_or_default();
                    let namespace = object["metadata"]["namespace"].as_str();
                    // Already gone meanwhile is fine for a collection delete.
                    let _ = self
                        .shared
                        .delete(t, namespace, name, &options, self.dry_run());
                }
                ok(
                    StatusCode::OK,
                    &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
                )
            }
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    fn list(&self, target: &Target) -> Result<Response, ApiError> {
        let t = target.t;
        let query = ListQuery {
            selectors: self.selectors(t)?,
            limit: self.param("limit").and_then(|l| l.parse().ok()),
            continue_token: self.param("continue").map(str::to_string),
            resource_version: self.param("resourceVersion").map(str::to_string),
            resource_version_match: self.param("resourceVersionMatch").map(str::to_string),
        };
        let page = list::list(
            &lock(&self.shared.store),
            t,
            target.namespace.as_deref(),
            &query,
        )?;
        let document = if table::wants_table(&self.accept) {
            let mut metadata = json!({"resourceVersion": page.resource_version.to_string()});
            if let Some(token) = &page.continue_token {
                metadata["continue"] = json!(token);
            }
            if let Some(remaining) = page.remaining_item_count {
                metadata["remainingItemCount"] = json!(remaining);
            }
            let include = IncludeObject::parse(self.param("includeObject"));
            table::table(t, &page.items, metadata, include, Utc::now())
        } else if Shape::of(&self.accept).metadata_list() {
            metadata::partial_list(&list::document(t, page))
        } else {
            list::document(t, page)
        };
        Ok(json_response(StatusCode::OK, &document))
    }

    fn watch(&self, target: &Target) -> Result<Response, ApiError> {
        let t = target.t;
        let timeout = self
            .param("timeoutSeconds")
            .and_then(|s| s.parse::<u64>().ok())
            .map_or(watch::DEFAULT_TIMEOUT, Duration::from_secs);
        let request = WatchRequest {
            t,
            namespace: target.namespace.clone(),
            selectors: self.selectors(t)?,
            resource_version: self.param("resourceVersion").map(str::to_string),
            bookmarks: self.flag("allowWatchBookmarks"),
            send_initial_events: self.param("sendInitialEvents").map(|v| v == "true"),
            timeout,
            table: table::wants_table(&self.accept)
                .then(|| IncludeObject::parse(self.param("includeObject"))),
            metadata_only: Shape::of(&self.accept) == Shape::Metadata,
        };
        Ok(watch::respond(Arc::clone(&self.shared), request))
    }
}
