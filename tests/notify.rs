//! `[notify]` at the operator: a webhook that never answers holds up neither the automatic
//! rollback nor the measurements; its posts end within the budget, tried once, and are
//! over before the process would exit. (Through the real binary: `tests/live_canary.rs`.)

mod support;

use std::time::Duration;

use captain::engine::train::Status;
use captain::ops::notify::Notifier;
use captain::sim::Scenario;
use support::Demo;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_never_answers_holds_up_neither_the_rollback_nor_the_measurements() {
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3600)))
        .mount(&hook)
        .await;
    let notifier = Notifier::new(
        &format!("{}/hook", hook.uri()),
        &[],
        Duration::from_secs(10),
    )
    .unwrap();
    let mut d = Demo::new(Scenario::Breach, false).await;
    d.op.notify_to(notifier.clone());
    for _ in 0..60 {
        if d.op.train.status.is_terminal() {
            break;
        }
        d.run_for(5).await;
    }
    assert!(
        matches!(d.op.train.status, Status::RolledBack { .. }),
        "rolled back while the webhook holds its posts: {:?}",
        d.op.train.status
    );
    // The measurements went on past the breach and the rollback is done, yet the posts of
    // both still wait for the webhook's answer.
    assert_eq!(
        notifier.in_flight(),
        2,
        "the breach's and the rollback's posts"
    );
    notifier.settle().await;
    assert_eq!(notifier.in_flight(), 0);
    let posts = hook.received_requests().await.unwrap();
    assert_eq!(
        posts.len(),
        2,
        "each tried once within its budget, not again"
    );
    let texts: Vec<String> = posts
        .iter()
        .map(|p| {
            let v: serde_json::Value = serde_json::from_slice(&p.body).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("SLO breach, 1/2")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("rollback done (automatic)")),
        "{texts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_and_a_resume_by_hand_are_posted_and_events_left_out_are_not() {
    use captain::engine::train::TrainCommand;
    use captain::ops::notify::Event;
    use captain::ops::{Command, Confirmation, Confirmed};
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    let notifier = Notifier::new(
        &format!("{}/hook", hook.uri()),
        &[Event::Pause, Event::Resume],
        Duration::from_secs(10),
    )
    .unwrap();
    let mut d = Demo::new(Scenario::Breach, false).await;
    d.op.notify_to(notifier.clone());
    d.run_for(20).await;
    for (command, reason) in [
        (TrainCommand::Pause, "looks odd"),
        (TrainCommand::Resume, "fine after all"),
    ] {
        let confirmed = Confirmed {
            seen: None,
            command: Command::Train(command),
            reason: Some(reason.into()),
            confirmation: Confirmation::Dialog,
        };
        assert!(d.op.execute(confirmed, d.now()).await.unwrap().ok);
    }
    // The breach comes and is rolled back: neither is among the events asked for.
    for _ in 0..60 {
        if d.op.train.status.is_terminal() {
            break;
        }
        d.run_for(5).await;
    }
    assert!(matches!(d.op.train.status, Status::RolledBack { .. }));
    notifier.settle().await;
    let texts: Vec<String> = hook
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|p| {
            let v: serde_json::Value = serde_json::from_slice(&p.body).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(texts.len(), 2, "{texts:#?}");
    // Each post goes on its own: they may arrive in either order.
    assert!(
        texts.iter().any(
            |t| t.starts_with("summit revision 42: pause done (by captain-test): ")
                && t.ends_with("· why: looks odd")
        ),
        "{texts:#?}"
    );
    assert!(
        texts.iter().any(
            |t| t.starts_with("summit revision 42: resume done (by captain-test): ")
                && t.contains("frozen/rollback deleted")
        ),
        "{texts:#?}"
    );
}
