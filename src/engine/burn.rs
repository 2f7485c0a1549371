//! Error-budget burn rates, multi-window and multi-burn-rate as in the Google SRE workbook:
//! an alert fires when both its long and its short window burn faster than its factor.

use serde::{Deserialize, Serialize};

use crate::config::Span;
use crate::config::slo::BurnRate;

/// One alert of `slo.yml`'s `burn_rate`, judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertState {
    pub severity: String,
    pub long: Span,
    pub short: Span,
    pub factor: f64,
    /// The burn rate over each window: the error ratio over the error budget.
    pub long_burn: Option<f64>,
    pub short_burn: Option<f64>,
    /// Both windows burn faster than the factor. A missing window never fires, and never
    /// counts as calm either: see `known`.
    pub firing: bool,
    pub known: bool,
}

/// The error budget as a ratio: 0.001 for a 99.9 % target.
pub fn budget(cfg: &BurnRate) -> f64 {
    (1.0 - cfg.target / 100.0).max(f64::MIN_POSITIVE)
}

/// Every window any alert looks at, each once.
pub fn windows(cfg: &BurnRate) -> Vec<Span> {
    let mut w: Vec<Span> = cfg.alerts.iter().flat_map(|a| [a.long, a.short]).collect();
    w.sort();
    w.dedup();
    w
}

/// Judge every alert from the error ratio measured over each window.
pub fn evaluate(cfg: &BurnRate, ratio: impl Fn(Span) -> Option<f64>) -> Vec<AlertState> {
    let b = budget(cfg);
    cfg.alerts
        .iter()
        .map(|a| {
            let long_burn = ratio(a.long).filter(|r| r.is_finite()).map(|r| r / b);
            let short_burn = ratio(a.short).filter(|r| r.is_finite()).map(|r| r / b);
            let known = long_burn.is_some() && short_burn.is_some();
            let firing = matches!((long_burn, short_burn), (Some(l), Some(s)) if l > a.factor && s > a.factor);
            AlertState {
                severity: a.severity.clone(),
                long: a.long,
                short: a.short,
                factor: a.factor,
                long_burn,
                short_burn,
                firing,
                known,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::slo::BurnAlert;

    fn cfg() -> BurnRate {
        let alert = |severity: &str, long: u64, short: u64, factor: f64| BurnAlert {
            severity: severity.into(),
            long: Span::secs(long),
            short: Span::secs(short),
            factor,
        };
        BurnRate {
            target: 99.9,
            period: Span::secs(30 * 86_400),
            alerts: vec![
                alert("page", 3600, 300, 14.4),
                alert("page", 6 * 3600, 1800, 6.0),
                alert("ticket", 86_400, 7200, 3.0),
            ],
        }
    }

    #[test]
    fn an_alert_fires_only_when_both_windows_burn_past_the_factor() {
        // 2 % errors against a 0.1 % budget burns at 20×.
        let fast = evaluate(&cfg(), |_| Some(0.02));
        assert!(fast.iter().all(|a| a.firing));
        assert!((fast[0].long_burn.unwrap() - 20.0).abs() < 1e-9);
        // A spike in the short window only: the long window is calm, nothing pages.
        let spike = evaluate(&cfg(), |w| {
            Some(if w.as_secs() <= 1800 { 0.02 } else { 0.0005 })
        });
        assert!(spike.iter().all(|a| !a.firing));
        // 0.5 % burns at 5×: the 3× ticket fires, the 6× and 14.4× pages do not.
        let slow = evaluate(&cfg(), |_| Some(0.005));
        assert_eq!(
            slow.iter().map(|a| a.firing).collect::<Vec<_>>(),
            [false, false, true]
        );
    }

    #[test]
    fn a_window_without_data_is_unknown_never_calm_or_firing() {
        let states = evaluate(&cfg(), |w| (w.as_secs() != 300).then_some(0.5));
        assert!(!states[0].known && !states[0].firing);
        assert!(states[1].known && states[1].firing);
    }

    #[test]
    fn each_window_is_queried_once() {
        let w = windows(&cfg());
        assert_eq!(w.len(), 6);
        assert!(w.windows(2).all(|p| p[0] < p[1]));
    }
}
