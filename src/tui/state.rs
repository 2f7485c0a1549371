//! The console's state, owned by the UI task alone: the latest reading from every source,
//! and the widget state (focus, selections, filters, the open dialog).

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::dialogs::confirm::ConfirmDialog;
use super::keymap::Keymap;
use crate::config::plan::Plan;
use crate::engine::analysis::Analysis;
use crate::engine::main_health::MainHealth;
use crate::engine::phases::PhaseState;
use crate::engine::previews::{self, Preview};
use crate::engine::signals::{GoldenSample, GoldenSet};
use crate::engine::train::Train;
use crate::ops::Outcome;
use crate::ops::driver::Update;
use crate::sources::Reading;

pub use super::panel::Panel;

/// What the keyboard is talking to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    /// Typing a filter for the focused list.
    Filter,
    Palette {
        input: String,
        selected: usize,
    },
    Confirm(Box<ConfirmDialog>),
}

/// Golden-signal history, oldest first, bounded, with the signals its samples hold.
#[derive(Debug, Clone)]
pub struct Series {
    pub samples: VecDeque<GoldenSample>,
    /// What each sample's values are, in order: the charts pair them.
    pub golden: GoldenSet,
    cap: usize,
}

impl Series {
    /// Six hours of one-second samples.
    pub const CAP: usize = 6 * 3600;

    /// A series of the six well-known signals.
    pub fn new(cap: usize) -> Self {
        Series {
            samples: VecDeque::with_capacity(cap.min(4096)),
            golden: GoldenSet::default(),
            cap,
        }
    }

    /// The samples of another set of signals from here on: those kept were of the old one.
    pub fn chart(&mut self, golden: GoldenSet) {
        if golden != self.golden {
            self.samples.clear();
            self.golden = golden;
        }
    }

    pub fn push(&mut self, s: GoldenSample) {
        if self.samples.len() == self.cap {
            self.samples.pop_front();
        }
        self.samples.push_back(s);
    }
}

/// The previews a panel lists, oldest first.
pub enum PreviewRows<'a> {
    All(&'a [Preview]),
    Filtered(Vec<&'a Preview>),
}

impl<'a> PreviewRows<'a> {
    pub fn len(&self) -> usize {
        match self {
            PreviewRows::All(rows) => rows.len(),
            PreviewRows::Filtered(rows) => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many rows from the first satisfy `pred`, which holds for a prefix of them.
    pub fn partition_point(&self, pred: impl Fn(&Preview) -> bool) -> usize {
        match self {
            PreviewRows::All(rows) => rows.partition_point(|p| pred(p)),
            PreviewRows::Filtered(rows) => rows.partition_point(|p| pred(p)),
        }
    }

    /// Up to `n` rows from row `from`.
    pub fn range(&self, from: usize, n: usize) -> impl Iterator<Item = &'a Preview> + '_ {
        let (all, some) = match self {
            PreviewRows::All(rows) => (rows.get(from..).unwrap_or_default(), &[][..]),
            PreviewRows::Filtered(rows) => (&[][..], rows.get(from..).unwrap_or_default()),
        };
        all.iter().chain(some.iter().copied()).take(n)
    }
}

/// Widget state apart from data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiState {
    pub focus: Panel,
    pub zoomed: bool,
    pub selected: [usize; 5],
    pub filters: [String; 5],
    pub mode: Mode,
    pub chart_pair: usize,
    /// The latest thing captain has to say, and whether it is bad news.
    pub status: Option<(String, bool)>,
    /// The last key asked to quit and was warned: the next quit goes.
    pub quit_asked: bool,
    /// The help page's first row shown, when it does not fit the terminal.
    pub help_scroll: usize,
    /// The terminal's size at the last frame (columns, rows): how far the help page can
    /// scroll. Zero until the first frame.
    pub size: (u16, u16),
}

impl Default for UiState {
    fn default() -> Self {
        UiState {
            focus: Panel::Canary,
            zoomed: false,
            selected: [0; 5],
            filters: Default::default(),
            mode: Mode::Normal,
            chart_pair: 0,
            status: None,
            quit_asked: false,
            help_scroll: 0,
            size: (0, 0),
        }
    }
}

pub struct App {
    pub keymap: Keymap,
    /// What the header says we are looking at: `demo: drill`, or the cluster context.
    pub world: String,
    pub release: String,
    pub plan: Plan,
    pub phases: Vec<PhaseState>,
    pub train: Option<Box<Train>>,
    pub weight_read_back: Option<u8>,
    pub analysis: Option<Box<Analysis>>,
    pub series: Series,
    /// Oldest first (see `set_previews`).
    pub previews: Reading<Vec<Preview>>,
    /// The feed's own list, to tell a new list from a beat that only says it is current.
    previews_source: Option<Arc<Vec<Preview>>>,
    pub main: Reading<MainHealth>,
    pub preview_prefix: String,
    pub ttl: Duration,
    /// Outcomes of actions, newest last, for the status line and tests.
    pub outcomes: VecDeque<Outcome>,
    /// Actions the cluster does not allow this user (by action name), with why.
    pub denied: std::collections::BTreeMap<crate::ops::ActionKind, String>,
    /// The console that drives the train, when another one does.
    pub follows: Option<String>,
    /// This console drives the train: quitting hands auto-rollback over.
    pub drives: bool,
    /// Ring the terminal's bell on a breach and on any automatic action (`[ui] bell`).
    pub bell: bool,
    /// The bell is due: the loop rings it once, after drawing.
    pub ring: bool,
    /// A URL to open in the browser: the loop opens it once.
    pub open: Option<String>,
    /// Write preview URLs as terminal hyperlinks (OSC 8): on a real terminal only, so a
    /// test's buffer holds the text alone.
    pub hyperlinks: bool,
    /// Why nobody would roll the canary back by itself now: the header says so.
    pub auto_rollback_off: Option<String>,
    /// Drift and lost shared state, for the header (`Update::Notes`).
    pub notes: Vec<String>,
    pub fault: Option<String>,
    /// Why the train is not started yet, and when it is tried again.
    pub unstarted: Option<(String, DateTime<Utc>)>,
    pub ui: UiState,
    pub quit: bool,
    /// The log pane's records, oldest first, bounded (`LOG_KEPT`).
    pub log: VecDeque<crate::tui::logging::Record>,
}

/// How many records the log pane keeps; `captain.log` keeps them all.
pub const LOG_KEPT: usize = 5_000;

impl App {
    /// What quitting would leave undone, when this console drives a canary that is taking
    /// traffic: nobody may roll it back by itself until another console or `captain drive`
    /// takes the lease (docs/runbook.md, "Two captains on one train").
    pub fn quit_warning(&self) -> Option<String> {
        use crate::engine::train::Status;
        let t = self.train.as_deref()?;
        let live = matches!(
            t.status,
            Status::Progressing | Status::AwaitingGate | Status::RollingBack { .. }
        );
        (self.drives && live).then(|| {
            format!(
                "you drive {}'s train: quitting hands auto-rollback to whichever console takes the lease next, or to nobody. Press q again to quit",
                t.release
            )
        })
    }

    pub fn new(
        keymap: Keymap,
        world: String,
        release: String,
        plan: Plan,
        phases: Vec<PhaseState>,
    ) -> Self {
        App {
            keymap,
            world,
            release,
            plan,
            phases,
            train: None,
            weight_read_back: None,
            analysis: None,
            series: Series::new(Series::CAP),
            previews: Reading::default(),
            previews_source: None,
            main: Reading::default(),
            preview_prefix: "pr-".into(),
            ttl: Duration::days(3),
            outcomes: VecDeque::new(),
            denied: Default::default(),
            follows: None,
            drives: false,
            bell: true,
            ring: false,
            open: None,
            hyperlinks: false,
            auto_rollback_off: None,
            notes: Vec::new(),
            fault: None,
            unstarted: None,
            ui: UiState::default(),
            quit: false,
            log: VecDeque::new(),
        }
    }

    /// Take the records logged since the last frame into the log pane. Scrolled back, the
    /// pane keeps showing what it showed.
    pub fn take_log(&mut self) {
        let new = crate::tui::logging::take();
        if new.is_empty() {
            return;
        }
        let filter = self.ui.filters[Panel::Log.index()].to_lowercase();
        let back = &mut self.ui.selected[Panel::Log.index()];
        if *back > 0 {
            *back += new
                .iter()
                .filter(|r| super::incident::log_matches(r, &filter))
                .count();
        }
        self.log.extend(new);
        let over = self.log.len().saturating_sub(LOG_KEPT);
        self.log.drain(..over);
    }

    /// The log pane's records as it lists them: filtered, oldest first.
    pub fn log_rows(&self) -> Vec<&crate::tui::logging::Record> {
        let filter = self.ui.filters[Panel::Log.index()].to_lowercase();
        self.log
            .iter()
            .filter(|r| super::incident::log_matches(r, &filter))
            .collect()
    }

    /// How many of the newest records the log pane is scrolled back past.
    pub fn log_back(&self) -> usize {
        let n = if self.ui.filters[Panel::Log.index()].is_empty() {
            self.log.len()
        } else {
            self.log_rows().len()
        };
        self.ui.selected[Panel::Log.index()].min(n.saturating_sub(1))
    }

    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Train(t, back) => {
                let was = self.train.as_ref().map_or(0, |t| t.failures);
                if self.bell && t.failures > was {
                    // A breach is under way: a sound, not only a colour.
                    self.ring = true;
                }
                let watching = matches!(
                    t.status,
                    crate::engine::train::Status::Progressing
                        | crate::engine::train::Status::AwaitingGate
                );
                if watching && t.failures != was {
                    // The last outcome (a promote done) is old news once a breach starts.
                    let (said, bad) = super::incident::breach_status(&t);
                    if bad {
                        log::error!("{}: {said}", t.release);
                    } else {
                        log::info!("{said}");
                    }
                    self.ui.status = Some((said, bad));
                }
                self.train = Some(t);
                self.unstarted = None;
                if back.is_some() {
                    self.weight_read_back = back;
                }
            }
            Update::Phases(p) => self.phases = p,
            Update::Sample(s) => self.series.push(s),
            Update::Analysis(a) => {
                let was = self.analysis.as_ref().map(|a| a.verdict);
                if was != Some(a.verdict) {
                    let from = was.map_or(String::new(), |v| {
                        format!("{} → ", v.label().to_uppercase())
                    });
                    let line = format!(
                        "verdict {from}{}: {}",
                        a.verdict.label().to_uppercase(),
                        a.reason
                    );
                    match a.verdict {
                        crate::engine::analysis::Verdict::Fail => log::warn!("{line}"),
                        _ => log::info!("{line}"),
                    }
                }
                self.analysis = Some(a);
            }
            Update::Outcome(o) => {
                // Captain acted by itself: whoever watches should look now.
                self.ring |= self.bell && o.automatic;
                let verb = if o.ok { "done" } else { "FAILED" };
                let who = if o.automatic { "automatic " } else { "" };
                self.ui.status = Some((
                    format!("{who}{} {}: {verb}: {}", o.action, o.target, o.message),
                    !o.ok,
                ));
                if self.outcomes.len() == 50 {
                    self.outcomes.pop_front();
                }
                self.outcomes.push_back(o);
            }
            Update::Denied(d) => self.denied = d,
            Update::Driver(holder, ours) => {
                let said = match (&holder, ours) {
                    (_, true) => "this console drives the train".to_string(),
                    (Some(h), false) => format!("{h} drives the train; this console follows"),
                    (None, false) => "nobody drives the train".to_string(),
                };
                let before = match (&self.follows, self.drives) {
                    (_, true) => Some("this console drives the train".to_string()),
                    (Some(h), false) => Some(format!("{h} drives the train; this console follows")),
                    (None, false) => None,
                };
                if before.as_ref() != Some(&said) {
                    log::info!("{said}");
                }
                self.drives = ours;
                self.follows = holder.filter(|_| !ours);
            }
            Update::AutoRollback(off) => {
                if let Some(why) = off.as_ref().filter(|_| off != self.auto_rollback_off) {
                    log::warn!("auto-rollback OFF: {why}");
                }
                self.auto_rollback_off = off;
            }
            Update::Notes(notes) => self.notes = notes,
            Update::Fault(f) => {
                self.ui.status = Some((f.clone(), true));
                self.fault = Some(f);
            }
            Update::Unstarted { why, retry_at } => self.unstarted = Some((why, retry_at)),
            Update::Waiting { action, on, waited } => {
                let on = on.map_or(String::new(), |what| format!(" on {what}"));
                let waited = crate::config::duration::format_span(waited);
                self.ui.status = Some((format!("{action}: waiting{on}… {waited}"), false));
            }
        }
    }

    /// Keep the previews oldest first: sorted once per new list, not once per frame.
    pub fn set_previews(&mut self, r: Reading<Vec<Preview>>) {
        let same = matches!(
            (&r.value, &self.previews_source),
            (Some(a), Some(b)) if Arc::ptr_eq(a, b)
        );
        let value = if same {
            self.previews.value.clone()
        } else {
            r.value.as_ref().map(|v| {
                let mut sorted = (**v).clone();
                previews::sort_by_age(&mut sorted);
                Arc::new(sorted)
            })
        };
        if !same && let (Some(old), Some(new)) = (self.previews.value.as_deref(), value.as_deref())
        {
            let now: std::collections::HashSet<&str> =
                new.iter().map(|p| p.namespace.as_str()).collect();
            for p in old.iter().filter(|p| !now.contains(p.namespace.as_str())) {
                log::info!("preview {} is gone from the cluster", p.namespace);
            }
        }
        self.previews_source = r.value.clone();
        self.previews = Reading { value, ..r };
    }

    /// Main's health as the panel shows it: GitHub's words (commit, checks, pull requests)
    /// with their control characters written out (`crate::text`); ratatui would drop them
    /// silently, leaving the rest of an escape sequence on screen unexplained.
    pub fn set_main(&mut self, r: Reading<MainHealth>) {
        let value = r.value.map(|m| match escaped_main(&m) {
            Some(clean) => Arc::new(clean),
            None => m,
        });
        if let Some(m) = &value {
            super::incident::log_main_change(self.main.value.as_deref(), m);
        }
        self.main = Reading { value, ..r };
    }

    pub fn focus_step(&mut self, by: isize) {
        self.ui.focus = self.ui.focus.step(by);
    }

    /// Previews as the panel lists them: filtered, oldest first.
    pub fn preview_rows(&self) -> Vec<&Preview> {
        match self.preview_list() {
            PreviewRows::All(all) => all.iter().collect(),
            PreviewRows::Filtered(rows) => rows,
        }
    }

    /// Previews as the panel lists them, without a list of all of them when no filter
    /// applies: the panel draws a screenful of thousands every frame.
    pub fn preview_list(&self) -> PreviewRows<'_> {
        let all = self
            .previews
            .value
            .as_deref()
            .map_or(&[][..], |v| v.as_slice());
        let filter = self.ui.filters[Panel::Previews.index()].to_lowercase();
        if filter.is_empty() {
            return PreviewRows::All(all);
        }
        PreviewRows::Filtered(
            all.iter()
                .filter(|p| {
                    p.namespace.contains(&filter)
                        || p.pr.as_ref().is_some_and(|pr| {
                            pr.title.to_lowercase().contains(&filter)
                                || pr.author.to_lowercase().contains(&filter)
                        })
                })
                .collect(),
        )
    }

    /// Phase indices as the panel lists them, filtered.
    pub fn phase_rows(&self) -> Vec<usize> {
        let filter = self.ui.filters[Panel::Phases.index()].to_lowercase();
        (0..self.plan.phases.len())
            .filter(|&i| {
                let p = &self.plan.phases[i];
                filter.is_empty()
                    || p.title.to_lowercase().contains(&filter)
                    || p.owner.label().to_lowercase().contains(&filter)
                    || p.id.to_string() == filter
            })
            .collect()
    }

    pub fn selected_preview(&self) -> Option<&Preview> {
        let rows = self.preview_rows();
        rows.get(self.ui.selected[Panel::Previews.index()].min(rows.len().saturating_sub(1)))
            .copied()
    }

    pub fn stale_previews(&self, now: DateTime<Utc>) -> Vec<String> {
        self.previews
            .value
            .as_deref()
            .map(|v| {
                previews::stale(v, &self.preview_prefix, now, self.ttl)
                    .into_iter()
                    .map(|p| p.namespace.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many rows the focused panel's list has, to bound its selection.
    pub fn row_count(&self, panel: Panel) -> usize {
        match panel {
            Panel::Phases => self.phase_rows().len(),
            Panel::Previews => self.preview_rows().len(),
            Panel::Canary => self.analysis.as_ref().map_or(0, |a| a.objectives.len()),
            Panel::Main => self.main.value.as_ref().map_or(0, |m| m.checks.len()),
            Panel::Log => self.log_rows().len(),
        }
    }
}

/// `m` with every text from GitHub escaped; None when nothing needed it.
fn escaped_main(m: &MainHealth) -> Option<MainHealth> {
    let texts = std::iter::once(&m.head.author)
        .chain([&m.head.message, &m.head.sha])
        .chain(m.checks.iter().map(|c| &c.name))
        .chain(m.freeze_prs.iter().chain(&m.renovate_prs).map(|p| &p.title))
        .chain(m.open_prs.iter().flat_map(|p| {
            std::iter::once(&p.title)
                .chain([&p.author])
                .chain(p.labels.iter())
        }))
        .chain(m.frozen.iter().map(|f| &f.sha));
    let mut clean = texts.map(|t| crate::text::sanitize(t));
    if clean.all(|t| matches!(t, std::borrow::Cow::Borrowed(_))) {
        return None;
    }
    let e = |t: &mut String| *t = crate::text::sanitize(t).into_owned();
    let mut m = m.clone();
    e(&mut m.head.author);
    e(&mut m.head.message);
    e(&mut m.head.sha);
    m.checks.iter_mut().for_each(|c| e(&mut c.name));
    m.freeze_prs
        .iter_mut()
        .chain(m.renovate_prs.iter_mut())
        .for_each(|p| e(&mut p.title));
    for p in &mut m.open_prs {
        e(&mut p.title);
        e(&mut p.author);
        p.labels.iter_mut().for_each(e);
    }
    if let Some(f) = &mut m.frozen {
        e(&mut f.sha);
    }
    Some(m)
}
