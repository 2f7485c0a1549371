//! `labelSelector` and `fieldSelector` as the API server parses and applies them: label
//! requirements (`key`, `!key`, `key=value`, `key==value`, `key!=value`, `key in (a,b)`,
//! `key notin (a,b)`, comma-joined) and field requirements (`metadata.name`,
//! `metadata.namespace`, plus `type` for Secrets and `status.phase` for Namespaces).

use serde_json::Value;

use super::resources::ResourceType;
use super::status::ApiError;

#[derive(Debug, Clone, PartialEq)]
enum LabelRequirement {
    Exists(String),
    Absent(String),
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// A parsed `labelSelector`; the empty one matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<LabelRequirement>);

/// Split at the commas outside parentheses.
fn split_requirements(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn valid_name_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn label_key(key: &str) -> Result<String, ApiError> {
    let key = key.trim();
    let name = match key.split_once('/') {
        Some((prefix, name)) if !prefix.is_empty() && prefix.len() <= 253 => name,
        Some(_) => "",
        None => key,
    };
    if valid_name_part(name) {
        Ok(key.to_string())
    } else {
        Err(unparsable(
            key,
            "name part must consist of alphanumeric characters, '-', '_' or '.'",
        ))
    }
}

fn label_value(value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || valid_name_part(value) {
        Ok(value.to_string())
    } else {
        Err(unparsable(
            value,
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'",
        ))
    }
}

fn unparsable(what: &str, why: &str) -> ApiError {
    ApiError::bad_request(format!(
        "unable to parse requirement: values[0][{what}]: Invalid value: \"{what}\": {why}"
    ))
}

fn set_requirement(part: &str) -> Result<Option<LabelRequirement>, ApiError> {
    let Some(open) = part.find('(') else {
        return Ok(None);
    };
    let Some(values) = part[open + 1..].strip_suffix(')') else {
        return Err(ApiError::bad_request(format!(
            "unable to parse requirement: found '{part}', expected: ')'"
        )));
    };
    let mut head = part[..open].split_whitespace();
    let (Some(key), Some(operator), None) = (head.next(), head.next(), head.next()) else {
        return Err(ApiError::bad_request(format!(
            "unable to parse requirement: found '{part}', expected: in, notin"
        )));
    };
    let key = label_key(key)?;
    let values = values
        .split(',')
        .map(label_value)
        .collect::<Result<Vec<_>, _>>()?;
    match operator {
        "in" => Ok(Some(LabelRequirement::In(key, values))),
        "notin" => Ok(Some(LabelRequirement::NotIn(key, values))),
        other => Err(ApiError::bad_request(format!(
            "unable to parse requirement: found '{other}', expected: in, notin"
        ))),
    }
}

impl LabelSelector {
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let mut requirements = Vec::new();
        if text.trim().is_empty() {
            return Ok(Self(requirements));
        }
        for part in split_requirements(text) {
            let part = part.trim();
            let requirement = if let Some(set) = set_requirement(part)? {
                set
            } else if let Some(key) = part.strip_prefix('!') {
                LabelRequirement::Absent(label_key(key)?)
            } else if let Some((key, value)) = part.split_once("!=") {
                LabelRequirement::NotEquals(label_key(key)?, label_value(value)?)
            } else if let Some((key, value)) = part.split_once("==") {
                LabelRequirement::Equals(label_key(key)?, label_value(value)?)
            } else if let Some((key, value)) = part.split_once('=') {
                LabelRequirement::Equals(label_key(key)?, label_value(value)?)
            } else {
                LabelRequirement::Exists(label_key(part)?)
            };
            requirements.push(requirement);
        }
        Ok(Self(requirements))
    }

    pub fn matches(&self, object: &Value) -> bool {
        let labels = &object["metadata"]["labels"];
        let label = |key: &str| labels.get(key).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelRequirement::Exists(k) => label(k).is_some(),
            LabelRequirement::Absent(k) => label(k).is_none(),
            LabelRequirement::Equals(k, v) => label(k) == Some(v.as_str()),
            LabelRequirement::NotEquals(k, v) => label(k) != Some(v.as_str()),
            LabelRequirement::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            LabelRequirement::NotIn(k, vs) => !label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A parsed `fieldSelector`; the empty one matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    pub fn parse(text: &str, t: &ResourceType) -> Result<Self, ApiError> {
        let mut requirements = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{text}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            let known = matches!(field, "metadata.name" | "metadata.namespace")
                || (t.kind == "Secret" && field == "type")
                || (t.kind == "Namespace" && field == "status.phase");
            if !known {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            requirements.push((field.to_string(), equal, value.trim().to_string()));
        }
        Ok(Self(requirements))
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(field, equal, value)| {
            let actual = match field.as_str() {
                "metadata.name" => &object["metadata"]["name"],
                "metadata.namespace" => &object["metadata"]["namespace"],
                "type" => &object["type"],
                _ => &object["status"]["phase"],
            };
            (actual.as_str().unwrap_or("") == value) == *equal
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Both selectors of one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selectors {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selectors {
    pub fn matches(&self, object: &Value) -> bool {
        self.labels.matches(object) && self.fields.matches(object)
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }
}
