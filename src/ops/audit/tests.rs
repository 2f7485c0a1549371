use super::*;
use chrono::TimeZone;

fn entry(phase: Phase, action: &str) -> Entry {
    Entry {
        phase,
        trace_id: "t1".into(),
        actor: Actor {
            os_user: "captain".into(),
            ..Actor::default()
        },
        action: action.into(),
        target: "summit".into(),
        from: "50 %".into(),
        to: "0 %".into(),
        reason: Some("error rate".into()),
        confirmation: "typed".into(),
        slo: None,
        result: None,
    }
}

fn journal_with(n: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let t = Utc.with_ymd_and_hms(2026, 11, 29, 3, 0, 0).unwrap();
    let mut j = Journal::open(&path).unwrap();
    for i in 0..n {
        j.append(entry(Phase::Intent, &format!("a{i}")), t).unwrap();
    }
    (dir, path)
}

#[test]
fn records_chain_and_verify() {
    let (_d, path) = journal_with(3);
    let records = verify(&path).unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].prev, GENESIS);
    assert_eq!(records[1].prev, records[0].hash);
    assert_eq!(records[2].seq, 3);
}

#[test]
fn reopening_continues_the_chain() {
    let (_d, path) = journal_with(2);
    let t = Utc.with_ymd_and_hms(2026, 11, 29, 4, 0, 0).unwrap();
    Journal::open(&path)
        .unwrap()
        .append(entry(Phase::Outcome, "x"), t)
        .unwrap();
    let records = verify(&path).unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[2].prev, records[1].hash);
}

#[test]
fn an_edited_line_is_detected() {
    let (_d, path) = journal_with(3);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"a1\"", "\"a9\"", 1)).unwrap();
    let err = verify(&path).unwrap_err().to_string();
    assert!(err.contains(":2:") && err.contains("edited"), "{err}");
}

#[test]
fn a_removed_line_is_detected() {
    let (_d, path) = journal_with(3);
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    let err = verify(&path).unwrap_err().to_string();
    assert!(err.contains(":2:") && err.contains("removed"), "{err}");
}

#[test]
fn a_tampered_journal_is_not_appended_to() {
    let (_d, path) = journal_with(2);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("summit", "summat", 1)).unwrap();
    assert!(Journal::open(&path).is_err());
}

#[test]
fn every_append_keeps_the_head_beside_the_journal() {
    let (_d, path) = journal_with(3);
    let records = verify(&path).unwrap();
    let head = read_head(&path).unwrap().unwrap();
    assert_eq!(head.seq, 3);
    assert_eq!(head.hash, records[2].hash);
    assert_eq!(verify_chain(&path).unwrap().head, HeadCheck::Matches);
}

#[test]
fn a_removed_last_line_is_named_with_the_head_and_the_file_end() {
    let (_d, path) = journal_with(4);
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text.lines().take(1).collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    let err = verify(&path).unwrap_err().to_string();
    assert!(
        err.contains(":2: the last 3 records are missing: the head")
            && err.contains("says seq 4, the file ends at 1"),
        "{err}"
    );
}

#[test]
fn an_added_field_breaks_the_hash() {
    let (_d, path) = journal_with(2);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen(",\"prev\"", ",\"approved_by\":\"cto\",\"prev\"", 1),
    )
    .unwrap();
    let err = verify(&path).unwrap_err().to_string();
    assert!(err.contains(":1:") && err.contains("added"), "{err}");
}

#[test]
fn two_fields_swapped_break_the_hash() {
    let (_d, path) = journal_with(1);
    let text = std::fs::read_to_string(&path).unwrap();
    let swapped = text.replacen(
        "\"target\":\"summit\",\"from\":\"50 %\"",
        "\"from\":\"50 %\",\"target\":\"summit\"",
        1,
    );
    assert_ne!(swapped, text);
    std::fs::write(&path, swapped).unwrap();
    let err = verify(&path).unwrap_err().to_string();
    assert!(err.contains(":1:") && err.contains("reordered"), "{err}");
}

#[test]
fn invalid_utf8_names_line_column_and_byte() {
    let (_d, path) = journal_with(3);
    let mut bytes = std::fs::read(&path).unwrap();
    let second = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
    // "é" is two bytes and one column, so column and byte differ after it.
    let at = second + 5;
    bytes.splice(at..at, "é".bytes().chain([0xff]));
    std::fs::write(&path, bytes).unwrap();
    let err = verify(&path).unwrap_err().to_string();
    assert!(
        err.contains(":2:7: not UTF-8: byte 8 of the line (0xff)"),
        "{err}"
    );
}

/// Records as captain wrote them before the head file and record forms existed.
fn legacy_journal(n: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let t = Utc.with_ymd_and_hms(2026, 11, 29, 3, 0, 0).unwrap();
    let mut prev = GENESIS.to_string();
    let mut text = String::new();
    for seq in 1..=n {
        let mut r = Record {
            v: None,
            seq,
            time: t,
            entry: entry(Phase::Intent, &format!("a{seq}")),
            otel: None,
            prev: prev.clone(),
            hash: String::new(),
        };
        r.hash = r.legacy_digest();
        prev = r.hash.clone();
        text.push_str(&serde_json::to_string(&r).unwrap());
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn a_journal_from_before_head_files_verifies_without_vouching_for_its_tail() {
    let (_d, path) = legacy_journal(3);
    let verified = verify_chain(&path).unwrap();
    assert_eq!(verified.records.len(), 3);
    assert_eq!(verified.head, HeadCheck::Missing);
}

#[test]
fn a_field_added_to_an_old_record_is_detected() {
    let (_d, path) = legacy_journal(2);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen(",\"prev\"", ",\"approved_by\":\"cto\",\"prev\"", 1),
    )
    .unwrap();
    let err = verify(&path).unwrap_err().to_string();
    assert!(err.contains(":1:") && err.contains("added"), "{err}");
}

#[test]
fn opening_an_old_journal_continues_it_in_the_new_form_with_a_head() {
    let (_d, path) = legacy_journal(2);
    let t = Utc.with_ymd_and_hms(2026, 11, 29, 4, 0, 0).unwrap();
    let mut j = Journal::open(&path).unwrap();
    assert_eq!(read_head(&path).unwrap().unwrap().seq, 2);
    j.append(entry(Phase::Outcome, "x"), t).unwrap();
    let verified = verify_chain(&path).unwrap();
    assert_eq!(verified.head, HeadCheck::Matches);
    assert_eq!(verified.records[2].v, Some(RECORD_VERSION));
    assert_eq!(verified.records[2].prev, verified.records[1].hash);
}

#[test]
fn a_deleted_head_is_noticed_once_records_were_written_with_one() {
    let (_d, path) = journal_with(2);
    std::fs::remove_file(head_path(&path)).unwrap();
    let err = verify(&path).unwrap_err().to_string();
    assert!(err.contains(":3:") && err.contains("deleted"), "{err}");
}

#[test]
fn records_after_the_head_verify_and_say_so() {
    let (_d, path) = journal_with(2);
    let two = read_head(&path).unwrap().unwrap();
    let t = Utc.with_ymd_and_hms(2026, 11, 29, 4, 0, 0).unwrap();
    Journal::open(&path)
        .unwrap()
        .append(entry(Phase::Outcome, "x"), t)
        .unwrap();
    HeadFile::beside(&path).store(&two).unwrap();
    let verified = verify_chain(&path).unwrap();
    assert_eq!(verified.head, HeadCheck::Behind { head_seq: 2 });
    Journal::open(&path).unwrap();
    assert_eq!(verify_chain(&path).unwrap().head, HeadCheck::Matches);
}

#[derive(Default, Clone)]
struct Mirror(std::sync::Arc<std::sync::Mutex<Vec<u64>>>);

impl HeadStore for Mirror {
    fn location(&self) -> String {
        "mirror".into()
    }
    fn store(&mut self, head: &Head) -> std::io::Result<()> {
        self.0.lock().unwrap().push(head.seq);
        Ok(())
    }
}

#[test]
fn a_mirrored_head_gets_the_current_head_then_every_new_one() {
    let (_d, path) = journal_with(2);
    let mirror = Mirror::default();
    let t = Utc.with_ymd_and_hms(2026, 11, 29, 4, 0, 0).unwrap();
    let mut j = Journal::open(&path).unwrap();
    j.mirror_head(Box::new(mirror.clone())).unwrap();
    j.append(entry(Phase::Outcome, "x"), t).unwrap();
    assert_eq!(*mirror.0.lock().unwrap(), vec![2, 3]);
}

#[test]
fn a_truncated_journal_is_not_appended_to() {
    let (_d, path) = journal_with(2);
    std::fs::write(&path, "").unwrap();
    assert!(Journal::open(&path).is_err());
    std::fs::remove_file(&path).unwrap();
    let err = Journal::open(&path).unwrap_err().to_string();
    assert!(err.contains("all 2 records are missing"), "{err}");
}

/// Spans as the exporter receives them, kept in memory.
#[derive(Debug, Clone, Default)]
struct Kept(std::sync::Arc<std::sync::Mutex<Vec<opentelemetry_sdk::trace::SpanData>>>);

impl opentelemetry_sdk::trace::SpanExporter for Kept {
    async fn export(
        &self,
        batch: Vec<opentelemetry_sdk::trace::SpanData>,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

fn traced_journal() -> (tempfile::TempDir, PathBuf, Journal, Kept) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let kept = Kept::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(kept.clone())
        .build();
    let mut j = Journal::open(&path).unwrap();
    j.trace_to(Some(Telemetry::from_provider(&provider, "summit")));
    (dir, path, j, kept)
}

fn attribute(span: &opentelemetry_sdk::trace::SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

#[test]
fn a_failed_action_is_a_span_with_status_error_and_its_records_carry_the_span_ids() {
    let (_dir, path, mut j, kept) = traced_journal();
    let begun = j.begin(entry(Phase::Intent, "rollback")).unwrap();
    assert!(
        kept.0.lock().unwrap().is_empty(),
        "the span ends with the outcome"
    );
    j.settle(begun, Err("helm rollback exited 1".into()))
        .unwrap();

    let spans = kept.0.lock().unwrap().clone();
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    assert_eq!(span.name, "captain.rollback");
    assert_eq!(
        span.status,
        opentelemetry::trace::Status::error("helm rollback exited 1")
    );
    assert_eq!(attribute(span, "captain.result").as_deref(), Some("failed"));
    assert_eq!(
        attribute(span, "captain.release").as_deref(),
        Some("summit")
    );
    assert_eq!(
        attribute(span, "captain.journal.trace_id").as_deref(),
        Some("t1")
    );

    let verified = verify_chain(&path).unwrap();
    assert_eq!(verified.records.len(), 2);
    for r in &verified.records {
        let ids = r.otel.as_ref().expect("span ids in the record");
        assert_eq!(ids.trace_id, span.span_context.trace_id().to_string());
        assert_eq!(ids.span_id, span.span_context.span_id().to_string());
    }
    assert_eq!(verified.head, HeadCheck::Matches);
}

#[test]
fn an_answered_intent_is_a_span_of_its_own_ended_with_the_answer() {
    let (_dir, path, mut j, kept) = traced_journal();
    let mut outcome = entry(Phase::Outcome, "rollback");
    outcome.result = Some("ok: rollback finished after restart".into());
    j.answer(outcome).unwrap();
    let spans = kept.0.lock().unwrap().clone();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].status, opentelemetry::trace::Status::Ok);
    assert_eq!(
        attribute(&spans[0], "captain.result").as_deref(),
        Some("ok")
    );
    let records = verify_chain(&path).unwrap().records;
    assert_eq!(
        records[0].otel.as_ref().map(|o| o.span_id.clone()),
        Some(spans[0].span_context.span_id().to_string())
    );
}
