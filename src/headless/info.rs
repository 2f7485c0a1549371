//! `captain info`: every path captain reads and writes, and the targets it would act on:
//! the kube context and its server, the release, the GitHub repository, Prometheus. It
//! reads the kubeconfig but calls no server.

use std::process::ExitCode;

use color_eyre::eyre::Result;
use serde::Serialize;

use crate::cli::{Cli, Json};
use crate::launch::Settings;
use crate::paths;

#[derive(Serialize)]
struct Info {
    config: Option<String>,
    state_dir: String,
    audit: String,
    demo_audit: String,
    log: String,
    plan_state: String,
    user_themes: Option<String>,
    slo_file: String,
    plan: String,
    targets: Targets,
}

/// What the commands act on, with this config and these flags.
#[derive(Serialize)]
struct Targets {
    /// `Some(scenario)` under `--demo`: then nothing outside the process is touched.
    demo: Option<&'static str>,
    kube: Kube,
    release: Release,
    github: Github,
    prometheus: Prometheus,
}

#[derive(Serialize)]
struct Kube {
    /// The context's name; `None` in a pod without a kubeconfig (the service account).
    context: Option<String>,
    server: Option<String>,
    /// Why the kubeconfig could not say, when it could not.
    error: Option<String>,
}

#[derive(Serialize)]
struct Release {
    namespace: String,
    name: String,
}

#[derive(Serialize)]
struct Github {
    repo: String,
    api_url: String,
}

#[derive(Serialize)]
struct Prometheus {
    url: String,
}

pub async fn run(cli: &Cli, j: &Json) -> Result<ExitCode> {
    let s = Settings::load(cli)?;
    let show = |p: &std::path::Path| p.display().to_string();
    let cfg = &s.config;
    let info = Info {
        config: s.config_path.as_deref().map(show),
        state_dir: show(&paths::state_dir()),
        audit: show(&paths::audit_file(false)),
        demo_audit: show(&paths::audit_file(true)),
        log: show(&paths::log_file()),
        plan_state: show(&paths::plan_state_file()),
        user_themes: paths::user_theme_dir().as_deref().map(show),
        slo_file: show(&cfg.slo.file),
        plan: cfg.plan.file.clone(),
        targets: Targets {
            demo: s.demo.map(|d| d.name()),
            kube: kube(cli.context.as_deref().or(cfg.kube.context.as_deref())).await,
            release: Release {
                namespace: cfg.release.namespace.clone(),
                name: cfg.release.name.clone(),
            },
            github: Github {
                repo: cfg.github.repo.clone(),
                api_url: cfg.github.api_url.clone(),
            },
            prometheus: Prometheus {
                url: cfg.prometheus.url.clone(),
            },
        },
    };
    if !super::out::structured(j.format(), &info)? {
        print(&info);
    }
    Ok(ExitCode::SUCCESS)
}

async fn kube(context: Option<&str>) -> Kube {
    match crate::sources::kube::client::resolve(context, None).await {
        Ok(Some((config, name))) => Kube {
            context: name,
            server: Some(config.cluster_url.to_string()),
            error: None,
        },
        Ok(None) => Kube {
            context: None,
            server: None,
            error: None,
        },
        Err(e) => Kube {
            context: context.map(str::to_string),
            server: None,
            error: Some(e.to_string()),
        },
    }
}

fn print(i: &Info) {
    say!(
        "config:      {}",
        i.config.as_deref().unwrap_or("(none found: defaults)")
    );
    say!("state dir:   {}", i.state_dir);
    say!("audit:       {}", i.audit);
    say!("demo audit:  {}", i.demo_audit);
    say!("log:         {}", i.log);
    say!("plan state:  {}", i.plan_state);
    say!(
        "themes:      built-in default, light, high-contrast; user themes in {}",
        i.user_themes.as_deref().unwrap_or("(no config dir)")
    );
    say!("slo file:    {}", i.slo_file);
    say!("plan:        {}", i.plan);
    let t = &i.targets;
    match t.demo {
        Some(scenario) => say!(
            "acts on:     the demo world (--demo={scenario}): no cluster, GitHub or Prometheus"
        ),
        None => say!("acts on:"),
    }
    let k = &t.kube;
    let kube = match (&k.context, &k.server, &k.error) {
        (_, _, Some(e)) => format!("cannot tell: {e}"),
        (Some(c), Some(s), None) => format!("{c} ({s})"),
        (Some(c), None, None) => c.clone(),
        (None, _, None) => "none: no kubeconfig, so the pod's service account".into(),
    };
    say!("  kube context:  {kube}");
    say!(
        "  release:       {} in namespace {}",
        t.release.name,
        t.release.namespace
    );
    say!("  github:        {} at {}", t.github.repo, t.github.api_url);
    say!("  prometheus:    {}", t.prometheus.url);
}
