//! Every request to the API server within a [`Budget`].
//!
//! kube-rs on its own retries 429, 503 and 504 up to 15 times with a backoff that grows to
//! minutes, and waits on a server that accepted the connection for as long as it likes: a
//! `canary status` against an API server answering 503 took over five minutes to give up.
//! Here its retries are off and ours take over: a request that is answered 429, 503 or 504
//! is tried again after the server's `Retry-After` (else a short backoff) only while the
//! next try still fits in the budget, and a request (its body included) that is not
//! answered in time is abandoned. Giving up is a [`GaveUp`] that says why. Watches are
//! long-lived by design and are left to the watcher's own backoff.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{Request, Response, StatusCode};
use kube::client::Body;
use kube::{Client, Config};
use tokio::time::{Instant, sleep, timeout_at};
use tower::BoxError;

use crate::sources::deadline::{Budget, secs, wait_on};

/// The first wait when the server names none; doubled for each further try.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Why a request was given up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GaveUp {
    #[error("the API server answered {status} to every try ({tries}) until the {budget} budget ran out ({what})", budget = secs(*.budget))]
    Unavailable {
        status: String,
        tries: u32,
        budget: Duration,
        what: String,
    },
    #[error("the API server rate limited captain until {} (429) ({what})", .until.format("%H:%M:%S UTC"))]
    RateLimited { until: DateTime<Utc>, what: String },
    #[error("timed out after {} waiting for the API server ({what})", secs(*.budget))]
    TimedOut { budget: Duration, what: String },
}

/// A client for `config` whose every request keeps to `budget`.
pub fn client(mut config: Config, budget: Budget) -> Result<Client, kube::Error> {
    config.default_retry = false;
    // No read timeout: an idle watch is silent for minutes by design. Requests that are not
    // watches are bounded as a whole below.
    config.connect_timeout = Some(budget.limit());
    config.write_timeout = Some(budget.limit());
    let namespace = config.default_namespace.clone();
    let inner = Client::try_from(config)?;
    let service = tower::service_fn(move |request: Request<Body>| {
        let inner = inner.clone();
        async move { send(&inner, request, budget).await }
    });
    Ok(Client::new(service, namespace))
}

async fn send(
    client: &Client,
    request: Request<Body>,
    budget: Budget,
) -> Result<Response<Body>, BoxError> {
    if is_watch(&request) {
        return Ok(client.send(request).await?);
    }
    let what = describe(&request);
    let _waiting = wait_on(format!(
        "{} {}",
        request.method(),
        resource_of(request.uri().path())
    ));
    let deadline = budget.deadline(Instant::now());
    let (parts, body) = request.into_parts();
    let mut backoff = FIRST_BACKOFF;
    let mut tries = 0;
    let mut body = Some(body);
    loop {
        tries += 1;
        // A body that cannot be replayed is sent once; every body kube-rs builds can be.
        let this = match body.as_ref().and_then(Body::try_clone) {
            Some(copy) => copy,
            None => body.take().unwrap_or_else(Body::empty),
        };
        let attempt = async {
            let response = client
                .send(Request::from_parts(parts.clone(), this))
                .await?;
            let (head, body) = response.into_parts();
            let bytes = body.collect_bytes().await?;
            Ok::<_, kube::Error>(Response::from_parts(head, Body::from(bytes)))
        };
        let timed_out = || GaveUp::TimedOut {
            budget: budget.limit(),
            what: what.clone(),
        };
        let response = timeout_at(deadline, attempt)
            .await
            .map_err(|_| timed_out())??;
        let status = response.status();
        if !matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT
        ) {
            return Ok(response);
        }
        let asked = retry_after(&response);
        let wait = asked.unwrap_or(backoff);
        backoff = backoff.saturating_mul(2);
        let fits = Instant::now()
            .checked_add(wait)
            .is_some_and(|next| next < deadline);
        if body.is_some() && fits {
            log::info!("kube: {what}: {status}; trying again in {}", secs(wait));
            sleep(wait).await;
            continue;
        }
        let gave_up = if status == StatusCode::TOO_MANY_REQUESTS {
            // Without a Retry-After, the wait captain would have made next.
            let now = Utc::now();
            let until = chrono::Duration::from_std(wait)
                .ok()
                .and_then(|wait| now.checked_add_signed(wait))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            GaveUp::RateLimited { until, what }
        } else {
            GaveUp::Unavailable {
                status: status.to_string(),
                tries,
                budget: budget.limit(),
                what,
            }
        };
        return Err(gave_up.into());
    }
}

fn is_watch<B>(request: &Request<B>) -> bool {
    request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "watch=true" || kv == "watch=1"))
}

/// `GET /api/v1/namespaces/prod/secrets`: the method and path, without the query.
fn describe<B>(request: &Request<B>) -> String {
    format!("{} {}", request.method(), request.uri().path())
}

/// The resource a path names, as a person says it: `secrets`, `httproutes/summit`,
/// `namespaces/pr-12`.
fn resource_of(path: &str) -> &str {
    let rest = path
        .strip_prefix("/api/")
        .and_then(|r| r.split_once('/').map(|(_, rest)| rest))
        .or_else(|| {
            path.strip_prefix("/apis/")
                .and_then(|r| r.splitn(3, '/').nth(2))
        })
        .unwrap_or(path);
    match rest
        .strip_prefix("namespaces/")
        .and_then(|r| r.split_once('/'))
    {
        Some((_, inner)) => inner,
        None => rest,
    }
}

/// `Retry-After` in seconds (the only form the API server sends).
fn retry_after<B>(response: &Response<B>) -> Option<Duration> {
    let value = response.headers().get(http::header::RETRY_AFTER)?;
    let seconds: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_are_told_apart_from_lists_by_their_query() {
        let req = |uri: &str| Request::get(uri).body(()).unwrap();
        assert!(is_watch(&req(
            "/api/v1/namespaces?watch=true&resourceVersion=5"
        )));
        assert!(!is_watch(&req("/api/v1/namespaces?limit=500")));
        assert!(!is_watch(&req("/api/v1/namespaces/watch")));
    }

    #[test]
    fn the_resource_waited_on_is_named_without_the_api_prefix_and_namespace() {
        assert_eq!(resource_of("/api/v1/namespaces/prod/secrets"), "secrets");
        assert_eq!(
            resource_of("/apis/gateway.networking.k8s.io/v1/namespaces/prod/httproutes/summit"),
            "httproutes/summit"
        );
        assert_eq!(resource_of("/api/v1/namespaces/pr-12"), "namespaces/pr-12");
        assert_eq!(resource_of("/api/v1/namespaces"), "namespaces");
        assert_eq!(
            resource_of("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"),
            "selfsubjectaccessreviews"
        );
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_anything_else_is_ignored() {
        let with = |v: &str| {
            Response::builder()
                .header("Retry-After", v)
                .body(())
                .unwrap()
        };
        assert_eq!(retry_after(&with("3")), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(&with("Wed, 21 Oct 2015 07:28:00 GMT")), None);
    }
}
