//! Governance checks for validation probes: whether the repository's settings on GitHub are
//! as a release needs them (a protected environment, a required check, an active ruleset, a
//! secret, a file, no critical code-scanning alert, secret scanning). Each check only reads;
//! what it found becomes evidence in words, never a secret's value or a file's content.
//!
//! A setting that is missing, or that GitHub will not show the token (403, 404), is a failed
//! [`Finding`] that says so, because a probe must not pass on what it could not see. GitHub
//! unreachable, a 5xx, a bad token or a body that is not what the API documents is an error.

use serde::de::DeserializeOwned;

use super::client::{GithubClient, Reply};
use super::main_health::{self, Protection, RulesetCheck};
use super::wire::{
    Branch, CodeScanningAlert, Contents, Environment, Repository, Ruleset, Secrets, segment,
};
use crate::sources::{Finding, Governance, SourceError};

/// How many critical alerts evidence names before it only counts the rest.
const ALERTS_NAMED: usize = 5;

pub async fn check(client: &GithubClient, what: &Governance) -> Result<Finding, SourceError> {
    match what {
        Governance::EnvironmentProtected { environment } => {
            environment_protected(client, environment).await
        }
        Governance::BranchRequiresCheck { branch, check } => {
            branch_requires_check(client, branch, check).await
        }
        Governance::RulesetActive { name } => ruleset_active(client, name.as_deref()).await,
        Governance::SecretPresent { name } => secret_present(client, name).await,
        Governance::FileExists { path, branch } => file_exists(client, path, branch).await,
        Governance::NoCriticalAlerts => no_critical_alerts(client).await,
        Governance::SecretScanningEnabled => secret_scanning_enabled(client).await,
    }
}

/// A body, or GitHub's 403 or 404 for the check to judge.
enum Read<T> {
    Found(T),
    Refused { status: u16, message: String },
}

async fn read<T: DeserializeOwned>(
    client: &GithubClient,
    url: &str,
) -> Result<Read<T>, SourceError> {
    match client.get(url).await? {
        Reply::Found(page) => Ok(Read::Found(client.parse(url, &page.body)?)),
        Reply::Refused {
            status: status @ (403 | 404),
            message,
        } => Ok(Read::Refused { status, message }),
        Reply::Refused { status, message } => Err(client.refusal("GET", url, status, &message)),
    }
}

/// Every page of a list. A refusal of the first page is for the check to judge; one of a
/// later page, after GitHub itself linked to it, is an error.
async fn read_pages<T: DeserializeOwned>(
    client: &GithubClient,
    first: &str,
) -> Result<Read<Vec<T>>, SourceError> {
    let page = match client.get(first).await? {
        Reply::Found(page) => page,
        Reply::Refused {
            status: status @ (403 | 404),
            message,
        } => return Ok(Read::Refused { status, message }),
        Reply::Refused { status, message } => {
            return Err(client.refusal("GET", first, status, &message));
        }
    };
    let mut pages = vec![client.parse(first, &page.body)?];
    if let Some(next) = page.next {
        let rest = client
            .get_pages(&next)
            .await?
            .ok_or_else(|| client.refusal("GET", &next, 404, "Not Found"))?;
        pages.extend(rest);
    }
    Ok(Read::Found(pages))
}

async fn environment_protected(client: &GithubClient, name: &str) -> Result<Finding, SourceError> {
    let url = format!("{}/environments/{}", client.repo(), segment(name));
    let environment: Environment = match read(client, &url).await? {
        Read::Found(e) => e,
        Read::Refused { status: 404, .. } => {
            return Ok(Finding::fail(format!("no environment {name}")));
        }
        Read::Refused { message, .. } => {
            return Ok(Finding::fail(format!(
                "cannot read environment {name}: {message}"
            )));
        }
    };
    let rules = &environment.protection_rules;
    if rules.is_empty() {
        return Ok(Finding::fail(format!(
            "environment {} has no protection rules",
            environment.name
        )));
    }
    let kinds: Vec<&str> = rules.iter().map(|r| r.kind.as_str()).collect();
    Ok(Finding::pass(format!(
        "environment {}: {} ({})",
        environment.name,
        count(rules.len(), "protection rule"),
        kinds.join(", ")
    )))
}

/// Where a requirement is found: classic branch protection (or, when the token may not read
/// that, the summary the branch carries), and the rulesets that target the branch.
async fn branch_requires_check(
    client: &GithubClient,
    branch: &str,
    check: &str,
) -> Result<Finding, SourceError> {
    let (protection, by_protection, protection_says) =
        match main_health::protection_checks(client, branch).await? {
            Protection::Requires(names) => {
                let says = requirement("branch protection", &names);
                (names, "branch protection", says)
            }
            // GitHub says this only to a token that may read protection, so it is final.
            Protection::Unreadable {
                status: 404,
                message,
            } if settled(&message) => (Vec::new(), "", format!("branch protection: {message}")),
            Protection::Unreadable { .. } => {
                let url = format!("{}/branches/{}", client.repo(), segment(branch));
                match client.get_json::<Branch>(&url).await? {
                    None => return Ok(Finding::fail(format!("no branch {branch}"))),
                    Some((b, _)) if b.protected == Some(false) => {
                        (Vec::new(), "", format!("{branch} is not protected"))
                    }
                    Some((b, _)) => {
                        let names = main_health::protection_summary(&b);
                        let says = requirement("the branch's protection summary", &names);
                        (names, "branch protection, from the branch's summary", says)
                    }
                }
            }
        };
    let rulesets = main_health::ruleset_checks(client, branch).await?;

    let mut found_in: Vec<String> = Vec::new();
    if protection.iter().any(|c| c == check) {
        found_in.push(by_protection.to_string());
    }
    for by in rulesets.iter().filter(|c| c.context == check) {
        let by = ruleset(by);
        if !found_in.contains(&by) {
            found_in.push(by);
        }
    }
    if !found_in.is_empty() {
        return Ok(Finding::pass(format!(
            "{branch} requires {check} ({})",
            found_in.join("; ")
        )));
    }
    let rulesets_say = if rulesets.is_empty() {
        "no ruleset requires a check".to_string()
    } else {
        let names: Vec<&str> = rulesets.iter().map(|c| c.context.as_str()).collect();
        format!("rulesets require {}", names.join(", "))
    };
    Ok(Finding::fail(format!(
        "{branch} does not require {check}: {protection_says}; {rulesets_say}"
    )))
}

/// "Branch not protected", "Required status checks not enabled".
fn settled(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("not protected") || m.contains("not enabled")
}

fn requirement(source: &str, names: &[String]) -> String {
    if names.is_empty() {
        format!("{source} requires no checks")
    } else {
        format!("{source} requires {}", names.join(", "))
    }
}

fn ruleset(check: &RulesetCheck) -> String {
    match (check.ruleset_id, &check.source) {
        (Some(id), Some(source)) => format!("ruleset {id} of {source}"),
        (Some(id), None) => format!("ruleset {id}"),
        (None, _) => "a ruleset".to_string(),
    }
}

async fn ruleset_active(client: &GithubClient, name: Option<&str>) -> Result<Finding, SourceError> {
    let url = format!("{}/rulesets?per_page=100", client.repo());
    let rulesets: Vec<Ruleset> = match read_pages::<Vec<Ruleset>>(client, &url).await? {
        Read::Found(pages) => pages.into_iter().flatten().collect(),
        Read::Refused { message, .. } => {
            return Ok(Finding::fail(format!("cannot read rulesets: {message}")));
        }
    };
    let listed = if rulesets.is_empty() {
        "no rulesets".to_string()
    } else {
        let each: Vec<String> = rulesets
            .iter()
            .map(|r| format!("{} {}", r.name, r.enforcement))
            .collect();
        format!("rulesets: {}", each.join(", "))
    };
    let active = |r: &Ruleset| r.enforcement == "active";
    let finding = match name {
        Some(name) => {
            let named: Vec<&Ruleset> = rulesets.iter().filter(|r| r.name == name).collect();
            match (named.iter().find(|r| active(r)), named.first()) {
                (Some(_), _) => Finding::pass(format!("ruleset {name} is active ({listed})")),
                (None, Some(r)) => Finding::fail(format!(
                    "ruleset {name} is {}, not active ({listed})",
                    r.enforcement
                )),
                (None, None) => Finding::fail(format!("no ruleset named {name} ({listed})")),
            }
        }
        None => match rulesets.iter().filter(|r| active(r)).count() {
            0 => Finding::fail(format!("no active ruleset ({listed})")),
            n => Finding::pass(format!("{} ({listed})", count(n, "active ruleset"))),
        },
    };
    Ok(finding)
}

/// Repository secrets only: an organization's secrets shared with the repository, and
/// environment secrets, are listed elsewhere and not counted here.
async fn secret_present(client: &GithubClient, name: &str) -> Result<Finding, SourceError> {
    let url = format!("{}/actions/secrets?per_page=100", client.repo());
    let secrets: Vec<_> = match read_pages::<Secrets>(client, &url).await? {
        Read::Found(pages) => pages.into_iter().flat_map(|p| p.secrets).collect(),
        Read::Refused { message, .. } => {
            return Ok(Finding::fail(format!(
                "cannot list Actions secrets: {message}"
            )));
        }
    };
    // GitHub stores secret names in upper case and matches them without regard to case.
    match secrets.iter().find(|s| s.name.eq_ignore_ascii_case(name)) {
        Some(s) => Ok(Finding::pass(match s.updated_at {
            Some(at) => format!(
                "secret {} present (updated {})",
                s.name,
                at.format("%Y-%m-%d")
            ),
            None => format!("secret {} present", s.name),
        })),
        None => Ok(Finding::fail(format!(
            "no repository secret {name} among {}",
            count(secrets.len(), "Actions secret")
        ))),
    }
}

async fn file_exists(
    client: &GithubClient,
    path: &str,
    branch: &str,
) -> Result<Finding, SourceError> {
    let path = path.trim_matches('/');
    let in_url: Vec<String> = path.split('/').map(segment).collect();
    let url = format!(
        "{}/contents/{}?ref={}",
        client.repo(),
        in_url.join("/"),
        segment(branch)
    );
    match read(client, &url).await? {
        Read::Found(Contents::Entry(entry)) => {
            let kind = if entry.kind == "file" {
                String::new()
            } else {
                format!(" ({})", entry.kind)
            };
            let short = entry.sha.get(..12).unwrap_or(&entry.sha);
            Ok(Finding::pass(format!(
                "{} on {branch}{kind}: {} bytes, sha {short}",
                entry.path, entry.size
            )))
        }
        Read::Found(Contents::Directory(_)) => Ok(Finding::fail(format!(
            "{path} on {branch} is a directory, not a file"
        ))),
        Read::Refused {
            status: 404,
            message,
        } => Ok(Finding::fail(format!("no {path} on {branch} ({message})"))),
        Read::Refused { message, .. } => Ok(Finding::fail(format!(
            "cannot read {path} on {branch}: {message}"
        ))),
    }
}

/// GitHub's `severity=critical` filter keeps alerts whose security severity is critical; an
/// older GitHub Enterprise Server ignores the parameter and lists every open alert, so each
/// alert is judged by its rule's `security_severity_level` as well.
async fn no_critical_alerts(client: &GithubClient) -> Result<Finding, SourceError> {
    let url = format!(
        "{}/code-scanning/alerts?state=open&severity=critical&per_page=100",
        client.repo()
    );
    let alerts: Vec<CodeScanningAlert> =
        match read_pages::<Vec<CodeScanningAlert>>(client, &url).await? {
            Read::Found(pages) => pages.into_iter().flatten().collect(),
            // "no analysis found", "Code scanning is not enabled…", "Advanced Security must be
            // enabled…": without an analysis there is nothing to vouch for.
            Read::Refused { message, .. } => {
                return Ok(Finding::fail(format!("code scanning: {message}")));
            }
        };
    let critical: Vec<&CodeScanningAlert> = alerts
        .iter()
        .filter(|a| a.rule.security_severity_level.as_deref() == Some("critical"))
        .collect();
    if critical.is_empty() {
        return Ok(Finding::pass(if alerts.is_empty() {
            "no open critical code-scanning alerts".to_string()
        } else {
            format!(
                "{}, none critical",
                count(alerts.len(), "open code-scanning alert")
            )
        }));
    }
    let mut named: Vec<String> = critical
        .iter()
        .take(ALERTS_NAMED)
        .map(|a| {
            let rule = a.rule.id.as_deref().or(a.rule.name.as_deref());
            match rule {
                Some(rule) => format!("#{} rule {rule}", a.number),
                None => format!("#{}", a.number),
            }
        })
        .collect();
    if critical.len() > ALERTS_NAMED {
        named.push(format!("and {} more", critical.len() - ALERTS_NAMED));
    }
    Ok(Finding::fail(format!(
        "{}: {}",
        count(critical.len(), "critical open alert"),
        named.join(", ")
    )))
}

async fn secret_scanning_enabled(client: &GithubClient) -> Result<Finding, SourceError> {
    let url = client.repo().to_string();
    let (repository, _): (Repository, bool) = client
        .get_json(&url)
        .await?
        .ok_or_else(|| client.refusal("GET", &url, 404, "Not Found"))?;
    let Some(security) = repository.security_and_analysis else {
        return Ok(Finding::fail(format!(
            "could not read secret scanning on {}: GitHub shows security_and_analysis only to a \
             token with admin rights",
            repository.full_name
        )));
    };
    Ok(match security.secret_scanning.map(|f| f.status) {
        Some(status) if status == "enabled" => Finding::pass(format!(
            "secret scanning enabled on {}",
            repository.full_name
        )),
        Some(status) => Finding::fail(format!(
            "secret scanning is {status} on {}",
            repository.full_name
        )),
        None => Finding::fail(format!(
            "secret scanning is not offered on {}",
            repository.full_name
        )),
    })
}

/// `1 protection rule`, `2 protection rules`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_words() {
        assert_eq!(count(1, "protection rule"), "1 protection rule");
        assert_eq!(count(0, "active ruleset"), "0 active rulesets");
        assert_eq!(count(3, "critical open alert"), "3 critical open alerts");
    }

    #[test]
    fn a_ruleset_is_named_by_its_id_and_owner() {
        let by = |id, source: Option<&str>| RulesetCheck {
            context: "test".into(),
            ruleset_id: id,
            source: source.map(str::to_string),
        };
        assert_eq!(ruleset(&by(Some(7), Some("acme"))), "ruleset 7 of acme");
        assert_eq!(ruleset(&by(Some(7), None)), "ruleset 7");
        assert_eq!(ruleset(&by(None, Some("acme"))), "a ruleset");
    }
}
