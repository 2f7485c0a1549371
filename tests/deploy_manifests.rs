//! The manifests shipped under `deploy/` for `captain drive`: valid Kubernetes YAML, and a
//! Role that grants every train action's needs as the access reviews ask them
//! (`ops::access::requirements`), so a driver installed from them is never refused the
//! rollback it exists for; and nothing it would need to delete a namespace.

use serde_json::Value;

use captain::config::app::{ReleaseConfig, TrafficConfig, TrafficKind};
use captain::ops::access::requirements;

fn documents(file: &str) -> Vec<Value> {
    let path = format!("{}/deploy/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| {
            let v: Value = serde::Deserialize::deserialize(doc)
                .unwrap_or_else(|e| panic!("{path}: not valid YAML: {e}"));
            assert!(
                v["apiVersion"].is_string() && v["kind"].is_string(),
                "{path}: a document without apiVersion and kind: {v}"
            );
            v
        })
        .collect()
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn the_drive_role_grants_every_train_actions_needs_and_no_namespace_deletion() {
    let rbac = documents("rbac.yaml");
    let role = of_kind(&rbac, "Role");
    assert_eq!(role.len(), 1, "one Role");
    let rules = role[0]["rules"].as_array().expect("rules");
    let release = ReleaseConfig {
        name: "summit".into(),
        namespace: "prod".into(),
        stage_namespace: "stage".into(),
    };
    let traffic = TrafficConfig {
        kind: TrafficKind::GatewayApi,
        route: "summit".into(),
    };
    let train_actions = [
        "promote",
        "promote-full",
        "pause",
        "resume",
        "rollback",
        "abort",
    ];
    let needs: Vec<_> = requirements(&release, &traffic)
        .into_iter()
        .filter(|(action, _)| train_actions.contains(&action.name()))
        .collect();
    assert!(!needs.is_empty());
    for (action, need) in needs {
        assert_eq!(need.namespace.as_deref(), Some("prod"), "{action}: {need}");
        let granted = rules.iter().any(|r| {
            strings(&r["apiGroups"]).contains(&need.group.as_str())
                && strings(&r["resources"]).contains(&need.resource.as_str())
                && strings(&r["verbs"]).contains(&need.verb.as_str())
                && (r["resourceNames"].is_null()
                    || need
                        .name
                        .as_deref()
                        .is_some_and(|n| strings(&r["resourceNames"]).contains(&n)))
        });
        assert!(
            granted,
            "{action} needs {need}: not granted by deploy/rbac.yaml"
        );
    }
    for r in rbac
        .iter()
        .flat_map(|d| d["rules"].as_array().cloned().unwrap_or_default())
    {
        assert!(
            !(strings(&r["resources"]).contains(&"namespaces")
                && strings(&r["verbs"]).contains(&"delete")),
            "a driver never deletes namespaces: {r}"
        );
    }
}

#[test]
fn the_drive_deployment_runs_drive_as_the_role_s_service_account_with_health_probes() {
    let rbac = documents("rbac.yaml");
    let account = of_kind(&rbac, "ServiceAccount")[0]["metadata"]["name"].clone();
    let drive = documents("drive.yaml");
    let deployment = of_kind(&drive, "Deployment");
    assert_eq!(deployment.len(), 1);
    let pod = &deployment[0]["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], account);
    let container = &pod["containers"][0];
    let args = strings(&container["args"]);
    let at = args
        .iter()
        .position(|a| *a == "drive")
        .expect("runs `drive`");
    assert_eq!(args.get(at + 1), Some(&"--health"));
    let port: u16 = args[at + 2]
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .expect("a health port");
    assert_eq!(container["ports"][0]["containerPort"], port);
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(container[probe]["httpGet"]["path"], "/healthz", "{probe}");
    }
    // The clap definition accepts exactly these arguments.
    use clap::Parser;
    let mut argv = vec!["captain"];
    argv.extend(args.iter().copied());
    captain::cli::Cli::try_parse_from(argv).expect("the Deployment's args parse");
}
