//! The journal's head kept in the release's shared ConfigMap, through the real binary
//! against the wire-faithful test API server: a journal cut short together with its head
//! file (both on one disk, as whoever rolled back could do) is still found out by
//! `captain audit verify`, and no live command writes to it (docs/architecture.md, "The
//! audit journal").

mod kube_tests_support;

use std::path::Path;
use std::process::Output;

use chrono::{TimeDelta, Utc};
use serde_json::Value;

use captain_testkit::apiserver::ApiServer;
use captain_testkit::kube::{fake_helm, http_route, put_release};
use kube_tests_support::captain_command;

fn release(server: &ApiServer) {
    server.put_namespace("prod", &[], Utc::now() - TimeDelta::days(400));
    put_release(server, "summit", 6, "superseded", true);
    put_release(server, "summit", 7, "deployed", true);
    server.put_object(http_route(75, 25));
}

async fn captain(kubeconfig: &Path, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = captain_command(kubeconfig, dir, "", args, Some("unused"));
    tokio::task::spawn_blocking(move || cmd.output().expect("the captain binary runs"))
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The copies of journals' heads in the shared ConfigMap, as the API server stores them:
/// each document's name and what it holds.
fn heads_in_cluster(server: &ApiServer) -> Vec<(String, Value)> {
    let Some(configmap) = server.object("configmaps", Some("prod"), "captain-summit") else {
        return Vec::new();
    };
    configmap["data"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("journal-head."))
        .map(|(k, v)| {
            let name = k.trim_end_matches(".json").to_string();
            (
                name,
                serde_json::from_str::<Value>(v.as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

fn records(journal: &Path) -> Vec<Value> {
    std::fs::read_to_string(journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_cut_short_with_its_head_file_is_found_out_by_the_head_in_the_cluster() {
    let server = ApiServer::start().await;
    release(&server);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig();
    fake_helm(dir.path(), "v3.16.2+g13654a5", "Usage: helm rollback");
    let journal = dir.path().join("audit.jsonl");

    for reason in ["p99 regression", "again, to be sure"] {
        let o = captain(
            &kubeconfig,
            dir.path(),
            &["canary", "rollback", "--yes", "--reason", reason],
        )
        .await;
        assert!(o.status.code().is_some_and(|c| c <= 1), "{}", text(&o));
    }
    let written = records(&journal);
    assert!(
        written.len() >= 4,
        "two intents and two outcomes: {written:?}"
    );
    let last = written.last().unwrap();

    // The process waited for the copy before it exited: the cluster names the last record.
    let heads = heads_in_cluster(&server);
    assert_eq!(heads.len(), 1, "{heads:?}");
    let (key, doc) = &heads[0];
    let body = &doc["body"];
    assert_eq!(body["seq"], last["seq"], "{body}");
    assert_eq!(body["hash"], last["hash"], "{body}");
    assert_eq!(body["journal"], journal.display().to_string(), "{body}");

    let o = captain(&kubeconfig, dir.path(), &["audit", "verify", "--json"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["cluster_head"], "matches", "{v}");

    // Cut the last two records, and the head file with them, consistently: on this disk
    // alone nothing is amiss any more.
    let kept = &written[..written.len() - 2];
    let lines: String = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .take(kept.len())
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&journal, lines).unwrap();
    let new_last = kept.last().unwrap();
    std::fs::write(
        dir.path().join("audit.jsonl.head"),
        format!(
            "{{\"seq\":{},\"hash\":{}}}\n",
            new_last["seq"], new_last["hash"]
        ),
    )
    .unwrap();
    let o = captain(&kubeconfig, dir.path(), &["audit", "verify", "--local"]).await;
    assert_eq!(o.status.code(), Some(0), "the file alone: {}", text(&o));

    let o = captain(&kubeconfig, dir.path(), &["audit", "verify"]).await;
    let said = text(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "the last 2 records are missing: the cluster's head (shared document {key}) in \
             ConfigMap prod/captain-summit says seq {}, the file ends at {}",
            last["seq"], new_last["seq"]
        )),
        "{said}"
    );

    // A live command will not add to a journal the cluster says was cut short.
    let before = std::fs::read(&journal).unwrap();
    let o = captain(
        &kubeconfig,
        dir.path(),
        &["canary", "pause", "--yes", "--reason", "hide it"],
    )
    .await;
    let said = text(&o);
    assert_eq!(o.status.code(), Some(3), "{said}");
    assert!(said.contains("cannot be used"), "{said}");
    assert_eq!(std::fs::read(&journal).unwrap(), before, "nothing appended");

    // Both files gone: the journal is not "not there yet".
    std::fs::remove_file(&journal).unwrap();
    std::fs::remove_file(dir.path().join("audit.jsonl.head")).unwrap();
    let o = captain(&kubeconfig, dir.path(), &["audit", "verify"]).await;
    let said = text(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "the journal is empty, but the cluster's head (shared document {key}) in \
             ConfigMap prod/captain-summit says seq {}: all {} records are missing",
            last["seq"], last["seq"]
        )),
        "{said}"
    );
    // The copy in the cluster is evidence: nothing above overwrote it.
    assert_eq!(heads_in_cluster(&server)[0].1["body"]["seq"], last["seq"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_that_cannot_be_read_leaves_the_journal_unverified_unless_local() {
    let server = ApiServer::start().await;
    release(&server);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig();
    fake_helm(dir.path(), "v3.16.2+g13654a5", "Usage: helm rollback");
    let o = captain(
        &kubeconfig,
        dir.path(),
        &["canary", "rollback", "--yes", "--reason", "p99 regression"],
    )
    .await;
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", text(&o));
    drop(server);

    let o = captain(
        &kubeconfig,
        dir.path(),
        &["--timeout", "2s", "audit", "verify"],
    )
    .await;
    let said = text(&o);
    assert_eq!(o.status.code(), Some(3), "{said}");
    assert!(
        said.contains("records missing from the end cannot be ruled out")
            && said.contains("`--local`"),
        "{said}"
    );
    let o = captain(&kubeconfig, dir.path(), &["audit", "verify", "--local"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
