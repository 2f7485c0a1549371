//! LIST as the API server answers it: read at a revision (`resourceVersion` with
//! `resourceVersionMatch`), filtered by the selectors, cut in pages by `limit`, with an
//! opaque `continue` token that pins the following pages to the first page's revision (so
//! pages are consistent while objects change) and expires with compaction (410 Expired).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::resources::ResourceType;
use super::selectors::Selectors;
use super::status::ApiError;
use super::store::Store;

/// The list request's parameters.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub selectors: Selectors,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<String>,
}

/// One page: the items (full objects), the revision it was read at, what comes next.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Value>,
    pub resource_version: u64,
    pub continue_token: Option<String>,
    pub remaining_item_count: Option<usize>,
}

/// Revision 0 in a token means "at the latest": the inconsistent continuation offered
/// after an expiry.
fn encode_continue(rv: u64, start: &str) -> String {
    let token = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{start}\u{0}")});
    URL_SAFE_NO_PAD.encode(token.to_string())
}

fn decode_continue(token: &str, t: &ResourceType) -> Result<(u64, (String, String)), ApiError> {
    let invalid = |why: &str| ApiError::bad_request(format!("continue key is not valid: {why}"));
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| invalid("not base64"))?;
    let token: Value = serde_json::from_slice(&bytes).map_err(|_| invalid("not JSON"))?;
    if token["v"] != "meta.k8s.io/v1" {
        return Err(invalid(
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        ));
    }
    let rv = token["rv"]
        .as_u64()
        .ok_or_else(|| invalid("no resourceVersion"))?;
    let start = token["start"]
        .as_str()
        .and_then(|s| s.strip_suffix('\u{0}'))
        .ok_or_else(|| invalid("no start key"))?;
    let after = if t.namespaced {
        let (ns, name) = start
            .split_once('/')
            .ok_or_else(|| invalid("bad start key"))?;
        (ns.to_string(), name.to_string())
    } else {
        (String::new(), start.to_string())
    };
    Ok((rv, after))
}

fn parse_rv(text: &str) -> Result<u64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("invalid resource version: {text}")))
}

/// Read one page of `t` (in `namespace`, when given).
pub fn list(
    store: &Store,
    t: &'static ResourceType,
    namespace: Option<&str>,
    query: &ListQuery,
) -> Result<Page, ApiError> {
    let current = store.resource_version();
    let rv_param = query.resource_version.as_deref().filter(|s| !s.is_empty());
    let (at, after) = if let Some(token) = query.continue_token.as_deref().filter(|s| !s.is_empty())
    {
        if rv_param.is_some_and(|rv| rv != "0") {
            return Err(ApiError::bad_request(
                "specifying resource version is not allowed when using continue",
            ));
        }
        let (rv, after) = decode_continue(token, t)?;
        if rv == 0 {
            (current, Some(after))
        } else if rv < store.compacted() {
            let start = if t.namespaced {
                format!("{}/{}", after.0, after.1)
            } else {
                after.1.clone()
            };
            return Err(ApiError::continue_expired(encode_continue(0, &start)));
        } else {
            (rv, Some(after))
        }
    } else {
        match (rv_param, query.resource_version_match.as_deref()) {
            (None | Some("0"), _) => (current, None),
            (Some(rv), Some("Exact")) => {
                let rv = parse_rv(rv)?;
                if rv < store.compacted() {
                    return Err(ApiError::too_old_resource_version(rv, store.compacted()));
                }
                if rv > current {
                    return Err(ApiError::too_large_resource_version(rv, current));
                }
                (rv, None)
            }
            (Some(rv), _) => {
                let rv = parse_rv(rv)?;
                if rv > current {
                    return Err(ApiError::too_large_resource_version(rv, current));
                }
                (current, None)
            }
        }
    };
    let mut matching = store
        .scan(t.plural, namespace, after, at)
        .filter(|(_, object)| query.selectors.matches(object));
    let limit = query.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
    let mut items = Vec::new();
    let mut last_key = None;
    for (key, object) in matching.by_ref() {
        items.push(object.clone());
        last_key = Some(key);
        if items.len() == limit {
            break;
        }
    }
    let mut continue_token = None;
    let mut remaining_item_count = None;
    if items.len() == limit
        && let Some(key) = last_key
    {
        let remaining = matching.count();
        if remaining > 0 {
            let start = if t.namespaced {
                format!("{}/{}", key.1, key.2)
            } else {
                key.2.clone()
            };
            continue_token = Some(encode_continue(at, &start));
            // Only an unfiltered list knows what is left, as with the real server.
            if query.selectors.is_empty() {
                remaining_item_count = Some(remaining);
            }
        }
    }
    Ok(Page {
        items,
        resource_version: at,
        continue_token,
        remaining_item_count,
    })
}

/// The `<Kind>List` document. Built-in kinds' items carry no apiVersion/kind in a list,
/// as the real server encodes them; custom resources' items keep theirs.
pub fn document(t: &'static ResourceType, page: Page) -> Value {
    let mut metadata = json!({"resourceVersion": page.resource_version.to_string()});
    if let Some(token) = page.continue_token {
        metadata["continue"] = json!(token);
    }
    if let Some(remaining) = page.remaining_item_count {
        metadata["remainingItemCount"] = json!(remaining);
    }
    let items: Vec<Value> = page
        .items
        .into_iter()
        .map(|mut item| {
            if !t.custom
                && let Some(o) = item.as_object_mut()
            {
                o.remove("apiVersion");
                o.remove("kind");
            }
            item
        })
        .collect();
    json!({
        "kind": t.list_kind(),
        "apiVersion": t.api_version(),
        "metadata": metadata,
        "items": items,
    })
}
