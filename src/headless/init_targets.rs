//! What `captain init` finds to put in a starter captain.toml instead of placeholders: the
//! GitHub repository of `git remote get-url origin`, and the kube context (and its
//! namespace) the kubeconfig makes current. Each value says where it came from.

/// A value found, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub value: String,
    pub from: String,
}

/// The repository `origin` points at, and its API URL when it is not github.com's; or why
/// there is none.
pub fn repository() -> Result<(Found, Option<String>), String> {
    let out = std::process::Command::new("git")
        .args(["remote", "get-url", "origin"])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("git cannot be run: {e}"))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(format!("no git remote origin ({})", why.trim()));
    }
    let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (host, repo) = owner_and_name(&url)
        .ok_or_else(|| format!("git remote origin {url} names no owner/name"))?;
    let api = (host != "github.com").then(|| format!("https://{host}/api/v3"));
    Ok((
        Found {
            value: repo,
            // Not the URL itself: an https remote may carry a token.
            from: format!("git remote origin on {host}"),
        },
        api,
    ))
}

/// `https://github.com/acme/summit.git`, `git@github.com:acme/summit.git` and
/// `ssh://git@github.com:22/acme/summit` → (`github.com`, `acme/summit`).
pub fn owner_and_name(url: &str) -> Option<(String, String)> {
    let url = url.trim();
    let (host, path) = if let Some((_, rest)) = url.split_once("://") {
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        let (host, path) = rest.split_once('/')?;
        (host.split(':').next()?.to_string(), path)
    } else {
        // scp-like: [user@]host:owner/name
        let (left, path) = url.split_once(':')?;
        let host = left.rsplit_once('@').map_or(left, |(_, h)| h);
        (host.to_string(), path)
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let mut parts = path.rsplitn(3, '/');
    let name = parts.next().filter(|s| !s.is_empty())?;
    let owner = parts.next().filter(|s| !s.is_empty())?;
    if host.is_empty() {
        return None;
    }
    Some((host, format!("{owner}/{name}")))
}

/// The kube context (`wanted`, else the kubeconfig's current one) and its namespace when it
/// names one; or why there is none.
pub async fn kube_context(wanted: Option<&str>) -> Result<(Found, Option<Found>), String> {
    let (config, name) = match crate::sources::kube::client::resolve(wanted, None).await {
        Ok(Some((config, Some(name)))) => (config, name),
        Ok(_) => return Err("no kubeconfig".into()),
        Err(e) => return Err(e.to_string()),
    };
    let whose = if wanted.is_some() {
        "--context"
    } else {
        "the kubeconfig's current context"
    };
    // kube-rs says "default" when the context names no namespace: that is not a choice.
    let namespace = (config.default_namespace != "default").then(|| Found {
        value: config.default_namespace.clone(),
        from: format!("kube context {name}'s namespace"),
    });
    Ok((
        Found {
            value: name,
            from: whose.into(),
        },
        namespace,
    ))
}

#[cfg(test)]
mod tests {
    use super::owner_and_name;

    #[test]
    fn https_ssh_and_scp_remotes_name_their_owner_and_repository() {
        for (url, host, repo) in [
            (
                "https://github.com/acme/summit.git",
                "github.com",
                "acme/summit",
            ),
            (
                "https://github.com/acme/summit",
                "github.com",
                "acme/summit",
            ),
            (
                "https://user:tok@github.com/acme/summit/",
                "github.com",
                "acme/summit",
            ),
            (
                "git@github.com:acme/summit.git",
                "github.com",
                "acme/summit",
            ),
            (
                "ssh://git@github.com/acme/summit.git",
                "github.com",
                "acme/summit",
            ),
            ("ssh://git@ghe.corp:2222/team/app", "ghe.corp", "team/app"),
            ("git@ghe.corp:group/sub/app.git", "ghe.corp", "sub/app"),
        ] {
            assert_eq!(
                owner_and_name(url),
                Some((host.to_string(), repo.to_string())),
                "{url}"
            );
        }
        for url in [
            "",
            "summit",
            "https://github.com/acme",
            "/srv/git/summit.git",
        ] {
            assert_eq!(owner_and_name(url), None, "{url}");
        }
    }
}
