//! The real parts captain's tests and benches run against (`docs/architecture.md`,
//! "Testing"): no Kubernetes cluster, GitHub or Prometheus is reachable from the test
//! machines, so the tests talk to stand-ins held to the real protocols.
//!
//! - [`apiserver`]: a wire-faithful Kubernetes API server, held to the real `kubectl` and
//!   kube-rs by this crate's own tests (`tests/apiserver/`);
//! - [`kube`]: what the tests against it share (Helm releases as Helm stores them, the
//!   canary's HTTPRoute, the request log's lists and watches);
//! - [`github`]: the GitHub REST API as wiremock serving the real API's shapes;
//! - [`prometheus`]: a real Prometheus scraping an exporter whose traffic the test sets.
//!
//! The kit does not depend on captain: it is built once, and a change to captain rebuilds
//! only captain and its test binaries. What needs captain's types or binary stays with
//! captain's tests.

// Every public item says what a test gets from it: the kit is read by whoever writes a test.
#![warn(missing_docs)]

pub mod apiserver;
pub mod github;
pub mod kube;
pub mod prometheus;
