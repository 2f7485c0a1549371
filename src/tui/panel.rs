//! The five panels of the screen: what the keys focus and the layout places.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Panel {
    Phases,
    Canary,
    Previews,
    Main,
    Log,
}

impl Panel {
    pub const ALL: [Panel; 5] = [
        Panel::Phases,
        Panel::Canary,
        Panel::Previews,
        Panel::Main,
        Panel::Log,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Panel::Phases => "Phases",
            Panel::Canary => "Canary",
            Panel::Previews => "Previews",
            Panel::Main => "Main health",
            Panel::Log => "Log",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The panel `by` places on, round the screen.
    pub fn step(self, by: isize) -> Panel {
        let n = Panel::ALL.len() as isize;
        Panel::ALL[((self.index() as isize + by).rem_euclid(n)) as usize]
    }
}
