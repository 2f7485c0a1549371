//! What a release's shared ConfigMap holds: its documents, one `<key>.json` each, and the
//! label on everything captain creates there (`docs/architecture.md`, "Shared train state").

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use crate::sources::{SharedDoc, SharedDocs};

/// The label on what captain creates, so `kubectl get -l` finds it.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "captain");

pub(super) fn managed_labels() -> BTreeMap<String, String> {
    BTreeMap::from([(MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string())])
}

pub(super) fn parse_doc(text: &str) -> Result<SharedDoc, String> {
    serde_json::from_str(text).map_err(|e| format!("is not a shared document: {e}"))
}

/// The documents in `configmap` (none when it does not exist), and what is wrong with
/// those that cannot be read. Keys that do not end in `.json` are not captain's.
pub fn docs_in(configmap: Option<&ConfigMap>) -> (SharedDocs, Vec<String>) {
    let mut docs = SharedDocs::new();
    let mut damaged = Vec::new();
    let data = configmap.and_then(|c| c.data.as_ref());
    for (entry, text) in data.into_iter().flatten() {
        let Some(key) = entry.strip_suffix(".json") else {
            continue;
        };
        match parse_doc(text) {
            Ok(doc) => {
                docs.insert(key.to_string(), doc);
            }
            Err(why) => damaged.push(format!("{entry} {why}")),
        }
    }
    (docs, damaged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn configmap(data: &[(&str, &str)]) -> ConfigMap {
        ConfigMap {
            data: Some(
                data.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..ConfigMap::default()
        }
    }

    #[test]
    fn the_documents_are_the_json_keys_and_a_damaged_one_is_named() {
        let doc = SharedDoc {
            generation: 3,
            body: json!({"step": 2}),
            written_by: "ana@a".into(),
            written_at: "2026-11-20T10:00:00Z".parse().unwrap(),
        };
        let text = serde_json::to_string(&doc).unwrap();
        let cm = configmap(&[
            ("train.json", &text),
            ("plan.json", "{\"generation\": 1}"),
            ("README", "not ours"),
        ]);
        let (docs, damaged) = docs_in(Some(&cm));
        assert_eq!(docs.len(), 1);
        assert_eq!(docs["train"], doc);
        assert_eq!(damaged.len(), 1);
        assert!(
            damaged[0].starts_with("plan.json is not a shared document"),
            "{damaged:?}"
        );
        assert_eq!(docs_in(None), (SharedDocs::new(), Vec::new()));
    }
}
