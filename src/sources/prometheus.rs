//! Prometheus as the metrics source (being built).
