//! Canonical JSON (RFC 8785) as Rekor signs a bundle's Payload: members sorted, no
//! whitespace. Rekor's entries hold strings and integers only, so a fraction is refused
//! rather than given a form that may differ from Rekor's.

use serde_json::Value;

pub fn canonical(value: &Value) -> Result<String, String> {
    let mut out = String::new();
    write(value, &mut out)?;
    Ok(out)
}

fn write(value: &Value, out: &mut String) -> Result<(), String> {
    match value {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => {
            return Err(format!("{n} is not an integer; a Rekor entry holds none"));
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out)?;
            }
            out.push(']');
        }
        Value::Object(members) => {
            // RFC 8785 orders by UTF-16 code units; for the keys Rekor writes that is the
            // byte order, and sorting here does not depend on serde_json's map order.
            let mut keys: Vec<&String> = members.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write(&members[key], out)?;
            }
            out.push('}');
        }
        // serde_json writes strings, integers and literals as RFC 8785 does.
        other => out.push_str(&other.to_string()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_are_sorted_and_nothing_is_spaced() {
        let entry = json!({
            "logIndex": 5179,
            "logID": "c0d2",
            "integratedTime": 1624396085,
            "body": "eyJh",
        });
        assert_eq!(
            canonical(&entry).unwrap(),
            r#"{"body":"eyJh","integratedTime":1624396085,"logID":"c0d2","logIndex":5179}"#
        );
        let nested = json!({"b": [1, {"z": null, "a": true}], "a": "é\n\"\u{1f}"});
        assert_eq!(
            canonical(&nested).unwrap(),
            "{\"a\":\"é\\n\\\"\\u001f\",\"b\":[1,{\"a\":true,\"z\":null}]}"
        );
        // UTF-16 order puts U+FB01 (one code unit) after U+1F600 (a surrogate pair), unlike
        // the order of code points.
        let order = json!({"\u{fb01}": 1, "\u{1f600}": 2});
        assert_eq!(
            canonical(&order).unwrap(),
            "{\"\u{1f600}\":2,\"\u{fb01}\":1}"
        );
        assert!(canonical(&json!({"t": 1.5})).is_err());
    }
}
