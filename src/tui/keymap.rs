//! The one keymap registry: a table of (key, action, description, scope, mutating?) that
//! drives dispatch, the `?` help page, the `:` palette and user overrides. In read-only
//! mode the mutating rows are stripped, so they can neither be pressed nor shown.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::panel::Panel;
use crate::ops::ActionKind;
use crate::ops::action::Where;

/// What a key does: move about the console, or one of captain's actions
/// ([`ActionKind`], with its name, words and default key).
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
    OpenPreview,
    Act(ActionKind),
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

/// A row that moves about the console (never mutating).
fn nav(keys: &[Key], action: Action, name: &'static str, description: &'static str) -> Binding {
    Binding {
        keys: keys.to_vec(),
        action,
        name,
        description,
        scope: Scope::Global,
        mutating: false,
    }
}

/// The row of one of captain's actions, all of it from [`ActionKind`]; `None` for what
/// only captain does (no key).
fn act(kind: ActionKind) -> Option<Binding> {
    let key: Key = kind.default_key()?.parse().ok()?;
    let scope = match kind.place() {
        Where::Anywhere => Scope::Global,
        Where::Previews => Scope::Panel(Panel::Previews),
        Where::Phases => Scope::Panel(Panel::Phases),
        Where::MainHealth => Scope::Panel(Panel::Main),
    };
    Some(Binding {
        keys: vec![key],
        action: Action::Act(kind),
        name: kind.name(),
        description: kind.describe(),
        scope,
        mutating: kind.mutates(),
    })
}

/// The default table. Keys follow k9s (`?`, `:`, `/`); the actions' keys are in
/// `docs/keybindings.md`. One line per binding.
#[rustfmt::skip]
fn defaults() -> Vec<Binding> {
    use Action::*;
    use KeyCode::{BackTab, Down as DownKey, Enter, PageDown as PgDn, PageUp as PgUp, Tab, Up as UpKey};
    let ctrl_c = Key { code: KeyCode::Char('c'), ctrl: true };
    let mut rows = vec![
        nav(&[Key::ch('?')], Help, "help", "show this help"),
        nav(&[Key::ch(':')], Palette, "palette", "command palette"),
        nav(&[Key::ch('/')], Filter, "filter", "filter the focused list or the log"),
        nav(&[Key::code(Tab)], NextPanel, "next-panel", "focus the next panel"),
        nav(&[Key::code(BackTab)], PrevPanel, "prev-panel", "focus the previous panel"),
        nav(&[Key::ch('1')], Focus(Panel::Phases), "phases", "focus Phases"),
        nav(&[Key::ch('2')], Focus(Panel::Canary), "canary", "focus Canary"),
        nav(&[Key::ch('3')], Focus(Panel::Previews), "previews", "focus Previews"),
        nav(&[Key::ch('4')], Focus(Panel::Main), "main", "focus Main health"),
        nav(&[Key::ch('5')], Focus(Panel::Log), "log", "focus Log"),
        nav(&[Key::code(UpKey), Key::ch('k')], Up, "up", "select the row above; in the log, scroll to older records"),
        nav(&[Key::code(DownKey), Key::ch('j')], Down, "down", "select the row below; in the log, scroll to newer records"),
        nav(&[Key::code(PgUp)], PageUp, "page-up", "a page up: older records in the log, rows above in a list"),
        nav(&[Key::code(PgDn)], PageDown, "page-down", "a page down: newer records in the log, rows below in a list"),
        nav(&[Key::ch('z'), Key::code(Enter)], Zoom, "zoom", "zoom the focused panel in or out"),
        nav(&[Key::ch('g')], NextChart, "charts", "show the next pair of golden-signal charts"),
    ];
    rows.extend(ActionKind::ALL.into_iter().filter_map(act));
    // Beside the other keys of the Previews panel.
    let open = nav(&[Key::ch('o')], OpenPreview, "open-preview", "open the selected preview's URL in the browser");
    let at = rows.iter().rposition(|b| b.scope == Scope::Panel(Panel::Previews)).map_or(rows.len(), |i| i + 1);
    rows.insert(at, Binding { scope: Scope::Panel(Panel::Previews), ..open });
    rows.push(nav(&[Key::ch('q'), ctrl_c], Quit, "quit", "quit captain"));
    rows
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
            Some(Action::Act(ActionKind::DeletePreview))
        );
        assert_eq!(km.lookup(&press('d'), Panel::Canary), None);
    }

    #[test]
    fn overrides_rebind_and_conflicts_are_refused() {
        let mut o = BTreeMap::new();
        o.insert("rollback".to_string(), "ctrl-r".to_string());
        let km = Keymap::new(false, &o).unwrap();
        let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
        assert_eq!(
            km.lookup(&ctrl_r, Panel::Log),
            Some(Action::Act(ActionKind::Rollback))
        );
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
