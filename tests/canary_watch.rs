//! `captain canary status --watch` through the real binary against the test API server: a
//! new row when the route's weight changes, nothing written, and the signal's exit status
//! (128 + its number) when it is stopped.

mod kube_tests_support;

use std::io::BufRead;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use chrono::Utc;
use nix::sys::signal::Signal;

use captain_testkit::apiserver::ApiServer;
use captain_testkit::kube::{http_route, put_release, route_weights};
use kube_tests_support::captain_command;

/// Longer than any wait here can take: past it the test fails instead of CI hanging.
const HUNG: Duration = Duration::from_secs(60);

/// Revision 7 deployed over 6, its canary at 25 % on the route.
fn at_25(server: &ApiServer) {
    server.put_namespace("prod", &[], Utc::now() - chrono::Duration::days(400));
    put_release(server, "summit", 6, "superseded", true);
    put_release(server, "summit", 7, "deployed", true);
    server.put_object(http_route(75, 25));
}

/// `canary status --watch <extra>`, its stdout a line at a time.
fn watch(
    server: &ApiServer,
    dir: &std::path::Path,
    extra: &[&str],
) -> (Child, mpsc::Receiver<String>) {
    let mut args = vec!["canary", "status", "--watch"];
    args.extend_from_slice(extra);
    let mut child = captain_command(&server.kubeconfig(), dir, "", &args, Some("unused"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the captain binary runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// The lines up to and including the first that `wanted` accepts.
fn until(rx: &mpsc::Receiver<String>, what: &str, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(HUNG) {
            Ok(line) => {
                let done = wanted(&line);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(e) => panic!("{what}: {e}; printed so far: {seen:#?}"),
        }
    }
}

fn stop(child: &mut Child, signal: Signal) -> Option<i32> {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
    child.wait().unwrap().code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_weight_on_the_route_is_a_new_row_and_ctrl_c_ends_it_with_130() {
    let server = ApiServer::start().await;
    at_25(&server);
    let dir = tempfile::tempdir().unwrap();
    let (mut child, lines) = watch(&server, dir.path(), &[]);

    let first = until(&lines, "the train at 25 %", |l| l.contains("25 %"));
    assert!(first[0].starts_with("RELEASE"), "a header first: {first:?}");
    assert!(first.last().unwrap().starts_with("summit"), "{first:?}");

    server.put_object(http_route(50, 50));
    let next = until(&lines, "a row for 50 %", |l| l.contains("50 %"));
    assert!(
        next.iter().all(|l| !l.starts_with("RELEASE")),
        "the header once: {next:?}"
    );
    let row: Vec<&str> = next.last().unwrap().split_whitespace().collect();
    assert_eq!(&row[..2], ["summit", "7"], "{next:?}");

    assert_eq!(stop(&mut child, Signal::SIGINT), Some(130));
    assert_eq!(route_weights(&server), (50, 50), "watching changes nothing");
    let journal = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap_or_default();
    assert_eq!(journal, "", "nothing journalled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_o_json_each_change_is_one_json_line_and_sigterm_ends_it_with_143() {
    let server = ApiServer::start().await;
    at_25(&server);
    let dir = tempfile::tempdir().unwrap();
    let (mut child, lines) = watch(&server, dir.path(), &["-o", "json"]);
    let weight = |l: &str| -> u64 {
        let v: serde_json::Value = serde_json::from_str(l)
            .unwrap_or_else(|e| panic!("one JSON document a line: {e}: {l}"));
        v["weight"].as_u64().unwrap()
    };
    let first = until(&lines, "the train at 25 %", |_| true);
    assert_eq!(weight(&first[0]), 25);
    server.put_object(http_route(95, 5));
    let next = until(&lines, "a document for 5 %", |_| true);
    assert_eq!(weight(&next[0]), 5, "the next document is the change");
    assert_eq!(stop(&mut child, Signal::SIGTERM), Some(143));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_whose_reader_has_gone_ends_at_its_next_row() {
    let server = ApiServer::start().await;
    at_25(&server);
    let dir = tempfile::tempdir().unwrap();
    // `| true`: the reader is gone before the first row.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = captain_command(
        &server.kubeconfig(),
        dir.path(),
        "",
        &["canary", "status", "--watch"],
        Some("unused"),
    )
    .stdout(writer)
    .stderr(Stdio::piped())
    .spawn()
    .expect("the captain binary runs");
    let deadline = std::time::Instant::now() + HUNG;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the watch went on with nobody reading");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
