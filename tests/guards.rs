//! What stops an action before it changes anything, and the clean-main sentinel, driven
//! through the console's keys against the demo world: a release stuck `pending-*` holds
//! the train, an action the cluster does not allow is unavailable with its reason, and the
//! sentinel labels and unlabels pull requests as main goes red and green.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use captain::engine::main_health::FREEZE_LABEL;
use captain::ops::Command;
use captain::sim::Scenario;
use captain::sources::{
    Access, AccessCheck, Cluster, Deletion, Deployer, Feed, ReleaseRevision, SourceError,
};
use captain::tui::input::handle_key;
use captain::tui::state::{Mode, Panel};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use support::Demo;

fn keys(d: &mut Demo, s: &str) -> Option<captain::ops::Confirmed> {
    let now = d.now();
    let mut last = None;
    for c in s.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            c => KeyCode::Char(c),
        };
        last = handle_key(&mut d.app, KeyEvent::new(code, KeyModifiers::NONE), now);
    }
    last
}

fn status(d: &Demo) -> String {
    d.app
        .ui
        .status
        .as_ref()
        .map(|s| s.0.clone())
        .unwrap_or_default()
}

/// The world's release, with a `pending-upgrade` on top while `stuck` is set.
struct Stuck {
    inner: Arc<dyn Deployer>,
    stuck: Arc<AtomicBool>,
}

#[async_trait]
impl Deployer for Stuck {
    async fn history(&self) -> Result<Vec<ReleaseRevision>, SourceError> {
        let mut h = self.inner.history().await?;
        if self.stuck.load(Ordering::SeqCst) {
            let last = h.last().cloned().expect("the world has a release");
            h.push(ReleaseRevision {
                revision: last.revision + 1,
                status: "pending-upgrade".into(),
                description: "Preparing upgrade".into(),
                ..last
            });
        }
        Ok(h)
    }

    async fn rollback(&self, revision: u32, reason: Option<&str>) -> Result<String, SourceError> {
        self.inner.rollback(revision, reason).await
    }
}

#[tokio::test]
async fn a_release_stuck_pending_upgrade_holds_the_train_until_it_is_resolved() {
    let stuck = Arc::new(AtomicBool::new(true));
    let flag = stuck.clone();
    let mut d = Demo::with(Scenario::Steady, false, move |mut b| {
        b.deployer = Arc::new(Stuck {
            inner: b.deployer,
            stuck: flag,
        });
        b
    })
    .await;
    assert_eq!(d.op.train.weight, 5);
    // Past the first window with passing verdicts: the train would promote to 25 %.
    d.run_for(120).await;
    assert_eq!(d.op.train.weight, 5, "held while the release is stuck");
    let refused =
        d.op.execute(
            captain::ops::Confirmed {
                seen: None,
                command: Command::Train(captain::engine::train::TrainCommand::Promote),
                reason: None,
                confirmation: captain::ops::Confirmation::Dialog,
            },
            d.now(),
        )
        .await
        .unwrap();
    assert!(!refused.ok);
    assert!(
        refused
            .message
            .contains("stuck pending-upgrade at revision 43"),
        "{refused:?}"
    );

    stuck.store(false, Ordering::SeqCst);
    d.run_for(120).await;
    assert!(
        d.op.train.weight > 5,
        "promoted once resolved: {}",
        d.op.train.weight
    );
}

/// The world's cluster, where this user may not patch the route.
struct NoPatch(Arc<dyn Cluster>);

#[async_trait]
impl Cluster for NoPatch {
    fn previews(&self) -> Feed<Vec<captain::engine::previews::Preview>> {
        self.0.previews()
    }
    async fn delete_namespace(&self, name: &str) -> Result<Deletion, SourceError> {
        self.0.delete_namespace(name).await
    }
    async fn set_canary_weight(&self, weight: u8) -> Result<u8, SourceError> {
        self.0.set_canary_weight(weight).await
    }
    async fn canary_weight(&self) -> Result<u8, SourceError> {
        self.0.canary_weight().await
    }
    fn canary_weight_feed(&self) -> Feed<u8> {
        self.0.canary_weight_feed()
    }
    async fn access(&self, check: &AccessCheck) -> Result<Access, SourceError> {
        Ok(if check.verb == "patch" {
            Access::Denied {
                reason: "RBAC: release-viewer".into(),
            }
        } else {
            Access::Allowed
        })
    }
}

#[tokio::test]
async fn an_action_the_cluster_does_not_allow_is_unavailable_with_its_reason() {
    let mut d = Demo::with(Scenario::Steady, false, |mut b| {
        b.cluster = Arc::new(NoPatch(b.cluster));
        b
    })
    .await;
    assert!(keys(&mut d, "p").is_none());
    assert!(matches!(d.app.ui.mode, Mode::Normal), "no dialog opens");
    assert_eq!(
        status(&d),
        "promote is unavailable: you may not patch httproutes.gateway.networking.k8s.io/summit in prod (RBAC: release-viewer)"
    );
    // Deleting a preview needs no patch: still offered.
    keys(&mut d, "3");
    keys(&mut d, "d");
    assert!(matches!(d.app.ui.mode, Mode::Confirm(_)));
    // The operator refuses it too (a headless caller never saw the console).
    let out =
        d.op.execute(
            captain::ops::Confirmed {
                seen: None,
                command: Command::Train(captain::engine::train::TrainCommand::Abort),
                reason: Some("test".into()),
                confirmation: captain::ops::Confirmation::YesFlag,
            },
            d.now(),
        )
        .await
        .unwrap();
    assert!(
        !out.ok && out.message.starts_with("abort is unavailable"),
        "{out:?}"
    );
    assert_eq!(d.world.backends().cluster.canary_weight().await.unwrap(), 5);
}

#[tokio::test]
async fn the_sentinel_labels_every_open_pr_while_main_is_red_and_audits_it() {
    let mut d = Demo::new(Scenario::MainRed, false).await;
    keys(&mut d, "4");
    assert_eq!(d.app.ui.focus, Panel::Main);
    keys(&mut d, "l");
    let Mode::Confirm(dialog) = &d.app.ui.mode else {
        panic!("no dialog: {}", status(&d))
    };
    assert_eq!(dialog.proposal.target, "4 pull requests");
    assert!(
        dialog.proposal.effects[0].starts_with("Label #409, #415, #424, #426 freeze/main-red"),
        "{:?}",
        dialog.proposal.effects
    );
    let c = keys(&mut d, "\n").expect("confirmed");
    let out = d.op.execute(c, d.now()).await.unwrap();
    assert!(out.ok, "{out:?}");
    let pulls = d.world.backends().forge.open_pulls().await.unwrap();
    assert!(
        pulls
            .iter()
            .all(|p| p.labels.iter().any(|l| l == FREEZE_LABEL))
    );
    d.sync();
    assert_eq!(d.app.main.value.as_ref().unwrap().freeze_prs.len(), 6);
    let audit = d.audit_lines();
    let sentinel: Vec<_> = audit.iter().filter(|r| r["action"] == "sentinel").collect();
    assert_eq!(sentinel.len(), 2, "intent and outcome");
    assert_eq!(sentinel[0]["phase"], "intent");
    assert!(
        sentinel[1]["result"]
            .as_str()
            .unwrap()
            .starts_with("ok: #409: labelled")
    );

    // Nothing left to do: the key says so instead of opening an empty dialog.
    keys(&mut d, "l");
    assert!(matches!(d.app.ui.mode, Mode::Normal));
    assert_eq!(status(&d), "main is red: no label to change");
}

#[tokio::test]
async fn once_main_is_green_again_the_sentinel_takes_the_label_off() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    // The drill's `test` check is red from 45 s to 150 s.
    d.run_for(60).await;
    keys(&mut d, "4l");
    let c = keys(&mut d, "\n").expect("confirmed");
    assert!(d.op.execute(c, d.now()).await.unwrap().ok);
    d.run_for(120).await;
    keys(&mut d, "l");
    let Mode::Confirm(dialog) = &d.app.ui.mode else {
        panic!("no dialog: {}", status(&d))
    };
    assert!(
        dialog.proposal.title.ends_with("main is green"),
        "{:?}",
        dialog.proposal
    );
    let c = keys(&mut d, "\n").expect("confirmed");
    let out = d.op.execute(c, d.now()).await.unwrap();
    assert!(out.message.contains("label removed"), "{out:?}");
    let pulls = d.world.backends().forge.open_pulls().await.unwrap();
    assert!(pulls.iter().all(|p| p.labels.is_empty()));
}
