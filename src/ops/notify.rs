//! `[notify]`: breaches, rollbacks, pauses and resumes posted to a Slack-compatible incoming
//! webhook (`POST {"text": …}`), from wherever the operator runs (the console, `canary run`,
//! `captain drive`).
//!
//! A post never holds the operator up: each is a task of its own, bounded by the timeout
//! budget (`[timeouts]`), tried at most twice, and a failure is logged, never retried
//! further. The webhook's URL holds its secret: it is never logged, only its host.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

/// What a webhook may be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// The first failed measurement of a breach: the rollback (or pause) comes if it goes on.
    Breach,
    Rollback,
    Pause,
    Resume,
}

impl Event {
    pub const ALL: [Event; 4] = [Event::Breach, Event::Rollback, Event::Pause, Event::Resume];

    /// The event an action's outcome is, if any.
    pub fn of_action(action: &str) -> Option<Event> {
        match action {
            "rollback" => Some(Event::Rollback),
            "pause" => Some(Event::Pause),
            "resume" => Some(Event::Resume),
            _ => None,
        }
    }
}

/// Where posts go and which events are posted.
#[derive(Clone)]
pub struct Notifier {
    url: reqwest::Url,
    events: BTreeSet<Event>,
    client: reqwest::Client,
    /// How long one post may take, both tries together.
    budget: Duration,
    inflight: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("host", &self.host())
            .field("events", &self.events)
            .finish()
    }
}

impl Notifier {
    /// `events`: none given is every event.
    pub fn new(url: &str, events: &[Event], budget: Duration) -> Result<Notifier, String> {
        let url =
            reqwest::Url::parse(url).map_err(|e| format!("the [notify] url is not a URL: {e}"))?;
        let client = reqwest::Client::builder()
            .timeout(budget)
            .build()
            .map_err(|e| format!("the [notify] webhook's HTTP client: {e}"))?;
        let events = if events.is_empty() {
            Event::ALL.into_iter().collect()
        } else {
            events.iter().copied().collect()
        };
        Ok(Notifier {
            url,
            events,
            client,
            budget,
            inflight: Arc::default(),
        })
    }

    /// The webhook's host, which is all the log ever says of its URL.
    pub fn host(&self) -> String {
        let host = self.url.host_str().unwrap_or("?");
        match self.url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }

    pub fn wants(&self, event: Event) -> bool {
        self.events.contains(&event)
    }

    /// Post `text` about `event` in a task of its own, unless `event` is not wanted. Must be
    /// called within a tokio runtime.
    pub fn post(&self, event: Event, text: String) {
        if !self.wants(event) {
            return;
        }
        let (client, url, budget, host) = (
            self.client.clone(),
            self.url.clone(),
            self.budget,
            self.host(),
        );
        let task = tokio::spawn(async move {
            let body = serde_json::json!({ "text": slack_escaped(&text) }).to_string();
            let attempt = || async {
                let answer = client
                    .post(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .map_err(|e| e.without_url().to_string())?;
                let status = answer.status();
                if status.is_success() {
                    Ok(())
                } else {
                    Err(format!("HTTP {status}"))
                }
            };
            let deadline = tokio::time::Instant::now() + budget;
            let tried = tokio::time::timeout_at(deadline, async {
                match attempt().await {
                    Ok(()) => Ok(()),
                    Err(first) => {
                        log::warn!("notify {event:?} to {host}: {first}; trying once more");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        attempt().await
                    }
                }
            })
            .await;
            match tried {
                Ok(Ok(())) => log::info!("notified {host}: {}", first_line(&text)),
                Ok(Err(e)) => log::error!("notify {event:?} to {host} failed, not retried: {e}"),
                Err(_) => log::error!(
                    "notify {event:?} to {host}: no answer within {}, not retried",
                    crate::sources::deadline::secs(budget)
                ),
            }
        });
        if let Ok(mut inflight) = self.inflight.lock() {
            inflight.retain(|t| !t.is_finished());
            inflight.push(task);
        }
    }

    /// How many posts are still on their way.
    pub fn in_flight(&self) -> usize {
        self.inflight
            .lock()
            .map_or(0, |v| v.iter().filter(|t| !t.is_finished()).count())
    }

    /// Wait for the posts on their way (each ends within the budget): before a process
    /// that posted exits, so its last word is not dropped.
    pub async fn settle(&self) {
        let tasks = match self.inflight.lock() {
            Ok(mut v) => std::mem::take(&mut *v),
            Err(_) => return,
        };
        for t in tasks {
            let _ = t.await;
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Slack reads `&`, `<` and `>` as markup (links, mentions): written as entities, a
/// reason such as "<= 1.00%" arrives as it was said.
fn slack_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_are_escaped_and_no_events_means_every_event() {
        assert_eq!(
            slack_escaped("error_rate 5% breaks <= 1% & p99 > 2s"),
            "error_rate 5% breaks &lt;= 1% &amp; p99 &gt; 2s"
        );
        let all = Notifier::new("http://127.0.0.1:9/hook", &[], Duration::from_secs(1)).unwrap();
        assert!(Event::ALL.iter().all(|e| all.wants(*e)));
        let some = Notifier::new(
            "https://hooks.example.com/services/T0/B0/secret",
            &[Event::Rollback],
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(some.wants(Event::Rollback) && !some.wants(Event::Breach));
        assert_eq!(some.host(), "hooks.example.com");
        assert!(!format!("{some:?}").contains("secret"));
    }
}
