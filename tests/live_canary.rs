//! The live canary from start to finish, as CI runs it: the real binary's `captain canary
//! run` against the wire-faithful test API server (the release's Helm Secrets, its HTTPRoute
//! and the shared train's ConfigMap and Lease) and a real Prometheus scraping an exporter the
//! test controls, with a recording `helm` on PATH. A fresh revision at 0 % is started and
//! promoted through every step; a breach is rolled back by helm with its reason, also when
//! the shared state was deleted under the run or the API server came back without it; a
//! route changed by hand mid-run is followed as drift. Weights are read from the API server,
//! never from what captain says.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::Value;

use captain_testkit::apiserver::ApiServer;
use captain_testkit::kube::{
    fake_helm, helm_calls, http_route, put_helm_rollback, put_release, route_weights,
};
use captain_testkit::prometheus::{Stack, Track, Traffic, free_port};

/// A run that has not ended in this long is hung: the test fails instead of CI hanging.
const HUNG: Duration = Duration::from_secs(180);

const CONFIGMAP: &str = "captain-summit";

fn healthy() -> Traffic {
    Traffic {
        rps: 20.0,
        error_ratio: 0.01,
        latency: 0.08,
    }
}

fn breaching() -> Traffic {
    Traffic {
        error_ratio: 0.6,
        ..healthy()
    }
}

/// Short windows, 1 s measurements, rollback after 2 failed ones.
const SLO: &str = r#"version: 1
selectors: {canary: 'track="canary"', stable: 'track="stable"'}
rollout:
  steps:
    - {weight: 5,   observe: 4s}
    - {weight: 25,  observe: 4s}
    - {weight: 50,  observe: 6s}
    - {weight: 100, observe: 4s}
  interval: 1s
  initial_delay: 1s
  on_fail: rollback
  rollback_to: previous
defaults:
  failure_limit: 2
  error_limit: 6
  no_data: inconclusive
  min_requests: 20
slis:
  error_rate:  {query: 'sum(rate(http_requests_total{code=~"5..",$selector}[$window])) / sum(rate(http_requests_total{$selector}[$window]))'}
  latency_p99: {query: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{$selector}[$window])))'}
  traffic:     {query: 'sum(rate(http_requests_total{$selector}[$window]))'}
objectives:
  - {sli: error_rate,  key: true, weight: 2, pass: {lte: 0.05}}
  - {sli: latency_p99, weight: 1, pass: {lte: 0.5}, warn: {lte: 0.8}}
score: {pass: 90, warn: 75}
"#;

/// The release as a deploy leaves it: revision 7 deployed by `helm upgrade`, 6 before it,
/// the route sending nothing to the canary yet.
fn fresh_deploy(server: &ApiServer) {
    server.put_namespace("prod", &[], Utc::now() - chrono::Duration::days(400));
    put_release(server, "summit", 6, "superseded", true);
    put_release(server, "summit", 7, "deployed", true);
    server.put_object(http_route(100, 0));
}

/// A real Prometheus with a full query window of healthy history, the test API server with
/// a fresh deploy, and a state dir configured for both.
struct Live {
    stack: Stack,
    server: ApiServer,
    dir: tempfile::TempDir,
}

impl Live {
    /// `None` when Prometheus is not installed (and this is not CI): the test is skipped.
    async fn fresh_deploy() -> Option<Live> {
        let stack = Stack::start(healthy(), healthy()).await?;
        stack.wait_for_history(31).await;
        let server = ApiServer::start().await;
        fresh_deploy(&server);
        let dir = tempfile::tempdir().unwrap();
        configure(dir.path(), &stack.prometheus.url);
        Some(Live { stack, server, dir })
    }
}

fn configure(dir: &Path, prometheus: &str) {
    std::fs::write(
        dir.join("captain.toml"),
        format!(
            "[release]\nname = \"summit\"\nnamespace = \"prod\"\n\
             [github]\napi_url = \"http://127.0.0.1:9\"\n\
             [prometheus]\nurl = \"{prometheus}\"\n[slo]\nfile = \"slo.yml\"\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("slo.yml"), SLO).unwrap();
    fake_helm(dir, "v3.16.2+g13654a5", "Usage: helm rollback");
}

/// `captain <args>` against the test servers, with the fake helm first on PATH.
fn captain(server: &ApiServer, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_captain"));
    cmd.arg("--config")
        .arg(dir.join("captain.toml"))
        .args(args)
        .env("KUBECONFIG", server.kubeconfig())
        .env("CAPTAIN_STATE_DIR", dir)
        .env("GITHUB_TOKEN", "unused-by-the-canary")
        .env(
            "PATH",
            format!(
                "{}:{}",
                dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .stdin(Stdio::null());
    cmd
}

/// A `canary run` under way, watched through the API server.
struct Run {
    child: Child,
    started: Instant,
    /// Each canary weight the route held, in order, as read from the server.
    weights: Vec<u64>,
}

impl Run {
    fn spawn(server: &ApiServer, dir: &Path) -> Run {
        let child = captain(server, dir, &["canary", "run"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the captain binary runs");
        Run {
            child,
            started: Instant::now(),
            weights: vec![route_weights(server).1],
        }
    }

    /// Follow the route until the run ends; `at` is called on every new canary weight.
    /// Returns the exit code and everything the run printed.
    async fn follow(
        mut self,
        server: &ApiServer,
        mut at: impl FnMut(u64, &[u64]),
    ) -> (i32, String, Vec<u64>) {
        loop {
            let weight = route_weights(server).1;
            if self.weights.last() != Some(&weight) {
                self.weights.push(weight);
                at(weight, &self.weights);
            }
            if let Some(status) = self.child.try_wait().expect("waiting on captain") {
                let out = self.child.wait_with_output().expect("captain's output");
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                let last = route_weights(server).1;
                if self.weights.last() != Some(&last) {
                    self.weights.push(last);
                }
                return (status.code().unwrap_or(-1), text, self.weights);
            }
            if self.started.elapsed() > HUNG {
                let _ = self.child.kill();
                let out = self.child.wait_with_output().expect("captain's output");
                panic!(
                    "canary run did not end within {HUNG:?}; route weights {:?}\n{}{}",
                    self.weights,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn journal(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a journal record"))
        .collect()
}

fn outcomes<'a>(records: &'a [Value], action: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["phase"] == "outcome" && r["action"] == action)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_revision_at_zero_is_started_by_canary_run_and_promoted_through_every_step() {
    let Some(Live {
        stack: _stack,
        server,
        dir,
    }) = Live::fresh_deploy().await
    else {
        return;
    };

    let (code, text, weights) = Run::spawn(&server, dir.path())
        .follow(&server, |_, _| {})
        .await;
    assert_eq!(code, 0, "promoted: {text}");
    assert_eq!(
        weights,
        [0, 5, 25, 50, 100],
        "the route, read from the API server\n{text}"
    );
    let records = journal(dir.path());
    let start = outcomes(&records, "start");
    assert_eq!(start.len(), 1, "{records:#?}");
    assert_eq!(start[0]["actor"]["automatic"], true);
    assert!(
        start[0]["reason"].as_str().unwrap().contains("new canary"),
        "{}",
        start[0]
    );
    assert!(
        start[0]["result"]
            .as_str()
            .unwrap()
            .contains("canary weight 5 %"),
        "the weight read back: {}",
        start[0]
    );
    let promotes = outcomes(&records, "promote");
    assert_eq!(promotes.len(), 3, "{records:#?}");
    assert!(helm_calls(dir.path()).is_empty(), "nothing rolled back");

    // A train that ended is never started again by itself.
    let again = captain(&server, dir.path(), &["canary", "run"])
        .output()
        .unwrap();
    let again_text = String::from_utf8_lossy(&again.stdout).to_string()
        + &String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(0), "{again_text}");
    assert!(again_text.contains("promoted"), "{again_text}");
    assert_eq!(route_weights(&server), (0, 100));
    assert_eq!(outcomes(&journal(dir.path()), "start").len(), 1);
}

/// Sets the canary breaching once the route sends it 50 %; the time it did, and the time
/// the route went back to 0.
#[derive(Default)]
struct Breach {
    at: Option<Instant>,
    rolled_back: Option<Instant>,
}

impl Breach {
    fn watch(&mut self, stack: &Stack, weight: u64) {
        if weight == 50 && self.at.is_none() {
            stack.exporter.set(Track::Canary, breaching());
            self.at = Some(Instant::now());
        }
        if weight == 0 && self.at.is_some() && self.rolled_back.is_none() {
            self.rolled_back = Some(Instant::now());
        }
    }

    fn seconds(&self) -> f64 {
        let (Some(at), Some(back)) = (self.at, self.rolled_back) else {
            panic!("no breach rolled back");
        };
        (back - at).as_secs_f64()
    }
}

fn assert_rolled_back_by_helm(server: &ApiServer, dir: &Path, code: i32, text: &str) {
    assert_eq!(code, 1, "rolled back: {text}");
    assert_eq!(route_weights(server), (100, 0), "no traffic to the canary");
    let calls = helm_calls(dir);
    assert_eq!(&calls[..3], ["rollback", "summit", "6"], "{calls:?}");
    let records = journal(dir);
    let rollback = outcomes(&records, "rollback");
    assert_eq!(rollback.len(), 1, "{records:#?}");
    let result = rollback[0]["result"].as_str().unwrap();
    assert!(
        result.starts_with("ok:") && result.contains("helm rolled back to revision 6"),
        "{result}"
    );
    assert!(
        rollback[0]["reason"]
            .as_str()
            .unwrap()
            .contains("consecutive failed measurements"),
        "{}",
        rollback[0]
    );
    // What helm itself leaves behind, which the recording helm does not: without it the
    // next look finds revision 7 still deployed, and the rollback unfinished.
    put_helm_rollback(server, "summit", 7, 6);
    let status = captain(server, dir, &["canary", "status", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["status"]["state"], "rolled_back", "{v}");
    assert_eq!(v["weight"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breach_at_50_percent_is_rolled_back_by_helm_with_its_reason_and_exit_1() {
    let Some(Live { stack, server, dir }) = Live::fresh_deploy().await else {
        return;
    };

    let mut breach = Breach::default();
    let (code, text, weights) = Run::spawn(&server, dir.path())
        .follow(&server, |w, _| breach.watch(&stack, w))
        .await;
    assert_eq!(weights, [0, 5, 25, 50, 0], "{text}");
    assert_rolled_back_by_helm(&server, dir.path(), code, &text);
    println!(
        "breach at 50 % to route at 0 %: {:.1} s (failure_limit 2 × interval 1 s, plus the \
         time Prometheus takes to show the breach in a 30 s rate window)",
        breach.seconds()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breach_and_its_rollback_are_posted_to_the_notify_webhook_a_failed_post_once_more() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let Some(Live { stack, server, dir }) = Live::fresh_deploy().await else {
        return;
    };
    let hook = MockServer::start().await;
    // The webhook fails its first post, then takes every one.
    Mock::given(method("POST"))
        .and(path("/services/T0/B0/s3cret"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&hook)
        .await;
    Mock::given(method("POST"))
        .and(path("/services/T0/B0/s3cret"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&hook)
        .await;
    let config = dir.path().join("captain.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "[notify]\nurl = \"{}/services/T0/B0/s3cret\"\n",
        hook.uri()
    ));
    std::fs::write(&config, text).unwrap();

    let mut breach = Breach::default();
    let (code, text, _) = Run::spawn(&server, dir.path())
        .follow(&server, |w, _| breach.watch(&stack, w))
        .await;
    assert_rolled_back_by_helm(&server, dir.path(), code, &text);
    let posts = hook.received_requests().await.unwrap();
    let texts: Vec<String> = posts
        .iter()
        .map(|p| {
            assert_eq!(
                p.headers.get("content-type").map(|v| v.as_bytes()),
                Some(&b"application/json"[..])
            );
            let v: Value = serde_json::from_slice(&p.body).expect("JSON");
            v["text"].as_str().expect("Slack's text field").to_string()
        })
        .collect();
    assert_eq!(
        texts.len(),
        3,
        "the breach twice (503, then once more), the rollback: {texts:#?}"
    );
    // Each post goes on its own: the breach's second try and the rollback's may cross.
    let breach: Vec<&String> = texts.iter().filter(|t| t.contains("SLO breach")).collect();
    assert_eq!(breach.len(), 2, "{texts:#?}");
    assert_eq!(breach[0], breach[1], "the same post tried once more");
    assert_eq!(&texts[0], breach[0], "the breach is posted first");
    assert!(
        breach[0].starts_with("summit revision 7 at 50 %: SLO breach, 1/2 failed measurements: "),
        "{}",
        breach[0]
    );
    assert!(
        breach[0].contains("&lt;= 5.00%"),
        "escaped for Slack: {}",
        breach[0]
    );
    let rollback = texts
        .iter()
        .find(|t| !t.contains("SLO breach"))
        .expect("the rollback's post");
    assert!(
        rollback.starts_with("summit revision 7: rollback done (automatic): ")
            && rollback.contains("helm rolled back to revision 6")
            && rollback.contains(" · why: ")
            && rollback.contains("automatic: 2 consecutive failed measurements"),
        "{rollback}"
    );
    let log = std::fs::read_to_string(dir.path().join("captain.log")).unwrap_or_default();
    let host = hook.uri().trim_start_matches("http://").to_string();
    assert!(log.contains(&format!("notified {host}")), "{log}");
    assert!(
        log.contains("HTTP 503 Service Unavailable; trying once more"),
        "{log}"
    );
    assert!(
        !log.contains("s3cret") && !text.contains("s3cret"),
        "the URL's secret stays out of the log"
    );
}

/// A run that loses its shared state at 25 % (`lose` says whether there was one to lose),
/// then breaches at 50 %: the breach is rolled back all the same, the shared train is
/// written anew, and the run's log and captain's log file say why.
async fn breach_after_losing_the_shared_state(what: &str, lose: impl Fn(&ApiServer) -> bool) {
    let Some(Live { stack, server, dir }) = Live::fresh_deploy().await else {
        return;
    };

    let mut breach = Breach::default();
    let mut lost = false;
    let (code, text, _) = Run::spawn(&server, dir.path())
        .follow(&server, |w, _| {
            if w == 25 && !lost {
                lost = lose(&server);
            }
            breach.watch(&stack, w);
        })
        .await;
    assert!(lost, "the shared train was there to lose: {text}");
    assert_rolled_back_by_helm(&server, dir.path(), code, &text);
    let configmap = server
        .object("configmaps", Some("prod"), CONFIGMAP)
        .expect("the shared train written anew");
    let train: Value =
        serde_json::from_str(configmap["data"]["train.json"].as_str().unwrap()).unwrap();
    assert_eq!(train["body"]["status"]["state"], "rolled_back", "{train}");
    // CI's log of the run says why, and so does captain's own log file.
    assert!(text.contains("was gone"), "stderr says why:\n{text}");
    let log = std::fs::read_to_string(dir.path().join("captain.log")).unwrap_or_default();
    assert!(log.contains("was gone"), "the log file says why:\n{log}");
    println!("breach to rollback {what}: {:.1} s", breach.seconds());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breach_is_rolled_back_even_when_the_shared_train_was_deleted_under_the_run() {
    breach_after_losing_the_shared_state("with the shared state deleted", |server| {
        // Someone deletes captain's state by hand.
        server
            .remove_object("configmaps", Some("prod"), CONFIGMAP)
            .is_some()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breach_is_rolled_back_even_when_the_api_server_came_back_without_the_shared_state() {
    breach_after_losing_the_shared_state("after the API server came back empty", |server| {
        // An API server restored from an older backup, or one whose store was lost: the
        // shared train and the driver's lease are gone, every watch ends, and the history
        // the watches would resume from is gone with them.
        let train = server.remove_object("configmaps", Some("prod"), CONFIGMAP);
        let lease = server.remove_object("leases.coordination.k8s.io", Some("prod"), CONFIGMAP);
        server.expire_watch_history();
        server.close_watches();
        train.is_some() && lease.is_some()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_driving_run_is_killed_the_other_takes_the_lease_and_rolls_the_breach_back() {
    let Some(Live { stack, server, dir }) = Live::fresh_deploy().await else {
        return;
    };
    // Two drivers of one release, as two CI jobs or two clusters' `canary run`s would be:
    // each its own state dir (journal), one shared train and lease in the cluster.
    let other = tempfile::tempdir().unwrap();
    configure(other.path(), &stack.prometheus.url);

    let mut first = Run::spawn(&server, dir.path());
    let deadline = Instant::now() + HUNG;
    while route_weights(&server).1 != 5 {
        assert!(
            Instant::now() < deadline,
            "the first run never started the canary"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let second = Run::spawn(&server, other.path());
    while route_weights(&server).1 != 25 {
        assert!(
            Instant::now() < deadline,
            "the first run never promoted to 25 %"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The driver dies without a word (kill -9): its lease is left to expire.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let killed = Instant::now();
    stack.exporter.set(Track::Canary, breaching());

    let (code, text, _) = second.follow(&server, |_, _| {}).await;
    assert_rolled_back_by_helm(&server, other.path(), code, &text);
    let lease = server
        .object("leases.coordination.k8s.io", Some("prod"), CONFIGMAP)
        .expect("the driver's lease");
    let holder = lease["spec"]["holderIdentity"].as_str().unwrap_or_default();
    assert!(
        holder.is_empty() || !holder.ends_with(&format!("#{}", first.child.id())),
        "the killed run does not hold it: {lease}"
    );
    println!(
        "driver killed to rollback by the other: {:.1} s (a lease of 15 s, then failure_limit \
         2 × interval 1 s)",
        killed.elapsed().as_secs_f64()
    );
}

/// An address on loopback nothing listens on yet, for a driver's `/healthz`.
fn free_address() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// SIGTERM, as a Deployment's rollout sends it, and the exit it leads to.
async fn stop_with_sigterm(driver: &mut Child) -> std::process::ExitStatus {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(driver.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = driver.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "SIGTERM did not stop the driver");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Poll until the route sends the canary `weight`, or fail saying what was awaited.
async fn until_canary_at(server: &ApiServer, weight: u64, what: &str, child: &mut Child) {
    let deadline = Instant::now() + HUNG;
    while route_weights(server).1 != weight {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the driver exited ({status}) before {what}");
        }
        assert!(Instant::now() < deadline, "{what}: never happened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captain_drive_runs_each_new_revision_unattended_reports_health_and_hands_the_lease_back() {
    let Some(Live {
        stack: _stack,
        server,
        dir,
    }) = Live::fresh_deploy().await
    else {
        return;
    };
    let health = free_address();
    let mut driver = captain(&server, dir.path(), &["drive", "--health", &health])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    until_canary_at(&server, 100, "revision 7 promoted to 100 %", &mut driver).await;
    let answer = reqwest::get(format!("http://{health}/healthz"))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["revision"], 7, "{body}");
    assert_eq!(body["drives"], true, "{body}");

    // The next deploy: revision 8, the chart's route back to all stable.
    put_release(&server, "summit", 7, "superseded", true);
    put_release(&server, "summit", 8, "deployed", true);
    server.put_object(http_route(100, 0));
    until_canary_at(&server, 5, "revision 8's canary started", &mut driver).await;

    let status = stop_with_sigterm(&mut driver).await;
    assert_eq!(status.code(), Some(0));
    let lease = server
        .object("leases.coordination.k8s.io", Some("prod"), CONFIGMAP)
        .expect("the driver's lease");
    assert!(
        lease["spec"]["holderIdentity"]
            .as_str()
            .is_none_or(str::is_empty),
        "given up on the way out: {lease}"
    );
    let records = journal(dir.path());
    assert_eq!(outcomes(&records, "start").len(), 2, "{records:#?}");
}

/// A `canary run` in which `change` happens to the cluster once, when the route first sends
/// the canary 25 %; the exit code, what the run printed and the weights the route held.
async fn run_changing_at_25(
    server: &ApiServer,
    dir: &Path,
    change: impl FnOnce(&ApiServer),
) -> (i32, String, Vec<u64>) {
    let mut change = Some(change);
    let (code, text, weights) = Run::spawn(server, dir)
        .follow(server, |w, _| {
            if w == 25
                && let Some(change) = change.take()
            {
                change(server);
            }
        })
        .await;
    assert!(change.is_none(), "the route never sent 25 %: {text}");
    (code, text, weights)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_changed_by_hand_during_the_run_is_drift_the_run_follows() {
    let Some(Live {
        stack: _stack,
        server,
        dir,
    }) = Live::fresh_deploy().await
    else {
        return;
    };

    let (code, text, weights) = run_changing_at_25(&server, dir.path(), |server| {
        // kubectl edit: the canary back to 5 % while the train is at 25 %.
        server.put_object(http_route(95, 5));
    })
    .await;
    assert_eq!(code, 0, "promoted after all: {text}");
    assert_eq!(
        weights,
        [0, 5, 25, 5, 25, 50, 100],
        "the run measured 5 % again before promoting, as the cluster had it\n{text}"
    );
    assert!(
        text.contains("drift: the shared train says progressing at 25 % but the route sends 5 %"),
        "the run's log says what it found:\n{text}"
    );
    // The route has one watch (a re-watch at most) for the whole run.
    let counts = server.request_counts();
    let watches = counts
        .get(&("watch".to_string(), "httproutes".to_string()))
        .copied();
    assert!(
        matches!(watches, Some(1..=2)),
        "one watch of the route: {counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_during_the_run_ends_its_train_instead_of_passing_for_drift() {
    let Some(Live {
        stack: _stack,
        server,
        dir,
    }) = Live::fresh_deploy().await
    else {
        return;
    };

    let (code, text, weights) = run_changing_at_25(&server, dir.path(), |server| {
        // `helm upgrade` of revision 8: its chart sends everything to stable.
        put_release(server, "summit", 7, "superseded", true);
        put_release(server, "summit", 8, "deployed", true);
        server.put_object(http_route(100, 0));
    })
    .await;
    assert_eq!(code, 2, "ended, for the new revision's own run: {text}");
    assert_eq!(weights, [0, 5, 25, 0], "nothing promoted after: {text}");
    assert!(
        text.contains("revision 8 was deployed while this run drove revision 7"),
        "{text}"
    );
    assert!(!text.contains("drift:"), "not taken for drift: {text}");
    assert!(helm_calls(dir.path()).is_empty(), "nothing rolled back");
}

/// Another release's route, shaped as the chart gives summit's.
fn route_of(release: &str, stable: u64, canary: u64) -> Value {
    let mut route = http_route(stable, canary);
    route["metadata"]["name"] = Value::from(release);
    let refs = &mut route["spec"]["rules"][0]["backendRefs"];
    refs[0]["name"] = Value::from(format!("{release}-stable"));
    refs[1]["name"] = Value::from(format!("{release}-canary"));
    route
}

fn canary_weight_of(server: &ApiServer, release: &str) -> u64 {
    let route = server
        .object(
            "httproutes.gateway.networking.k8s.io",
            Some("prod"),
            release,
        )
        .expect("the route");
    route["spec"]["rules"][0]["backendRefs"][1]["weight"]
        .as_u64()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_captain_drive_runs_two_releases_each_with_its_own_lease_and_journal() {
    let Some(Live {
        stack: _stack,
        server,
        dir,
    }) = Live::fresh_deploy().await
    else {
        return;
    };
    // A second release in the namespace, freshly deployed too, described by its own
    // captain.toml beside summit's (the same Prometheus and slo.yml).
    put_release(&server, "base", 3, "superseded", true);
    put_release(&server, "base", 4, "deployed", true);
    server.put_object(route_of("base", 100, 0));
    let summit = std::fs::read_to_string(dir.path().join("captain.toml")).unwrap();
    std::fs::write(
        dir.path().join("base.toml"),
        summit.replace("name = \"summit\"", "name = \"base\"") + "[traffic]\nroute = \"base\"\n",
    )
    .unwrap();
    let health = free_address();
    let base_toml = dir.path().join("base.toml");
    let mut driver = captain(
        &server,
        dir.path(),
        &[
            "drive",
            "--health",
            &health,
            "--release",
            base_toml.to_str().unwrap(),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();

    let deadline = Instant::now() + HUNG;
    while (route_weights(&server).1, canary_weight_of(&server, "base")) != (100, 100) {
        if let Some(status) = driver.try_wait().unwrap() {
            panic!("the driver exited ({status}) before both were promoted");
        }
        assert!(
            Instant::now() < deadline,
            "both promoted: never happened (summit {}, base {})",
            route_weights(&server).1,
            canary_weight_of(&server, "base")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let answer = reqwest::get(format!("http://{health}/healthz"))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["releases"]["summit"]["revision"], 7, "{body}");
    assert_eq!(body["releases"]["base"]["revision"], 4, "{body}");

    let status = stop_with_sigterm(&mut driver).await;
    assert_eq!(status.code(), Some(0));
    for release in ["summit", "base"] {
        let lease = server
            .object(
                "leases.coordination.k8s.io",
                Some("prod"),
                &format!("captain-{release}"),
            )
            .expect("the driver's lease");
        assert!(
            lease["spec"]["holderIdentity"]
                .as_str()
                .is_none_or(str::is_empty),
            "{release}'s given up on the way out: {lease}"
        );
        // Each release's journal apart, under the state directory.
        let records = journal(&dir.path().join(release));
        assert_eq!(
            outcomes(&records, "start").len(),
            1,
            "{release}: {records:#?}"
        );
        assert_eq!(
            outcomes(&records, "promote").len(),
            3,
            "{release}: {records:#?}"
        );
    }
    // The driver never watched the preview namespaces: it has no use for them.
    let counts = server.request_counts();
    assert_eq!(
        counts.get(&("watch".to_string(), "namespaces".to_string())),
        None,
        "{counts:?}"
    );
}
