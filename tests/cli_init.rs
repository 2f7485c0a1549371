//! `captain init` through the real binary writes the GitHub repository of `git remote
//! origin` and the kubeconfig's current context and namespace instead of placeholders, and
//! says where each came from; placeholders stay only where nothing was found.

mod cli_support;

use std::path::Path;

use captain::config::app::AppConfig;
use cli_support::{captain_with, text};

fn git(dir: &Path, args: &[&str]) {
    let o = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

const KUBECONFIG: &str = "apiVersion: v1
kind: Config
current-context: staging-admin
clusters:
- name: c1
  cluster: {server: 'https://10.0.0.1:6443'}
users:
- name: u1
  user: {token: not-printed}
contexts:
- name: other
  context: {cluster: c1, user: u1, namespace: elsewhere}
- name: staging-admin
  context: {cluster: c1, user: u1, namespace: widgets-prod}
";

#[test]
fn init_writes_the_repository_of_origin_and_the_current_kube_context_and_namespace() {
    for (remote, api) in [
        ("git@github.com:octo/widgets.git", "https://api.github.com"),
        (
            "https://ghe.example.com/octo/widgets",
            "https://ghe.example.com/api/v3",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        git(dir.path(), &["remote", "add", "origin", remote]);
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, KUBECONFIG).unwrap();
        let o = captain_with(dir.path(), &["init"], &[("KUBECONFIG", &kubeconfig)]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let cfg = AppConfig::load(&dir.path().join("captain.toml")).unwrap();
        assert_eq!(cfg.github.repo, "octo/widgets", "{remote}");
        assert_eq!(cfg.github.api_url, api, "{remote}");
        assert_eq!(cfg.kube.context.as_deref(), Some("staging-admin"));
        assert_eq!(cfg.release.namespace, "widgets-prod");
        let said = String::from_utf8_lossy(&o.stdout);
        assert!(
            said.contains("repo = \"octo/widgets\": from git remote origin"),
            "{said}"
        );
        assert!(
            said.contains("context = \"staging-admin\": from the kubeconfig's current context"),
            "{said}"
        );
        assert!(
            said.contains("namespace = \"widgets-prod\": from kube context staging-admin"),
            "{said}"
        );
        assert!(!said.contains("not-printed"), "{said}");
    }
}

#[test]
fn context_chooses_the_kube_context_init_writes() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, KUBECONFIG).unwrap();
    let o = captain_with(
        dir.path(),
        &["--context", "other", "init"],
        &[
            ("KUBECONFIG", &kubeconfig),
            ("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap()),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let cfg = AppConfig::load(&dir.path().join("captain.toml")).unwrap();
    assert_eq!(cfg.kube.context.as_deref(), Some("other"));
    assert_eq!(cfg.release.namespace, "elsewhere");
}

#[test]
fn without_a_remote_or_a_kubeconfig_the_placeholders_stay_and_init_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let none = dir.path().join("no-kubeconfig");
    let o = captain_with(
        dir.path(),
        &["init"],
        &[
            ("KUBECONFIG", &none),
            ("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap()),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let cfg = AppConfig::load(&dir.path().join("captain.toml")).unwrap();
    assert_eq!(cfg.github.repo, "acme/summit");
    assert_eq!(cfg.kube.context, None);
    assert_eq!(cfg.release.namespace, "prod");
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("a placeholder: no git remote origin"),
        "{said}"
    );
    assert!(said.contains("a placeholder: no kubeconfig"), "{said}");
}
