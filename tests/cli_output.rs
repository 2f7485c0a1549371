//! `-o text|wide|json|yaml` through the real binary: text is a table with a header row and
//! aligned columns, wide adds columns, JSON and YAML are the same document, a list is one
//! JSON array, and `--json` is `-o json`.

mod cli_support;

use cli_support::{captain, text};
use serde_json::Value;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Where each header's column starts, in characters: columns are three blanks apart, the
/// words of one header one blank.
fn starts(header: &str) -> Vec<(String, usize)> {
    let chars: Vec<char> = header.chars().collect();
    let mut out = Vec::new();
    for i in 0..chars.len() {
        if chars[i] != ' ' && (i == 0 || (i >= 2 && chars[i - 1] == ' ' && chars[i - 2] == ' ')) {
            let word: String = chars[i..].iter().take_while(|c| **c != ' ').collect();
            out.push((word, i));
        }
    }
    out
}

/// Every row has a cell starting under every header, after a blank.
fn assert_aligned(table: &str) {
    let mut lines = table.lines();
    let header = lines.next().expect("a header row");
    let columns = starts(header);
    assert!(columns.len() >= 2, "{table}");
    for row in lines {
        let chars: Vec<char> = row.chars().collect();
        for (name, at) in &columns[1..] {
            if *at >= chars.len() {
                continue; // an empty last cell
            }
            assert!(
                chars[at - 1] == ' ' && (chars[*at] != ' ' || name == &columns.last().unwrap().0),
                "column {name} at {at} in {row:?}\n{table}"
            );
        }
    }
}

#[test]
fn previews_list_text_is_a_table_under_an_upper_case_header() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(dir.path(), &["--demo", "previews", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = stdout(&o);
    let header = out.lines().next().unwrap();
    let names: Vec<String> = starts(header).into_iter().map(|(w, _)| w).collect();
    assert_eq!(names, ["NAMESPACE", "AGE", "FLAGS", "PR", "TITLE"], "{out}");
    assert_aligned(&out);
    let json: Vec<Value> = serde_json::from_slice(
        &captain(dir.path(), &["--demo", "previews", "list", "-o", "json"]).stdout,
    )
    .unwrap();
    assert_eq!(
        out.lines().count(),
        json.len() + 1,
        "a row per preview: {out}"
    );
}

#[test]
fn previews_list_wide_adds_the_pull_requests_state_author_and_url() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(dir.path(), &["--demo", "previews", "list", "-o", "wide"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = stdout(&o);
    let names: Vec<String> = starts(out.lines().next().unwrap())
        .into_iter()
        .map(|(w, _)| w)
        .collect();
    assert_eq!(
        names,
        [
            "NAMESPACE",
            "AGE",
            "FLAGS",
            "PR",
            "STATE",
            "AUTHOR",
            "URL",
            "HEALTH",
            "TITLE"
        ],
        "{out}"
    );
    assert_aligned(&out);
    assert!(out.contains("https://pr-"), "{out}");
}

#[test]
fn json_and_yaml_are_the_same_document_for_every_reading_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    // A journal to show.
    let paused = captain(
        dir.path(),
        &[
            "--demo=steady",
            "canary",
            "pause",
            "--yes",
            "--reason",
            "check",
        ],
    );
    assert_eq!(paused.status.code(), Some(0), "{}", text(&paused));
    for args in [
        &["previews", "list"][..],
        &["audit", "show"],
        &["audit", "verify"],
        &["plan", "show"],
        &["canary", "status"],
        &["main", "status"],
        &["slo", "check"],
        &["info"],
    ] {
        let run = |format: &str| {
            let mut all = vec!["--demo=steady"];
            all.extend_from_slice(args);
            all.extend_from_slice(&["-o", format]);
            let o = captain(dir.path(), &all);
            assert_eq!(o.status.code(), Some(0), "{all:?}: {}", text(&o));
            o
        };
        let json: Value = serde_json::from_slice(&run("json").stdout)
            .unwrap_or_else(|e| panic!("{args:?} -o json: {e}"));
        let yaml: Value = serde_yaml_ng::from_slice(&run("yaml").stdout)
            .unwrap_or_else(|e| panic!("{args:?} -o yaml: {e}"));
        // Only a clock may differ between two runs.
        if !matches!(
            args,
            ["canary", "status"] | ["main", "status"] | ["slo", "check"]
        ) {
            assert_eq!(json, yaml, "{args:?}");
        } else {
            assert_eq!(
                json.as_object().map(|o| o.keys().collect::<Vec<_>>()),
                yaml.as_object().map(|o| o.keys().collect::<Vec<_>>()),
                "{args:?}"
            );
        }
        let mut alias = vec!["--demo=steady"];
        alias.extend_from_slice(args);
        alias.push("--json");
        let by_alias: Value = serde_json::from_slice(&captain(dir.path(), &alias).stdout).unwrap();
        assert_eq!(
            by_alias.as_object().map(|o| o.len()),
            json.as_object().map(|o| o.len()),
            "--json is -o json: {args:?}"
        );
    }
}

#[test]
fn audit_show_json_is_one_array_and_its_text_a_row_per_record() {
    let dir = tempfile::tempdir().unwrap();
    let empty = captain(dir.path(), &["--demo", "audit", "show", "-o", "json"]);
    assert_eq!(empty.status.code(), Some(0), "{}", text(&empty));
    let none: Vec<Value> = serde_json::from_slice(&empty.stdout).unwrap();
    assert!(none.is_empty(), "no journal yet: an empty array");

    let paused = captain(
        dir.path(),
        &["--demo", "canary", "pause", "--yes", "--reason", "check"],
    );
    assert_eq!(paused.status.code(), Some(0), "{}", text(&paused));
    let o = captain(dir.path(), &["--demo", "audit", "show", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let records: Vec<Value> = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("one JSON array: {e}\n{}", text(&o)));
    let journal = std::fs::read_to_string(dir.path().join("demo-audit.jsonl")).unwrap();
    assert_eq!(records.len(), journal.lines().count());
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=records.len() as u64).collect::<Vec<_>>());
    assert!(
        records.iter().any(|r| r["action"] == "pause"),
        "{records:?}"
    );

    let table = stdout(&captain(dir.path(), &["--demo", "audit", "show"]));
    assert!(table.starts_with("TIME"), "{table}");
    assert_eq!(table.lines().count(), records.len() + 1, "{table}");
    assert_aligned(&table);
}

#[test]
fn canary_status_wide_adds_the_previous_revision_step_and_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let plain = stdout(&captain(dir.path(), &["--demo", "canary", "status"]));
    let wide = stdout(&captain(
        dir.path(),
        &["--demo", "canary", "status", "-o", "wide"],
    ));
    let header = |s: &str| -> Vec<String> {
        starts(s.lines().next().unwrap())
            .into_iter()
            .map(|(w, _)| w)
            .collect()
    };
    assert_eq!(
        header(&plain),
        ["RELEASE", "REVISION", "IMAGE", "WEIGHT", "STATUS"]
    );
    assert_eq!(
        header(&wide),
        [
            "RELEASE", "REVISION", "PREVIOUS", "IMAGE", "WEIGHT", "STEP", "VERDICT", "STATUS"
        ]
    );
    let row: Vec<&str> = wide.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(&row[..4], ["summit", "42", "41", "sha-42c0146"], "{wide}");
    assert_aligned(&wide.lines().take(2).collect::<Vec<_>>().join("\n"));
}

#[test]
fn an_unknown_output_format_is_a_usage_error_naming_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(dir.path(), &["--demo", "previews", "list", "-o", "xml"]);
    assert_eq!(o.status.code(), Some(64), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for known in ["text", "wide", "json", "yaml"] {
        assert!(err.contains(known), "{err}");
    }
}

#[test]
fn info_names_the_kube_context_and_server_release_repository_and_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: prod-admin\n\
         clusters: [{name: c1, cluster: {server: 'https://k8s.example.com:6443'}}]\n\
         users: [{name: u1, user: {token: not-printed}}]\n\
         contexts: [{name: prod-admin, context: {cluster: c1, user: u1}}]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("captain.toml"),
        "[release]\nname = \"widgets\"\nnamespace = \"shop\"\n\
         [github]\nrepo = \"octo/widgets\"\napi_url = \"https://ghe.example.com/api/v3\"\n\
         [prometheus]\nurl = \"http://prom.example.com:9090\"\n",
    )
    .unwrap();
    let env: &[(&str, &std::path::Path)] = &[("KUBECONFIG", &kubeconfig)];
    let o = cli_support::captain_with(dir.path(), &["info", "-o", "json"], env);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let t = &v["targets"];
    assert_eq!(t["kube"]["context"], "prod-admin", "{v}");
    assert_eq!(t["kube"]["server"], "https://k8s.example.com:6443/", "{v}");
    assert_eq!(t["release"]["namespace"], "shop");
    assert_eq!(t["release"]["name"], "widgets");
    assert_eq!(t["github"]["repo"], "octo/widgets");
    assert_eq!(t["github"]["api_url"], "https://ghe.example.com/api/v3");
    assert_eq!(t["prometheus"]["url"], "http://prom.example.com:9090");
    assert_eq!(t["demo"], Value::Null);

    let plain = cli_support::captain_with(dir.path(), &["info"], env);
    let said = stdout(&plain);
    for line in [
        "kube context:  prod-admin (https://k8s.example.com:6443/)",
        "release:       widgets in namespace shop",
        "github:        octo/widgets at https://ghe.example.com/api/v3",
        "prometheus:    http://prom.example.com:9090",
    ] {
        assert!(said.contains(line), "{line}: {said}");
    }
    assert!(!said.contains("not-printed"), "{said}");

    let other = cli_support::captain_with(dir.path(), &["--context", "nope", "info"], env);
    assert_eq!(other.status.code(), Some(0), "{}", text(&other));
    assert!(
        stdout(&other).contains("kube context:  cannot tell:"),
        "{}",
        text(&other)
    );
}
