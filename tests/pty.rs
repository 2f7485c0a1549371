//! The real binary in a pseudo-terminal: keys in, screen text and audit records out.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

use captain_testkit::apiserver::{ApiServer, write_kubeconfig};
use captain_testkit::github::{self, Checks, Github};
use captain_testkit::kube::{fake_helm, http_route, put_release};

struct Console {
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    /// Kept to read the terminal's modes; the reader thread reads a clone of it.
    master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Console {
    fn start(args: &[&str], state: &std::path::Path) -> Console {
        Self::start_with(args, state, &[])
    }

    /// As [`Console::start`], with `env` set for the binary.
    fn start_with(args: &[&str], state: &std::path::Path, env: &[(&str, &str)]) -> Console {
        Self::start_sized(args, state, env, (40, 120))
    }

    /// As [`Console::start_with`], on a terminal of `size` (rows, columns).
    fn start_sized(
        args: &[&str],
        state: &std::path::Path,
        env: &[(&str, &str)],
        (rows, cols): (u16, u16),
    ) -> Console {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_captain"));
        cmd.args(args);
        cmd.env("CAPTAIN_STATE_DIR", state);
        cmd.env("TERM", "xterm-256color");
        cmd.cwd(state);
        for (name, value) in env {
            cmd.env(name, value);
        }
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZero::new(rows).unwrap(),
            std::num::NonZero::new(cols).unwrap(),
            0,
        )));
        let feed = screen.clone();
        let master = pty.master;
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                feed.lock().unwrap().process(&buf[..n]);
            }
        });
        Console {
            screen,
            writer,
            child,
            master,
        }
    }

    fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Wait until the screen satisfies `ok`, or fail with what it shows.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let t = self.text();
            if ok(&t) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{t}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn keys(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // A lone ESC is told apart from an escape sequence by the pause after it.
        std::thread::sleep(Duration::from_millis(60));
    }
}

/// A canary of `summit` under way at 25 % in `prod` (revisions 6 and 7), as a console
/// joining it finds it.
fn canary_at_25(server: &ApiServer) {
    server.put_namespace(
        "prod",
        &[],
        chrono::Utc::now() - chrono::Duration::days(400),
    );
    put_release(server, "summit", 6, "superseded", true);
    put_release(server, "summit", 7, "deployed", true);
    server.put_object(http_route(75, 25));
}

/// captain.toml for `summit` in `prod` in `dir` (GitHub and Prometheus at a closed port,
/// the timeout `budget`, then `extra`), and the repository's slo.yml measured every
/// `interval`.
fn live_config(dir: &std::path::Path, budget: &str, interval: &str, extra: &str) {
    live_config_with_github(dir, "http://127.0.0.1:9", budget, interval, extra);
}

/// As [`live_config`], with GitHub at `github`.
fn live_config_with_github(
    dir: &std::path::Path,
    github: &str,
    budget: &str,
    interval: &str,
    extra: &str,
) {
    std::fs::write(
        dir.join("captain.toml"),
        format!(
            "[release]\nname = \"summit\"\nnamespace = \"prod\"\n\
             [github]\napi_url = \"{github}\"\n\
             [prometheus]\nurl = \"http://127.0.0.1:9\"\n\
             [slo]\nfile = \"slo.yml\"\n[timeouts]\nbudget = \"{budget}\"\n{extra}"
        ),
    )
    .unwrap();
    let slo = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/config/slo.yml"))
        .unwrap()
        .replace("interval: 30s", &format!("interval: {interval}"));
    std::fs::write(dir.join("slo.yml"), slo).unwrap();
}

/// `$PATH` with `dir` first, so the programs a test put there are the ones run.
fn path_first(dir: &std::path::Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn a_rollback_from_the_console_is_confirmed_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start(&["--demo=breach", "--speed", "50"], dir.path());
    c.wait_for("all five panels", |t| {
        ["Phases", "Canary", "Previews", "Main health", "Log"]
            .iter()
            .all(|p| t.contains(p))
    });

    c.keys("?");
    c.wait_for("the help overlay", |t| {
        t.contains("Help") && t.contains("what it does")
    });
    c.keys("\x1b");
    c.wait_for("the help overlay to close", |t| !t.contains("what it does"));

    c.keys("R");
    c.wait_for("the rollback dialog", |t| t.contains("Roll back summit"));
    c.keys("\r");
    c.wait_for("the dialog to insist on a reason", |t| {
        t.contains("a reason is required")
    });
    c.keys("drill from the pty test\t");
    c.keys("summit\r");
    c.wait_for("the rollback to be done", |t| {
        t.contains("rollback summit: done") && t.contains("ROLLED BACK")
    });
    let screen = c.text();
    assert!(screen.contains("ROLLED BACK"), "{screen}");

    let audit = std::fs::read_to_string(dir.path().join("demo-audit.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rollback: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["action"] == "rollback")
        .collect();
    assert_eq!(rollback.len(), 2, "{audit}");
    assert_eq!(rollback[0]["phase"], "intent");
    assert_eq!(rollback[1]["phase"], "outcome");
    assert_eq!(rollback[0]["trace_id"], rollback[1]["trace_id"]);
    for r in &rollback {
        assert_eq!(r["confirmation"], "typed");
        assert_eq!(r["reason"], "drill from the pty test");
        assert!(
            r["actor"].get("automatic").is_none(),
            "a human did this: {r}"
        );
    }
    assert!(rollback[1]["result"].as_str().unwrap().starts_with("ok:"));

    c.keys("q");
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "q did not quit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What each signal must end the console with: 128 + its number, as a shell reports it.
const ENDING: [(nix::sys::signal::Signal, i32); 5] = [
    (nix::sys::signal::Signal::SIGHUP, 129),
    (nix::sys::signal::Signal::SIGINT, 130),
    (nix::sys::signal::Signal::SIGQUIT, 131),
    (nix::sys::signal::Signal::SIGUSR1, 138),
    (nix::sys::signal::Signal::SIGTERM, 143),
];

#[test]
fn each_ending_signal_restores_the_terminal_and_exits_128_plus_its_number() {
    use nix::sys::termios::{InputFlags, LocalFlags, OutputFlags};
    for (sig, code) in ENDING {
        let dir = tempfile::tempdir().unwrap();
        let c = Console::start(&["--demo", "--speed", "1"], dir.path());
        c.wait_for("the first frame", |t| t.contains("Canary"));
        assert!(c.screen.lock().unwrap().screen().alternate_screen());
        let raw = c.master.get_termios().expect("the pty's modes");
        assert!(
            !raw.local_flags.contains(LocalFlags::ICANON),
            "{sig}: raw mode while running"
        );
        let pid = c.child.process_id().unwrap();
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).unwrap();
        let mut c = c;
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(exit) = c.child.try_wait().unwrap() {
                break exit;
            }
            assert!(Instant::now() < deadline, "{sig} did not end the console");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.exit_code(), code as u32, "{sig}: {status:?}");
        std::thread::sleep(Duration::from_millis(100));
        {
            let screen = c.screen.lock().unwrap();
            assert!(
                !screen.screen().alternate_screen(),
                "{sig}: left the alternate screen"
            );
            assert!(!screen.screen().hide_cursor(), "{sig}: the cursor is shown");
        }
        // `stty -a` would say: icanon echo isig, opost; icrnl back too.
        let modes = c.master.get_termios().expect("the pty's modes");
        for flag in [LocalFlags::ICANON, LocalFlags::ECHO, LocalFlags::ISIG] {
            assert!(modes.local_flags.contains(flag), "{sig}: {flag:?} restored");
        }
        assert!(
            modes.output_flags.contains(OutputFlags::OPOST),
            "{sig}: opost"
        );
        assert!(
            modes.input_flags.contains(InputFlags::ICRNL),
            "{sig}: icrnl"
        );
    }
}

#[test]
fn the_console_starts_read_only_with_the_cluster_unreachable_and_shows_main_health() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let github = runtime.block_on(async {
        let github = Github::start().await;
        github.repository(Checks::Green).await;
        github
    });
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 9: every call to the API server is refused.
    let kubeconfig = write_kubeconfig(dir.path(), "https://127.0.0.1:9");
    std::fs::write(
        dir.path().join("captain.toml"),
        format!(
            "[release]\nname = \"summit\"\nnamespace = \"prod\"\n\
             [github]\nrepo = \"acme/summit\"\napi_url = \"{}\"\n\
             [prometheus]\nurl = \"http://127.0.0.1:9\"\n\
             [slo]\nfile = \"slo.yml\"\n[timeouts]\nbudget = \"3s\"\n",
            github.api_url()
        ),
    )
    .unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/config/slo.yml"),
        dir.path().join("slo.yml"),
    )
    .unwrap();
    let kubeconfig = kubeconfig.to_string_lossy().into_owned();
    let mut c = Console::start_with(
        &["--read-only"],
        dir.path(),
        &[
            ("KUBECONFIG", kubeconfig.as_str()),
            ("GITHUB_TOKEN", github::TOKEN),
        ],
    );
    c.wait_for("the canary panel to say the train cannot be read", |t| {
        t.contains("the train cannot be read") && t.contains("trying again in")
    });
    c.wait_for("main's health from GitHub", |t| {
        t.contains("main GREEN") && t.contains("8f3c1a9")
    });
    c.wait_for("the log to say so", |t| {
        t.contains("the train cannot be started")
    });
    c.wait_for("the previews' fault", |t| {
        t.contains("unreachable: watch namespaces")
    });
    println!("{}", c.text());
    assert!(
        c.child.try_wait().unwrap().is_none(),
        "the console is still running"
    );
    c.keys("q");
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "q did not quit:\n{}", c.text());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_live_consoles_header_says_when_it_follows_a_route_changed_by_hand_and_rewrote_lost_state() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ApiServer::start());
    // A canary under way at 25 %, as a console joining it finds it.
    canary_at_25(&server);
    let dir = tempfile::tempdir().unwrap();
    // Measured every second, so the test sees the next measurement soon.
    live_config(dir.path(), "3s", "1s", "");
    let kubeconfig = server.kubeconfig().to_string_lossy().into_owned();
    // Wide enough for the header to hold every note beside "auto-rollback OFF" (no
    // metrics here).
    let c = Console::start_sized(
        &[],
        dir.path(),
        &[
            ("KUBECONFIG", kubeconfig.as_str()),
            ("GITHUB_TOKEN", github::TOKEN),
        ],
        (40, 250),
    );
    c.wait_for("the train joined at 25 %", |t| t.contains("canary 25 %"));
    let shared = || server.object("configmaps", Some("prod"), "captain-summit");
    let deadline = Instant::now() + Duration::from_secs(20);
    while shared().is_none() {
        assert!(
            Instant::now() < deadline,
            "the train was never shared:\n{}",
            c.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // The shared state is lost, then somebody sends the canary 5 % with kubectl.
    server.remove_object("configmaps", Some("prod"), "captain-summit");
    server.put_object(http_route(95, 5));
    c.wait_for("the header to say the train follows the route", |t| {
        t.lines()
            .next()
            .is_some_and(|header| header.contains("DRIFT"))
            && t.contains("canary 5 %")
    });
    c.wait_for("the header to say the shared train was written anew", |t| {
        t.lines()
            .next()
            .is_some_and(|header| header.contains("shared train written anew"))
    });
    let written = shared().expect("the shared train written anew");
    assert!(
        written["data"]["train.json"]
            .as_str()
            .is_some_and(|t| t.contains("\"weight\":5")),
        "{written}"
    );
}

#[test]
fn at_80x24_help_scrolls_to_its_last_rows_and_header_and_footer_keep_what_matters() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start_sized(&["--demo", "--speed", "1"], dir.path(), &[], (24, 80));
    c.wait_for("the first frame with main's state and the quit key", |t| {
        let lines: Vec<&str> = t.lines().collect();
        lines
            .first()
            .is_some_and(|h| h.contains("main ") && h.contains(" UTC"))
            && lines.last().is_some_and(|f| f.contains("q quit"))
    });
    c.keys("?");
    c.wait_for("help saying which rows it shows", |t| {
        t.contains("rows 1–") && !t.contains("quit captain")
    });
    for _ in 0..3 {
        // PgDn
        c.keys("\x1b[6~");
    }
    c.wait_for(
        "help's last rows: abort, deletes, phase keys and quit",
        |t| {
            [
                "without a helm rollback",
                "delete the selected preview",
                "phase-rollback",
                "quit captain",
            ]
            .iter()
            .all(|s| t.contains(s))
        },
    );
    c.keys("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
    c.wait_for("help back at its first rows", |t| {
        t.contains("rows 1–") && t.contains("show this help")
    });
}

#[test]
fn under_speed_the_log_pane_tells_the_time_by_the_headers_demo_clock() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start(&["--demo", "--speed", "50"], dir.path());
    c.wait_for("the first frame", |t| t.contains("Canary"));
    // The log alone, zoomed.
    c.keys("5");
    c.keys("z");
    let stamp = |t: &str, what: &str| {
        t.lines().find(|l| l.contains(what)).and_then(|l| {
            let l = l.trim_start_matches(['│', '┃', ' ']);
            let hms = chrono::NaiveTime::parse_from_str(l.get(..8)?, "%H:%M:%S").ok()?;
            Some(hms)
        })
    };
    c.wait_for("the promotes to 25 % and to 50 % in the log", |t| {
        stamp(t, "→ progressing at 25 %").is_some() && stamp(t, "→ progressing at 50 %").is_some()
    });
    let t = c.text();
    let (a, b) = (
        stamp(&t, "→ progressing at 25 %").unwrap(),
        stamp(&t, "→ progressing at 50 %").unwrap(),
    );
    let apart = (b - a).num_seconds().rem_euclid(86_400);
    // A step's window of demo time lies between them: a second or two of wall clock at
    // --speed 50, and tens of seconds on the header's clock.
    assert!(
        apart >= 20,
        "stamped {apart}s apart, on the wall clock rather than the demo's:\n{t}"
    );
}

#[test]
fn quitting_the_live_console_right_after_a_rollback_still_posts_it_and_copies_the_journal_head() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ApiServer::start());
    // A webhook that fails the first post: the second try (a second later) is still to
    // come when the console quits.
    let hook = runtime.block_on(async {
        let hook = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(1)
            .mount(&hook)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&hook)
            .await;
        hook
    });
    canary_at_25(&server);
    let dir = tempfile::tempdir().unwrap();
    fake_helm(dir.path(), "v3.16.2+g13654a5", "Usage: helm rollback");
    live_config(
        dir.path(),
        "5s",
        "30s",
        &format!("[notify]\nurl = \"{}/hook\"\n", hook.uri()),
    );
    let kubeconfig = server.kubeconfig().to_string_lossy().into_owned();
    // The fake helm first on PATH.
    let path = path_first(dir.path());
    let mut c = Console::start_with(
        &[],
        dir.path(),
        &[
            ("KUBECONFIG", kubeconfig.as_str()),
            ("GITHUB_TOKEN", github::TOKEN),
            ("PATH", path.as_str()),
        ],
    );
    c.wait_for("the train joined at 25 %", |t| t.contains("canary 25 %"));
    c.keys("R");
    c.wait_for("the rollback dialog", |t| t.contains("Roll back summit"));
    c.keys("quit right after\t");
    c.keys("summit\r");
    c.wait_for("the rollback to be done", |t| {
        t.contains("rollback summit: done")
    });
    c.keys("q");
    let deadline = Instant::now() + Duration::from_secs(20);
    while c.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "q did not quit:\n{}", c.text());
        std::thread::sleep(Duration::from_millis(50));
    }

    // The post was tried again before the process ended.
    let posts = runtime
        .block_on(hook.received_requests())
        .unwrap_or_default();
    let texts: Vec<String> = posts
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .filter(|t| t.contains("quit right after"))
        .collect();
    assert_eq!(
        texts.len(),
        2,
        "the rollback, posted and tried again: {texts:?}"
    );
    // And the cluster holds the head of the journal as it ends.
    let journal = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(journal.lines().last().unwrap()).unwrap();
    let configmap = server
        .object("configmaps", Some("prod"), "captain-summit")
        .expect("the shared ConfigMap");
    let copied: Vec<serde_json::Value> = configmap["data"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("journal-head."))
        .map(|(_, v)| serde_json::from_str(v.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(copied.len(), 1, "{configmap}");
    assert_eq!(copied[0]["body"]["seq"], last["seq"], "{configmap}");
    assert_eq!(copied[0]["body"]["hash"], last["hash"], "{configmap}");
}

/// A plan of three phases for the live phase keys: phase 0 asks the API server, this
/// machine, a URL (`HEALTH`) and a person; phase 2 rolls back by running a program.
const LIVE_PLAN: &str = r#"version: 1
phases:
  - id: 0
    title: "Namespaces"
    owner: "Release Captain"
    days: [1]
    steps: ["Look at prod."]
    validation:
      - check: "prod exists."
        probe: {kind: kube.namespace_exists, namespace: prod}
      - check: "This machine runs programs."
        probe: {kind: command, argv: ["true"]}
      - check: "The service answers."
        probe: {kind: http.get, url: "HEALTH", body_contains: "ok"}
      - "A person looked at prod."
    rollback: "none"
    evidence: []
  - {id: 1, title: "Between", owner: "Platform", days: [1], steps: ["Wait."], validation: ["Looked at."], rollback: "none", evidence: []}
  - id: 2
    title: "Undoable"
    owner: "Platform"
    days: [2]
    steps: ["Do it."]
    validation: ["Looked at."]
    rollback:
      text: "Run true."
      actions:
        - {kind: command, argv: ["true"]}
    evidence: []
"#;

/// Each phase's status as the release's shared ConfigMap holds it.
fn shared_phases(server: &ApiServer) -> Vec<String> {
    let Some(configmap) = server.object("configmaps", Some("prod"), "captain-summit") else {
        return Vec::new();
    };
    let Some(plan) = configmap["data"]["plan.json"].as_str() else {
        return Vec::new();
    };
    let doc: serde_json::Value = serde_json::from_str(plan).unwrap();
    doc["body"]
        .as_array()
        .map(|phases| {
            phases
                .iter()
                .map(|p| p["status"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn wait_shared(server: &ApiServer, c: &Console, phase: usize, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let phases = shared_phases(server);
        if phases.get(phase).map(String::as_str) == Some(status) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "phase {phase} never {status} in the shared plan: {phases:?}\n{}",
            c.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_phase_keys_of_a_live_console_write_the_shared_plan_and_run_the_probes_on_the_cluster() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ApiServer::start());
    canary_at_25(&server);
    let health = runtime.block_on(async {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let health = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/health"))
            .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
            .mount(&health)
            .await;
        health
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.yml"),
        LIVE_PLAN.replace("HEALTH", &format!("{}/health", health.uri())),
    )
    .unwrap();
    live_config(dir.path(), "3s", "30s", "[plan]\nfile = \"plan.yml\"\n");
    let kubeconfig = server.kubeconfig().to_string_lossy().into_owned();
    let mut c = Console::start_with(
        &[],
        dir.path(),
        &[
            ("KUBECONFIG", kubeconfig.as_str()),
            ("GITHUB_TOKEN", github::TOKEN),
        ],
    );
    c.wait_for("the train joined at 25 %", |t| t.contains("canary 25 %"));
    c.keys("1");

    // s: start phase 0.
    c.keys("s");
    c.wait_for("the start dialog", |t| t.contains("Start phase 0"));
    c.keys("\r");
    wait_shared(&server, &c, 0, "in_progress");

    // v: its probes ask the API server, run the program and fetch the URL; the person's
    // check is still to come.
    c.keys("v");
    c.wait_for("the validate dialog", |t| t.contains("Validate phase 0"));
    c.keys("\r");
    c.wait_for("the probes' outcome", |t| {
        t.contains("in progress (3/4 probes passed)")
    });
    let probed = || -> Option<Vec<serde_json::Value>> {
        let configmap = server.object("configmaps", Some("prod"), "captain-summit")?;
        let doc: serde_json::Value =
            serde_json::from_str(configmap["data"]["plan.json"].as_str()?).ok()?;
        let checks = doc["body"][0]["checks"].as_array()?.clone();
        Some(checks.into_iter().map(|c| c["result"].clone()).collect())
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while probed()
        .is_none_or(|r: Vec<serde_json::Value>| r.iter().take(3).any(|c| c["status"] != "pass"))
    {
        assert!(
            Instant::now() < deadline,
            "the probe's result never reached the shared plan: {:?}",
            probed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let results = probed().unwrap();
    assert!(
        results[0]["evidence"]
            .as_str()
            .is_some_and(|e| e.contains("prod")),
        "{results:?}"
    );
    assert_eq!(results[3]["status"], "manual", "{results:?}");

    // m: the person confirms; the phase is validated.
    c.keys("m");
    c.wait_for("the confirm dialog", |t| {
        t.contains("Confirm the manual checks of phase 0")
    });
    c.keys("\r");
    wait_shared(&server, &c, 0, "validated");

    // S: phase 2 before phase 1 is validated, with a reason and its number typed.
    c.keys("jj");
    c.keys("S");
    c.wait_for("the force-start dialog", |t| {
        t.contains("Force-start phase 2")
    });
    c.keys("phase 1 waits on another team\t");
    c.keys("2\r");
    wait_shared(&server, &c, 2, "in_progress");
    // A rollback confirmed from an older view of the phase is refused as a lost race.
    c.wait_for("the console to show phase 2 under way", |t| {
        t.contains("Undoable · in progress")
    });

    // u: its rollback runs its program on this machine and marks it rolled back.
    c.keys("u");
    c.wait_for("the phase rollback dialog", |t| t.contains("Run true."));
    c.keys("undo for the test\r");
    wait_shared(&server, &c, 2, "rolled_back");

    let journal = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let outcomes: Vec<(String, String)> = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["phase"] == "outcome")
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_string(),
                r["result"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let actions: Vec<&str> = outcomes.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "phase-start",
            "phase-validate",
            "phase-confirm",
            "phase-force-start",
            "phase-rollback"
        ],
        "{journal}"
    );
    assert!(
        outcomes.iter().all(|(_, r)| r.starts_with("ok")),
        "{outcomes:?}"
    );
}

#[test]
fn a_live_preview_shows_its_pull_request_and_o_opens_its_url_from_the_description() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ApiServer::start());
    canary_at_25(&server);
    server.put_namespace(
        "pr-433",
        &[],
        chrono::Utc::now() - chrono::Duration::hours(20),
    );
    let github = runtime.block_on(Github::start());
    let preview = format!("{}/preview/pr-433/", github.server.uri());
    runtime.block_on(async {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, ResponseTemplate};
        Mock::given(method("GET"))
            .and(path("/preview/pr-433/"))
            .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
            .mount(&github.server)
            .await;
        github
            .pulls_of_every_state(
                github::fixture("pulls_all_page1.json")
                    .replace("https://pr-433.preview.summit.example/", &preview),
            )
            .await;
    });
    let dir = tempfile::tempdir().unwrap();
    live_config_with_github(
        dir.path(),
        &github.api_url(),
        "3s",
        "30s",
        "[previews]\nurl_pattern = 'Preview: (https?://\\S+)'\n",
    );
    // The desktop's opener, as a program that says what it was given.
    let opened = dir.path().join("opened");
    let opener = dir.path().join("xdg-open");
    std::fs::write(
        &opener,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", opened.display()),
    )
    .unwrap();
    std::fs::set_permissions(&opener, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let kubeconfig = server.kubeconfig().to_string_lossy().into_owned();
    let path = path_first(dir.path());
    let mut c = Console::start_sized(
        &[],
        dir.path(),
        &[
            ("KUBECONFIG", kubeconfig.as_str()),
            ("GITHUB_TOKEN", github::TOKEN),
            ("PATH", path.as_str()),
        ],
        (40, 200),
    );
    c.wait_for(
        "pr-433 with its pull request's title, author and health",
        |t| {
            t.lines().any(|l| {
                l.contains("pr-433")
                    && l.contains("Retry flaky smoke test")
                    && l.contains("sam-k")
                    && l.contains(" up ")
            })
        },
    );
    c.keys("3");
    c.keys("o");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !opened.exists() {
        assert!(Instant::now() < deadline, "o opened nothing:\n{}", c.text());
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(std::fs::read_to_string(&opened).unwrap(), preview);
}
