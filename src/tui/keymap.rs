//! The one keymap registry: a table of (key, action, description, scope, mutating?) that
//! drives dispatch, the `?` help page, the `:` palette and user overrides. In read-only
//! mode the mutating rows are stripped, so they can neither be pressed nor shown.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::panel::Panel;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    Palette,
    Filter,
    NextPanel,
    PrevPanel,
    Focus(Panel),
    Up,
    Down,
    PageUp,
    PageDown,
    Zoom,
    NextChart,
    Promote,
    PromoteFull,
    Pause,
    Resume,
    Rollback,
    Abort,
    DeletePreview,
    CleanStale,
    OpenPreview,
    PhaseStart,
    PhaseForceStart,
    PhaseValidate,
    PhaseConfirm,
    PhaseRollBack,
    Sentinel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Global,
    Panel(Panel),
}

/// A key as written in config and shown in help: `R`, `ctrl-r`, `tab`, `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub const fn ch(c: char) -> Self {
        Key {
            code: KeyCode::Char(c),
            ctrl: false,
        }
    }

    pub const fn code(code: KeyCode) -> Self {
        Key { code, ctrl: false }
    }

    pub fn matches(&self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let code = ev.code;
        self.ctrl == ctrl && self.code == code
    }
}

impl std::str::FromStr for Key {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (ctrl, rest) = match s.strip_prefix("ctrl-") {
            Some(r) => (true, r),
            None => (false, s),
        };
        let code = match rest {
            "tab" => KeyCode::Tab,
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            r if r.chars().count() == 1 => KeyCode::Char(r.chars().next().unwrap_or(' ')),
            r if r.starts_with('f') && r[1..].parse::<u8>().is_ok() => {
                KeyCode::F(r[1..].parse().unwrap_or(1))
            }
            _ => {
                return Err(format!(
                    "`{s}` is not a key: expected e.g. R, ctrl-r, tab, enter, f5"
                ));
            }
        };
        Ok(Key { code, ctrl })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub action: Action,
    /// The name used in `[keys]` overrides and the `:` palette.
    pub name: &'static str,
    pub description: &'static str,
    pub scope: Scope,
    pub mutating: bool,
}

fn row(
    keys: &[Key],
    action: Action,
    name: &'static str,
    description: &'static str,
    scope: Scope,
    mutating: bool,
) -> Binding {
    Binding {
        keys: keys.to_vec(),
        action,
        name,
        description,
        scope,
        mutating,
    }
}

/// The default table. Keys follow k9s (`?`, `:`, `/`); the actions' keys are in `docs/keybindings.md`.
fn defaults() -> Vec<Binding> {
    use Action::*;
    use Scope::Global;
    let previews = Scope::Panel(Panel::Previews);
    let phases = Scope::Panel(Panel::Phases);
    vec![
        row(
            &[Key::ch('?')],
            Help,
            "help",
            "show this help",
            Global,
            false,
        ),
        row(
            &[Key::ch(':')],
            Palette,
            "palette",
            "command palette",
            Global,
            false,
        ),
        row(
            &[Key::ch('/')],
            Filter,
            "filter",
            "filter the focused list or the log",
            Global,
            false,
        ),
        row(
            &[Key::code(KeyCode::Tab)],
            NextPanel,
            "next-panel",
            "focus the next panel",
            Global,
            false,
        ),
        row(
            &[Key::code(KeyCode::BackTab)],
            PrevPanel,
            "prev-panel",
            "focus the previous panel",
            Global,
            false,
        ),
        row(
            &[Key::ch('1')],
            Focus(Panel::Phases),
            "phases",
            "focus Phases",
            Global,
            false,
        ),
        row(
            &[Key::ch('2')],
            Focus(Panel::Canary),
            "canary",
            "focus Canary",
            Global,
            false,
        ),
        row(
            &[Key::ch('3')],
            Focus(Panel::Previews),
            "previews",
            "focus Previews",
            Global,
            false,
        ),
        row(
            &[Key::ch('4')],
            Focus(Panel::Main),
            "main",
            "focus Main health",
            Global,
            false,
        ),
        row(
            &[Key::ch('5')],
            Focus(Panel::Log),
            "log",
            "focus Log",
            Global,
            false,
        ),
        row(
            &[Key::code(KeyCode::Up), Key::ch('k')],
            Up,
            "up",
            "select the row above; in the log, scroll to older records",
            Global,
            false,
        ),
        row(
            &[Key::code(KeyCode::Down), Key::ch('j')],
            Down,
            "down",
            "select the row below; in the log, scroll to newer records",
            Global,
            false,
        ),
        row(
            &[Key::code(KeyCode::PageUp)],
            PageUp,
            "page-up",
            "a page up: older records in the log, rows above in a list",
            Global,
            false,
        ),
        row(
            &[Key::code(KeyCode::PageDown)],
            PageDown,
            "page-down",
            "a page down: newer records in the log, rows below in a list",
            Global,
            false,
        ),
        row(
            &[Key::ch('z'), Key::code(KeyCode::Enter)],
            Zoom,
            "zoom",
            "zoom the focused panel in or out",
            Global,
            false,
        ),
        row(
            &[Key::ch('g')],
            NextChart,
            "charts",
            "show the next pair of golden-signal charts",
            Global,
            false,
        ),
        row(
            &[Key::ch('p')],
            Promote,
            "promote",
            "promote the canary to the next step now",
            Global,
            true,
        ),
        row(
            &[Key::ch('P')],
            PromoteFull,
            "promote-full",
            "promote the canary straight to 100 %",
            Global,
            true,
        ),
        row(
            &[Key::ch('f')],
            Pause,
            "pause",
            "pause the train and tag frozen/rollback",
            Global,
            true,
        ),
        row(
            &[Key::ch('F')],
            Resume,
            "resume",
            "delete frozen/rollback and resume the train",
            Global,
            true,
        ),
        row(
            &[Key::ch('R')],
            Rollback,
            "rollback",
            "weight to 0 and helm rollback to the previous revision",
            Global,
            true,
        ),
        row(
            &[Key::ch('a')],
            Abort,
            "abort",
            "weight to 0 without a helm rollback",
            Global,
            true,
        ),
        row(
            &[Key::ch('d')],
            DeletePreview,
            "delete-preview",
            "delete the selected preview namespace",
            previews,
            true,
        ),
        row(
            &[Key::ch('D')],
            CleanStale,
            "clean-stale",
            "delete every stale preview namespace",
            previews,
            true,
        ),
        row(
            &[Key::ch('o')],
            OpenPreview,
            "open-preview",
            "open the selected preview's URL in the browser",
            previews,
            false,
        ),
        row(
            &[Key::ch('s')],
            PhaseStart,
            "phase-start",
            "start the selected phase",
            phases,
            true,
        ),
        row(
            &[Key::ch('S')],
            PhaseForceStart,
            "phase-force-start",
            "start it before the phase before it is validated",
            phases,
            true,
        ),
        row(
            &[Key::ch('v')],
            PhaseValidate,
            "phase-validate",
            "run the selected phase's validation probes",
            phases,
            true,
        ),
        row(
            &[Key::ch('m')],
            PhaseConfirm,
            "phase-confirm",
            "confirm the selected phase's manual checks",
            phases,
            true,
        ),
        row(
            &[Key::ch('u')],
            PhaseRollBack,
            "phase-rollback",
            "mark the selected phase rolled back, after its rollback",
            phases,
            true,
        ),
        row(
            &[Key::ch('l')],
            Sentinel,
            "sentinel",
            "label PRs freeze/main-red, or unlabel when green",
            Scope::Panel(Panel::Main),
            true,
        ),
        row(
            &[
                Key::ch('q'),
                Key {
                    code: KeyCode::Char('c'),
                    ctrl: true,
                },
            ],
            Quit,
            "quit",
            "quit captain",
            Global,
            false,
        ),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<Binding>,
    pub read_only: bool,
}

impl Keymap {
    /// The default table with `overrides` (action name → key) applied; mutating rows
    /// removed when `read_only`.
    pub fn new(read_only: bool, overrides: &BTreeMap<String, String>) -> Result<Self, String> {
        let mut bindings = defaults();
        for (name, key) in overrides {
            let key: Key = key.parse()?;
            let Some(b) = bindings.iter_mut().find(|b| b.name == name) else {
                let names: Vec<_> = defaults().iter().map(|b| b.name).collect();
                return Err(format!(
                    "[keys] {name}: no such action; expected one of {}",
                    names.join(", ")
                ));
            };
            b.keys = vec![key];
        }
        for (i, a) in bindings.iter().enumerate() {
            for b in &bindings[i + 1..] {
                if let Some(k) = a.keys.iter().find(|k| b.keys.contains(k)) {
                    let overlap =
                        a.scope == b.scope || a.scope == Scope::Global || b.scope == Scope::Global;
                    if overlap {
                        return Err(format!(
                            "[keys] `{k}` is bound to both {} and {}",
                            a.name, b.name
                        ));
                    }
                }
            }
        }
        if read_only {
            bindings.retain(|b| !b.mutating);
        }
        Ok(Keymap {
            bindings,
            read_only,
        })
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The action for a key press in the focused panel: panel bindings first.
    pub fn lookup(&self, ev: &KeyEvent, focus: Panel) -> Option<Action> {
        let hit = |scope: Scope| {
            self.bindings
                .iter()
                .find(|b| b.scope == scope && b.keys.iter().any(|k| k.matches(ev)))
                .map(|b| b.action)
        };
        hit(Scope::Panel(focus)).or_else(|| hit(Scope::Global))
    }

    pub fn by_name(&self, name: &str) -> Option<&Binding> {
        self.bindings.iter().find(|b| b.name == name)
    }

    /// The first key of an action, for hints.
    pub fn key_of(&self, action: Action) -> Option<Key> {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .and_then(|b| b.keys.first().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn read_only_strips_every_mutating_action_from_dispatch_and_help() {
        let km = Keymap::new(true, &BTreeMap::new()).unwrap();
        assert_eq!(km.lookup(&press('R'), Panel::Canary), None);
        assert_eq!(km.lookup(&press('d'), Panel::Previews), None);
        assert!(km.bindings().iter().all(|b| !b.mutating));
        assert_eq!(km.lookup(&press('?'), Panel::Canary), Some(Action::Help));
    }

    #[test]
    fn panel_bindings_apply_only_in_their_panel() {
        let km = Keymap::new(false, &BTreeMap::new()).unwrap();
        assert_eq!(
            km.lookup(&press('d'), Panel::Previews),
            Some(Action::DeletePreview)
        );
        assert_eq!(km.lookup(&press('d'), Panel::Canary), None);
    }

    #[test]
    fn overrides_rebind_and_conflicts_are_refused() {
        let mut o = BTreeMap::new();
        o.insert("rollback".to_string(), "ctrl-r".to_string());
        let km = Keymap::new(false, &o).unwrap();
        let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
        assert_eq!(km.lookup(&ctrl_r, Panel::Log), Some(Action::Rollback));
        assert_eq!(km.lookup(&press('R'), Panel::Log), None);
        o.insert("pause".to_string(), "ctrl-r".to_string());
        assert!(
            Keymap::new(false, &o)
                .unwrap_err()
                .contains("bound to both")
        );
        let mut bad = BTreeMap::new();
        bad.insert("rollbak".to_string(), "x".to_string());
        assert!(
            Keymap::new(false, &bad)
                .unwrap_err()
                .contains("no such action")
        );
    }
}
