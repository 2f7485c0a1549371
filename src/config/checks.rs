//! Values of captain.toml checked as they are read, so a mistake is rejected at load with
//! its file, line and column, never found later when it is first used (a release that
//! cannot exist, a repository without an owner, a URL that cannot be reached).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, de::Error as _};

use super::Span;
use crate::tui::keymap::{Key, Keymap};

/// A name Kubernetes accepts for a namespace (RFC 1123 label): at most 63 lowercase letters,
/// digits and `-`, starting and ending with a letter or digit.
pub fn label_problem(what: &str, name: &str, max: usize) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= max
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    (!ok).then(|| {
        format!(
            "{what} {name:?} is not a valid name: 1 to {max} lowercase letters, digits and `-`, starting and ending with a letter or digit"
        )
    })
}

/// A name of dot-separated labels (RFC 1123 subdomain), as routes and Ingresses have.
fn subdomain_problem(what: &str, name: &str) -> Option<String> {
    let bad = name.is_empty()
        || name.len() > 253
        || name
            .split('.')
            .any(|l| label_problem(what, l, 63).is_some());
    bad.then(|| {
        format!(
            "{what} {name:?} is not a valid name: lowercase letters, digits, `-` and `.`, at most 253, each part starting and ending with a letter or digit"
        )
    })
}

fn checked<'de, D: Deserializer<'de>>(
    d: D,
    problem: impl Fn(&str) -> Option<String>,
) -> Result<String, D::Error> {
    let value = String::deserialize(d)?;
    match problem(&value) {
        Some(p) => Err(D::Error::custom(p)),
        None => Ok(value),
    }
}

/// `[release] name`: a Helm release name (at most 53 characters, as Helm allows).
pub fn release_name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    checked(d, |v| label_problem("the release", v, 53))
}

/// `[release] namespace` and `stage_namespace`.
pub fn namespace<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    checked(d, |v| label_problem("the namespace", v, 63))
}

/// `[traffic] route`: an HTTPRoute or Ingress name.
pub fn route<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    checked(d, |v| subdomain_problem("the route", v))
}

/// `[github] repo`: `owner/name`, as GitHub spells them.
pub fn repo<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    checked(d, |v| {
        let part = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        match v.split_once('/') {
            Some((owner, name)) if part(owner) && part(name) => None,
            _ => Some(format!(
                "the repository {v:?} is not `owner/name` (e.g. \"acme/summit\")"
            )),
        }
    })
}

/// `[github] api_url` and `[prometheus] url`: an http(s) URL with a host.
pub fn url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    checked(d, |v| match reqwest::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => None,
        Ok(u) => Some(format!(
            "{v:?} is not an http(s) URL with a host (scheme {:?})",
            u.scheme()
        )),
        Err(e) => Some(format!("{v:?} is not a URL: {e}")),
    })
}

/// An optional URL, held to [`url`] when given.
pub fn some_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    url(d).map(Some)
}

/// A duration that must be more than zero, such as `[timeouts] budget`.
pub fn positive_span<'de, D: Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
    let span = Span::deserialize(d)?;
    if span.0.is_zero() {
        return Err(D::Error::custom(format!(
            "expected a duration of more than 0s, such as 30s, found {span}"
        )));
    }
    Ok(span)
}

/// `[keys]`: each name an action of the console's keymap and each value a key it can read,
/// checked as it is read (so the error points at the entry), then the whole table against
/// the keys already taken (that error points at the table).
pub fn key_bindings<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    struct Action(String);
    impl<'de> Deserialize<'de> for Action {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let name = String::deserialize(d)?;
            match Keymap::new(false, &BTreeMap::new()) {
                Ok(km) if km.by_name(&name).is_none() => {
                    let names: Vec<&str> = km.bindings().iter().map(|b| b.name).collect();
                    Err(D::Error::custom(format!(
                        "`{name}` is not an action; expected one of {}",
                        names.join(", ")
                    )))
                }
                _ => Ok(Action(name)),
            }
        }
    }
    struct Bound(String);
    impl<'de> Deserialize<'de> for Bound {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let key = String::deserialize(d)?;
            key.parse::<Key>().map_err(D::Error::custom)?;
            Ok(Bound(key))
        }
    }
    let table: BTreeMap<Action, Bound> = BTreeMap::deserialize(d)?;
    let keys: BTreeMap<String, String> = table.into_iter().map(|(a, k)| (a.0, k.0)).collect();
    Keymap::new(false, &keys).map_err(D::Error::custom)?;
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_kubernetes_and_helm() {
        assert_eq!(label_problem("x", "summit", 53), None);
        assert_eq!(label_problem("x", "pr-12", 63), None);
        for bad in ["", "Summit", "-a", "a-", "a_b", "a b", &"a".repeat(54)] {
            assert!(label_problem("x", bad, 53).is_some(), "{bad:?}");
        }
        assert_eq!(subdomain_problem("r", "summit.canary"), None);
        assert!(subdomain_problem("r", "summit..canary").is_some());
    }
}
