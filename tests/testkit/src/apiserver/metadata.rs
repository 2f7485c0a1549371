//! Metadata-only answers, as the API server gives them to clients that ask with
//! `Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1` (a list) or
//! `as=PartialObjectMetadata` (a get, and each object of a watch): every object becomes a
//! `meta.k8s.io/v1 PartialObjectMetadata` holding the object's whole `metadata` (managed
//! fields and annotations included: the server strips nothing) and nothing else.

use serde_json::{Value, json};

/// What an Accept header asks for, in the first media type it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Object,
    Metadata,
    MetadataList,
}

impl Shape {
    pub fn of(accept: &str) -> Self {
        let first = accept.split(',').next().unwrap_or_default();
        let params: Vec<&str> = first.split(';').map(str::trim).collect();
        let has = |p: &str| params.contains(&p);
        if !has("g=meta.k8s.io") {
            return Shape::Object;
        }
        if has("as=PartialObjectMetadataList") {
            Shape::MetadataList
        } else if has("as=PartialObjectMetadata") {
            Shape::Metadata
        } else {
            Shape::Object
        }
    }

    /// A list answered as metadata (a real server takes either name for a list).
    pub fn metadata_list(self) -> bool {
        self != Shape::Object
    }
}

/// `object` as a PartialObjectMetadata.
pub fn partial(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object["metadata"],
    })
}

/// The PartialObjectMetadataList of a `<Kind>List` document (its items as
/// PartialObjectMetadata, its list metadata as it was).
pub fn partial_list(list: &Value) -> Value {
    let items: Vec<Value> = list["items"]
        .as_array()
        .map(|items| items.iter().map(partial).collect())
        .unwrap_or_default();
    json!({
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list["metadata"],
        "items": items,
    })
}
