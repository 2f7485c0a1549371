use super::*;
use chrono::TimeZone;

fn t(m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 9, m, 0).unwrap()
}

fn result(status: ProbeStatus) -> ProbeResult {
    ProbeResult {
        status,
        evidence: "e".into(),
        at: t(5),
    }
}

#[test]
fn a_phase_waits_for_its_predecessor_unless_forced() {
    let mut s = vec![PhaseState::pending(1), PhaseState::pending(1)];
    assert!(may_start(&s, 0).is_ok());
    let err = start(&mut s, 1, false, t(0)).unwrap_err();
    assert!(err.contains("phase 0 is pending"), "{err}");
    assert_eq!(s[1].status, PhaseStatus::Pending);
    start(&mut s, 1, true, t(1)).unwrap();
    assert_eq!(s[1].status, PhaseStatus::InProgress);
    assert_eq!(s[1].since, Some(t(1)));
}

#[test]
fn all_checks_passing_validates_and_the_next_phase_may_start() {
    let mut s = vec![PhaseState::pending(2), PhaseState::pending(0)];
    start(&mut s, 0, false, t(0)).unwrap();
    let st = record(&mut s, 0, vec![result(ProbeStatus::Pass); 2], t(2)).unwrap();
    assert_eq!(st, PhaseStatus::Validated);
    assert!(may_start(&s, 1).is_ok());
    assert_eq!(current(&s), Some(1));
    assert_eq!(s[0].last_validation(), Some(t(5)));
}

#[test]
fn one_failing_probe_fails_the_phase() {
    let mut s = vec![PhaseState::pending(2)];
    start(&mut s, 0, false, t(0)).unwrap();
    let st = record(
        &mut s,
        0,
        vec![result(ProbeStatus::Pass), result(ProbeStatus::Fail)],
        t(2),
    )
    .unwrap();
    assert_eq!(st, PhaseStatus::Failed);
}

#[test]
fn a_manual_check_validates_only_once_a_person_confirms_it() {
    let mut s = vec![PhaseState::pending(2)];
    start(&mut s, 0, false, t(0)).unwrap();
    let st = record(
        &mut s,
        0,
        vec![result(ProbeStatus::Pass), result(ProbeStatus::Manual)],
        t(2),
    )
    .unwrap();
    assert_eq!(st, PhaseStatus::InProgress);
    assert_eq!(confirm_manual(&mut s, 0, "mira", t(3)).unwrap(), 1);
    assert_eq!(s[0].status, PhaseStatus::Validated);
    assert_eq!(s[0].checks[1].confirmed.as_ref().unwrap().by, "mira");
}

#[test]
fn an_unavailable_probe_is_never_a_pass() {
    let mut s = vec![PhaseState::pending(1)];
    start(&mut s, 0, false, t(0)).unwrap();
    let st = record(&mut s, 0, vec![result(ProbeStatus::Unavailable)], t(2)).unwrap();
    assert_eq!(st, PhaseStatus::InProgress);
    confirm_manual(&mut s, 0, "mira", t(3)).unwrap();
    assert_eq!(
        s[0].status,
        PhaseStatus::InProgress,
        "confirming manual checks does not pass an unavailable probe"
    );
}

#[test]
fn a_pending_phase_cannot_be_validated_and_a_rolled_back_one_starts_again() {
    let mut s = vec![PhaseState::pending(1)];
    assert!(record(&mut s, 0, vec![result(ProbeStatus::Pass)], t(1)).is_err());
    start(&mut s, 0, false, t(1)).unwrap();
    roll_back(&mut s, 0, t(2)).unwrap();
    assert_eq!(s[0].status, PhaseStatus::RolledBack);
    assert!(record(&mut s, 0, vec![result(ProbeStatus::Pass)], t(3)).is_err());
    start(&mut s, 0, false, t(4)).unwrap();
    assert_eq!(s[0].status, PhaseStatus::InProgress);
    assert!(
        start(&mut s, 0, false, t(5))
            .unwrap_err()
            .contains("already in progress")
    );
}

#[test]
fn results_must_match_the_checks() {
    let mut s = vec![PhaseState::pending(2)];
    start(&mut s, 0, false, t(0)).unwrap();
    assert!(record(&mut s, 0, vec![result(ProbeStatus::Pass)], t(1)).is_err());
    assert!(
        record(&mut s, 3, vec![], t(1))
            .unwrap_err()
            .contains("no phase 3")
    );
}
