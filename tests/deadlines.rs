//! No API server can keep captain waiting: the real binary against a server posing as the
//! API server that answers every request 503 (Retry-After: 1), one that answers 429, and
//! one that takes every request and sleeps 40 s. `canary status` gives up within its
//! budget, exits 3, and says why. Each test prints how long the command took. And in the
//! console, an action that waits on a remote call says on the status line what it waits on
//! and for how long, once a second.

mod kube_tests_support;
mod support;

use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use captain::engine::train::TrainCommand;
use captain::ops::driver::{self, Update};
use captain::ops::{Command, Confirmation, Confirmed};
use captain::sim::Scenario;
use captain::sources::deadline::wait_on;
use captain::sources::{Deployer, ReleaseRevision, SourceError};
use captain_testkit::apiserver::write_kubeconfig;
use captain_testkit::github::{self, Github};
use kube_tests_support::captain_command;
use support::Demo;
use tokio::sync::mpsc;

/// Kept short so the tests are quick; the default is 30 s.
const BUDGET: &str = "[timeouts]\nbudget = \"5s\"\n";
/// A command still running after this has hung: it is killed and the test fails.
const HUNG: Duration = Duration::from_secs(90);

/// A server that answers every request with `answer`, counting the requests.
struct Posing {
    url: String,
    requests: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Posing {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn posing<F, Fut>(answer: F) -> Posing
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response> + Send + 'static,
{
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    let app = Router::new().fallback(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        answer()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Posing {
        url,
        requests,
        server,
    }
}

/// A `Status` as the API server writes one, with `Retry-After`.
fn status(code: StatusCode, reason: &str, message: &str, retry_after: u64) -> Response {
    status_with(code, reason, message, retry_after, retry_after)
}

/// [`status`], with a `Retry-After` header of its own.
fn status_with(
    code: StatusCode,
    reason: &str,
    message: &str,
    retry_after: u64,
    header_says: u64,
) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16(),
        "details": {"retryAfterSeconds": retry_after},
    });
    let mut response = (code, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(header_says));
    response
}

/// `captain canary status` against `server` with a 5 s budget, killed if it hangs; the
/// output and how long it took.
async fn canary_status(server: &Posing) -> (Output, Duration) {
    captain_on(server, BUDGET, &["canary", "status"]).await
}

/// `captain <args>` against `server`, with `extra` in its captain.toml, as [`canary_status`].
async fn captain_on(server: &Posing, extra: &str, args: &[&str]) -> (Output, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = write_kubeconfig(dir.path(), &server.url);
    let cmd = captain_command(
        &kubeconfig,
        dir.path(),
        extra,
        args,
        Some("unused-in-this-command"),
    );
    let (output, took) = tokio::task::spawn_blocking(move || run_or_kill(cmd))
        .await
        .unwrap();
    drop(dir);
    (output, took)
}

fn run_or_kill(mut cmd: std::process::Command) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the captain binary runs");
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > HUNG {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "still running after {HUNG:?}: killed\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let took = started.elapsed();
    (child.wait_with_output().unwrap(), took)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_server_answering_503_makes_canary_status_give_up_with_exit_3_and_say_so() {
    let server = posing(|| async {
        status(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
            1,
        )
    })
    .await;
    let (o, took) = canary_status(&server).await;
    println!("503 with Retry-After 1, budget 5s: canary status returned in {took:.1?}");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let said = stderr(&o);
    println!("{said}");
    assert!(
        said.contains("the API server answered 503 Service Unavailable to every try")
            && said.contains("until the 5s budget ran out"),
        "{said}"
    );
    // Retry-After was followed: the history's list alone was tried more than once.
    assert!(
        server.requests.load(Ordering::SeqCst) > 2,
        "{} requests",
        server.requests.load(Ordering::SeqCst)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_server_answering_429_makes_canary_status_give_up_with_exit_3_and_the_reset() {
    let server = posing(|| async {
        status(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests, please try again later.",
            120,
        )
    })
    .await;
    let asked = chrono::Utc::now();
    let (o, took) = canary_status(&server).await;
    println!("429 with Retry-After 120, budget 5s: canary status returned in {took:.1?}");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let said = stderr(&o);
    println!("{said}");
    // The reset the server named, 120 s on, not a guess.
    let resets: Vec<String> = (0..=took.as_secs() + 1)
        .map(|s| {
            (asked + chrono::Duration::seconds(120 + s as i64))
                .format("%H:%M:%S")
                .to_string()
        })
        .collect();
    assert!(
        said.contains("the API server rate limited captain until")
            && said.contains("(429)")
            && resets.iter().any(|r| said.contains(r.as_str())),
        "expected a reset among {resets:?}: {said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_beyond_any_clock_is_a_rate_limit_not_a_crash() {
    let server = posing(|| async {
        status_with(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests, please try again later.",
            1,
            u64::MAX,
        )
    })
    .await;
    let (o, took) = canary_status(&server).await;
    println!("429 with Retry-After u64::MAX: canary status returned in {took:.1?}");
    let said = stderr(&o);
    println!("{said}");
    assert_eq!(o.status.code(), Some(3), "{said}");
    assert!(
        said.contains("the API server rate limited captain until") && !said.contains("panicked"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_server_that_never_answers_makes_canary_status_time_out_with_exit_3() {
    let server = posing(|| async {
        tokio::time::sleep(Duration::from_secs(40)).await;
        StatusCode::OK.into_response()
    })
    .await;
    let (o, took) = canary_status(&server).await;
    println!("40 s slow API server, budget 5s: canary status returned in {took:.1?}");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let said = stderr(&o);
    println!("{said}");
    assert!(
        said.contains(
            "timed out after 5s waiting for the API server (GET /api/v1/namespaces/prod/secrets)"
        ),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_list_against_an_api_server_answering_503_exits_3_within_the_timeout_flags_budget()
{
    let server = posing(|| async {
        status(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
            1,
        )
    })
    .await;
    // The flag wins over the file's budget.
    let (o, took) = captain_on(
        &server,
        "[timeouts]\nbudget = \"10m\"\n",
        &["--timeout", "4s", "previews", "list"],
    )
    .await;
    println!("503 with Retry-After 1, --timeout 4s: previews list returned in {took:.1?}");
    let said = stderr(&o);
    println!("{said}");
    assert_eq!(o.status.code(), Some(3), "{said}");
    assert!(
        said.contains("the API server answered 503 Service Unavailable to every try")
            && said.contains("until the 4s budget ran out (GET /api/v1/namespaces)"),
        "{said}"
    );
}

/// The world's release, its rollback as slow as a helm rollback waiting on a cluster.
struct SlowRollback(Arc<dyn Deployer>);

#[async_trait::async_trait]
impl Deployer for SlowRollback {
    async fn history(&self) -> Result<Vec<ReleaseRevision>, SourceError> {
        self.0.history().await
    }

    async fn rollback(&self, revision: u32, reason: Option<&str>) -> Result<String, SourceError> {
        let _waiting = wait_on("helm rollback");
        tokio::time::sleep(Duration::from_millis(2500)).await;
        self.0.rollback(revision, reason).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_waiting_on_helm_says_so_on_the_status_line_once_a_second_until_its_outcome() {
    let demo = Demo::with(Scenario::Drill, false, |mut b| {
        b.deployer = Arc::new(SlowRollback(b.deployer));
        b
    })
    .await;
    let Demo {
        mut app,
        clock,
        op,
        dir: _journal,
        ..
    } = demo;
    let (requests, request_rx) = mpsc::channel(8);
    let (update_tx, mut updates) = mpsc::channel(256);
    // One measurement at start, the next an hour later: only the rollback happens here.
    tokio::spawn(driver::run(
        op,
        Arc::new(clock),
        Duration::from_secs(3600),
        request_rx,
        update_tx,
    ));
    requests
        .send(Confirmed {
            seen: None,
            command: Command::Train(TrainCommand::Rollback { to_revision: None }),
            reason: Some("drill".into()),
            confirmation: Confirmation::Dialog,
        })
        .await
        .unwrap();
    let status = |app: &captain::tui::App| app.ui.status.clone().map(|s| s.0).unwrap_or_default();
    let mut said = Vec::new();
    let outcome = loop {
        let update = tokio::time::timeout(HUNG, updates.recv())
            .await
            .expect("the rollback ends")
            .expect("the driver runs");
        match update {
            Update::Outcome(o) if o.action == "rollback" => {
                app.apply(Update::Outcome(o.clone()));
                break o;
            }
            waiting @ Update::Waiting { .. } => {
                app.apply(waiting);
                said.push(status(&app));
            }
            other => app.apply(other),
        }
    };
    println!("{said:#?}");
    assert!(outcome.ok, "{outcome:?}");
    assert_eq!(
        said.first().map(String::as_str),
        Some("rollback: waiting on helm rollback… 1s"),
        "{said:?}"
    );
    assert!(
        said.iter()
            .all(|s| s.starts_with("rollback: waiting on helm rollback… ")),
        "{said:?}"
    );
    assert!(
        said.contains(&"rollback: waiting on helm rollback… 2s".to_string()),
        "{said:?}"
    );
    assert!(
        status(&app).starts_with("rollback summit: done"),
        "the outcome replaces the wait: {}",
        status(&app)
    );
}

/// `captain main status` against the GitHub mock with a 5 s budget, killed if it hangs.
async fn main_status(github: &Github) -> (Output, Duration) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("captain.toml"),
        format!(
            "[github]\nrepo = \"acme/summit\"\napi_url = \"{}\"\n{BUDGET}",
            github.api_url()
        ),
    )
    .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_captain"));
    cmd.arg("--config")
        .arg(dir.path().join("captain.toml"))
        .args(["main", "status"])
        .env("GITHUB_TOKEN", "ghp_deadlines")
        .env("CAPTAIN_STATE_DIR", dir.path())
        .stdin(std::process::Stdio::null());
    let out = tokio::task::spawn_blocking(move || run_or_kill(cmd))
        .await
        .unwrap();
    drop(dir);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_status_against_a_rate_limited_github_exits_3_with_the_reset() {
    let github = Github::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(
            github::json(
                429,
                r#"{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest"}"#.into(),
            )
            .insert_header("retry-after", "120"),
        )
        .mount(&github.server)
        .await;
    let asked = chrono::Utc::now();
    let (o, took) = main_status(&github).await;
    println!("GitHub 429 with retry-after 120, budget 5s: main status returned in {took:.1?}");
    let said = stderr(&o);
    println!("{said}");
    assert_eq!(o.status.code(), Some(3), "{said}");
    let resets: Vec<String> = (0..=took.as_secs() + 1)
        .map(|s| {
            (asked + chrono::Duration::seconds(120 + s as i64))
                .format("%H:%M:%S")
                .to_string()
        })
        .collect();
    assert!(
        said.contains("GitHub: rate limited until")
            && resets.iter().any(|r| said.contains(r.as_str())),
        "expected a reset among {resets:?}: {said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_status_against_a_github_that_never_answers_exits_3_when_the_budget_runs_out() {
    let github = Github::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(github::json(200, "{}".into()).set_delay(Duration::from_secs(40)))
        .mount(&github.server)
        .await;
    let (o, took) = main_status(&github).await;
    println!("GitHub answering after 40 s, budget 5s: main status returned in {took:.1?}");
    let said = stderr(&o);
    println!("{said}");
    assert_eq!(o.status.code(), Some(3), "{said}");
    assert!(
        said.contains("GitHub: unreachable: timed out after 5s waiting for the first answer"),
        "{said}"
    );
}
