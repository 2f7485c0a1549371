//! Values of captain.toml checked as they are read, so a mistake is rejected at load with
//! its file, line and column, never found later when it is first used (a release that
//! cannot exist, a repository without an owner, a URL that cannot be reached).

use serde::{Deserialize, Deserializer, de::Error as _};

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
