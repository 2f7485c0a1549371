//! The confirmation dialog: what will happen (target, from → to, each effect), a reason
//! (required for the destructive ones), and for the most dangerous a typed confirmation.
//! Only a dialog that is satisfied produces a `Confirmed` command.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use super::centered;
use crate::engine::train::Train;
use crate::ops::{Command, Confirmation, Confirmed, Proposal};
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Reason,
    Typed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmDialog {
    pub command: Command,
    pub proposal: Proposal,
    pub reason: String,
    pub typed: String,
    pub field: Field,
    pub error: Option<String>,
}

pub enum Answer {
    Pending,
    Cancel,
    Confirm(Confirmed),
}

impl ConfirmDialog {
    pub fn new(command: Command, train: Option<&Train>) -> Self {
        let proposal = command.propose(train);
        Self::with_proposal(command, proposal)
    }

    /// For commands spelt out elsewhere (a phase's, against the plan).
    pub fn with_proposal(command: Command, proposal: Proposal) -> Self {
        ConfirmDialog {
            command,
            proposal,
            reason: String::new(),
            typed: String::new(),
            field: Field::Reason,
            error: None,
        }
    }

    fn input(&mut self) -> &mut String {
        match self.field {
            Field::Reason => &mut self.reason,
            Field::Typed => &mut self.typed,
        }
    }

    pub fn key(&mut self, ev: KeyEvent) -> Answer {
        match ev.code {
            KeyCode::Esc => return Answer::Cancel,
            KeyCode::Char('c') if ev.modifiers.contains(KeyModifiers::CONTROL) => {
                return Answer::Cancel;
            }
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down
                if self.proposal.typed.is_some() =>
            {
                self.field = match self.field {
                    Field::Reason => Field::Typed,
                    Field::Typed => Field::Reason,
                };
            }
            KeyCode::Backspace => {
                self.input().pop();
            }
            KeyCode::Char(c) => {
                self.input().push(c);
                self.error = None;
            }
            KeyCode::Enter => return self.submit(),
            _ => {}
        }
        Answer::Pending
    }

    fn submit(&mut self) -> Answer {
        let reason = self.reason.trim().to_string();
        if self.proposal.reason_required && reason.is_empty() {
            self.error = Some("a reason is required".into());
            self.field = Field::Reason;
            return Answer::Pending;
        }
        if let Some(expected) = &self.proposal.typed
            && self.typed.trim() != expected
        {
            if self.field == Field::Reason {
                self.field = Field::Typed;
                return Answer::Pending;
            }
            self.error = Some(format!("type `{expected}` to confirm"));
            return Answer::Pending;
        }
        Answer::Confirm(Confirmed {
            seen: Some(self.proposal.from.clone()),
            command: self.command.clone(),
            reason: (!reason.is_empty()).then_some(reason),
            confirmation: if self.proposal.typed.is_some() {
                Confirmation::Typed
            } else {
                Confirmation::Dialog
            },
        })
    }

    pub fn draw(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let p = &self.proposal;
        let width = area.width.saturating_sub(4).min(76);
        let mut lines = vec![
            Line::from(vec![
                Span::styled("target  ", theme.fg(theme.muted)),
                Span::styled(p.target.clone(), theme.bold(theme.text)),
            ]),
            Line::from(vec![
                Span::styled("change  ", theme.fg(theme.muted)),
                Span::styled(p.from.clone(), theme.fg(theme.text)),
                Span::styled(" → ", theme.fg(theme.muted)),
                Span::styled(p.to.clone(), theme.bold(theme.danger)),
            ]),
            Line::default(),
            Line::styled("This will:", theme.fg(theme.muted)),
        ];
        lines.extend(
            p.effects
                .iter()
                .enumerate()
                .map(|(i, e)| Line::styled(format!(" {}. {e}", i + 1), theme.fg(theme.text))),
        );
        lines.push(Line::default());
        let field = |label: String, value: &str, active: bool| {
            let cursor = if active { "▏" } else { "" };
            let style = if active {
                theme.bold(theme.accent)
            } else {
                theme.fg(theme.text)
            };
            Line::from(vec![
                Span::styled(label, theme.fg(theme.muted)),
                Span::styled(
                    format!("{value}{cursor}"),
                    style.add_modifier(Modifier::UNDERLINED),
                ),
            ])
        };
        let required = if p.reason_required {
            " (required)"
        } else {
            " (optional)"
        };
        lines.push(field(
            format!("reason{required}: "),
            &self.reason,
            self.field == Field::Reason,
        ));
        if let Some(expected) = &p.typed {
            lines.push(field(
                format!("type {expected} to confirm: "),
                &self.typed,
                self.field == Field::Typed,
            ));
        }
        lines.push(Line::default());
        if let Some(e) = &self.error {
            lines.push(Line::styled(format!("✗ {e}"), theme.bold(theme.fail)));
        }
        lines.push(Line::styled(
            "enter: confirm · tab: next field · esc: cancel",
            theme.fg(theme.muted),
        ));
        let inner_width = width.saturating_sub(2).max(1) as usize;
        let height: usize = lines
            .iter()
            .map(|l| l.width().div_ceil(inner_width).max(1))
            .sum::<usize>()
            + 2;
        let rect = centered(area, width, height as u16);
        f.render_widget(Clear, rect);
        let block = Block::bordered()
            .border_type(BorderType::Double)
            .border_style(theme.fg(theme.danger))
            .title(Span::styled(
                format!(" {} ", p.title),
                theme.bold(theme.danger),
            ));
        f.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            rect,
        );
    }
}
