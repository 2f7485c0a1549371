//! The API server's failures as `meta/v1 Status` bodies with their HTTP codes, worded as a
//! real API server words them (clients match on `reason` and `code`; people read `message`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::resources::ResourceType;

/// A failed request: the `Status` the server answers with.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
    /// The Status's list metadata: an expired continue token's inconsistent successor.
    pub continue_token: Option<String>,
}

/// `{"name", "group", "kind"}` as the server fills a Status's details (kind is the plural).
fn details(t: &ResourceType, name: &str) -> Value {
    let mut details = json!({"name": name, "kind": t.plural});
    if !t.group.is_empty() {
        details["group"] = json!(t.group);
    }
    details
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
            continue_token: None,
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn not_found(t: &ResourceType, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", t.qualified()),
        )
        .with_details(details(t, name))
    }

    /// A path no served resource answers.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    pub fn already_exists(t: &ResourceType, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", t.qualified()),
        )
        .with_details(details(t, name))
    }

    /// The optimistic-concurrency failure: the writer's resourceVersion is not the stored one.
    pub fn conflict(t: &ResourceType, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                t.qualified()
            ),
        )
        .with_details(details(t, name))
    }

    pub fn stale(t: &ResourceType, name: &str) -> Self {
        Self::conflict(
            t,
            name,
            "the object has been modified; please apply your changes to the latest version \
             and try again",
        )
    }

    /// 410 Gone, reason Expired: history the request needs was compacted away.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 410 for a continue token from before a compaction; `inconsistent` continues at the
    /// latest revision instead, as the real server offers.
    pub fn continue_expired(inconsistent: String) -> Self {
        let mut error = Self::expired(
            "The provided continue parameter is too old to display a consistent list result. \
             You can start a new list without the continue parameter, or use the continue \
             token in this response to retrieve the remainder of the results. Continuing with \
             the provided token results in an inconsistent list - objects that were created, \
             modified, or deleted between the time the first chunk was returned and now may \
             show up in the list.",
        );
        error.continue_token = Some(inconsistent);
        error
    }

    /// 504: a resourceVersion newer than the server has (the real one waits a little first).
    pub fn too_large_resource_version(asked: u64, current: u64) -> Self {
        Self::new(
            504,
            "Timeout",
            format!("Timeout: Too large resource version: {asked}, current: {current}"),
        )
        .with_details(json!({"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1}))
    }

    pub fn too_old_resource_version(asked: u64, oldest: u64) -> Self {
        Self::expired(format!("too old resource version: {asked} ({oldest})"))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 422: the object (or the patch applied to it) does not validate.
    pub fn invalid(t: &ResourceType, name: &str, field: &str, message: &str) -> Self {
        Self::new(
            422,
            "Invalid",
            format!("{} \"{name}\" is invalid: {field}: {message}", t.kind),
        )
        .with_details(json!({
            "name": name,
            "group": t.group,
            "kind": t.kind,
            "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}],
        }))
    }

    /// 422 for a JSON patch that cannot be applied, as the server's patcher reports it.
    pub fn patch_not_applicable(why: &str) -> Self {
        Self::new(
            422,
            "Invalid",
            format!("the server rejected our request due to an error in our request: {why}"),
        )
        .with_details(json!({"causes": [{"message": why}]}))
    }

    pub fn forbidden(message: impl Into<String>, t: &ResourceType, name: &str) -> Self {
        Self::new(403, "Forbidden", message).with_details(details(t, name))
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
        .with_details(json!({}))
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format ({content_type}) - accepted \
                 media types include: application/json-patch+json, \
                 application/merge-patch+json, application/apply-patch+yaml, \
                 application/strategic-merge-patch+json"
            ),
        )
    }

    /// The `meta/v1 Status` object.
    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        if let Some(token) = &self.continue_token {
            status["metadata"]["continue"] = json!(token);
        }
        status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        json_response(code, &self.status())
    }
}

/// What a delete that removed the object at once answers.
pub fn deleted(t: &ResourceType, name: &str, uid: &str) -> Value {
    let mut details = details(t, name);
    details["uid"] = json!(uid);
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

/// A JSON body with the content type every answer of this server carries.
pub fn json_response(code: StatusCode, body: &Value) -> Response {
    (
        code,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
