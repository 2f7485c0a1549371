//! Themes: `themes/default.toml` is complete; other themes override some of its keys, as
//! gitui's do. `--theme NAME|FILE` picks one; a bad file is an error with its position.

use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::config::ConfigError;

const DEFAULT: &str = include_str!("../../themes/default.toml");
const BUILTIN: [(&str, &str); 3] = [
    ("default", DEFAULT),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub text: Color,
    pub muted: Color,
    pub border: Color,
    pub border_focused: Color,
    pub title: Color,
    pub accent: Color,
    pub selection_bg: Color,
    pub pass: Color,
    pub warn: Color,
    pub fail: Color,
    pub nodata: Color,
    pub canary: Color,
    pub stable: Color,
    pub threshold: Color,
    pub stale: Color,
    pub orphaned: Color,
    pub danger: Color,
}

/// A theme file: every key optional, unknown keys rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Overrides {
    text: Option<Hue>,
    muted: Option<Hue>,
    border: Option<Hue>,
    border_focused: Option<Hue>,
    title: Option<Hue>,
    accent: Option<Hue>,
    selection_bg: Option<Hue>,
    pass: Option<Hue>,
    warn: Option<Hue>,
    fail: Option<Hue>,
    nodata: Option<Hue>,
    canary: Option<Hue>,
    stable: Option<Hue>,
    threshold: Option<Hue>,
    stale: Option<Hue>,
    orphaned: Option<Hue>,
    danger: Option<Hue>,
}

/// A colour as written in a theme file.
#[derive(Debug, Clone, Copy)]
struct Hue(Color);

const WHAT_A_COLOUR_IS: &str = "a name such as lightred, a hex #rrggbb or an index 0-255";

impl<'de> Deserialize<'de> for Hue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than an untagged enum, so a wrong value says what a colour is.
        struct HueVisitor;
        impl serde::de::Visitor<'_> for HueVisitor {
            type Value = Hue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a colour: {WHAT_A_COLOUR_IS}")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Hue, E> {
                u8::try_from(n)
                    .map(|i| Hue(Color::Indexed(i)))
                    .map_err(|_| {
                        E::custom(format!("{n} is not a colour: expected {WHAT_A_COLOUR_IS}"))
                    })
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Hue, E> {
                match u64::try_from(n) {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::custom(format!(
                        "{n} is not a colour: expected {WHAT_A_COLOUR_IS}"
                    ))),
                }
            }
            fn visit_str<E: serde::de::Error>(self, t: &str) -> Result<Hue, E> {
                t.parse::<Color>().map(Hue).map_err(|_| {
                    E::custom(format!(
                        "`{t}` is not a colour: expected {WHAT_A_COLOUR_IS}"
                    ))
                })
            }
        }
        d.deserialize_any(HueVisitor)
    }
}

impl Theme {
    fn base() -> Self {
        let mut t = Theme {
            text: Color::Reset,
            muted: Color::Reset,
            border: Color::Reset,
            border_focused: Color::Reset,
            title: Color::Reset,
            accent: Color::Reset,
            selection_bg: Color::Reset,
            pass: Color::Reset,
            warn: Color::Reset,
            fail: Color::Reset,
            nodata: Color::Reset,
            canary: Color::Reset,
            stable: Color::Reset,
            threshold: Color::Reset,
            stale: Color::Reset,
            orphaned: Color::Reset,
            danger: Color::Reset,
        };
        let defaults: Overrides = toml::from_str(DEFAULT)
            .unwrap_or_else(|e| unreachable!("themes/default.toml is checked by tests: {e}"));
        t.apply(defaults);
        t
    }

    /// The built-in default theme.
    pub fn default_theme() -> Self {
        Self::base()
    }

    /// A built-in theme by name, or a file by path; a user theme directory is searched for
    /// `<name>.toml` too.
    pub fn load(name_or_file: &str, user_dir: Option<&Path>) -> Result<Self, ConfigError> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_file) {
            return Self::parse(Path::new(&format!("<builtin theme {name_or_file}>")), text);
        }
        let candidates: Vec<PathBuf> = std::iter::once(PathBuf::from(name_or_file))
            .chain(user_dir.map(|d| d.join(format!("{name_or_file}.toml"))))
            .collect();
        match candidates.iter().find(|p| p.is_file()) {
            Some(path) => {
                let text = crate::config::source::read(path)?;
                Self::parse(path, &text)
            }
            None => Err(ConfigError::new(
                name_or_file,
                "no such theme: expected default, light, high-contrast or a theme file".to_string(),
            )),
        }
    }

    pub fn parse(origin: &Path, text: &str) -> Result<Self, ConfigError> {
        let o: Overrides =
            toml::from_str(text).map_err(|e| ConfigError::from_toml(origin, text, &e))?;
        let mut t = Self::base();
        t.apply(o);
        Ok(t)
    }

    fn apply(&mut self, o: Overrides) {
        let set = |slot: &mut Color, v: Option<Hue>| {
            if let Some(Hue(c)) = v {
                *slot = c;
            }
        };
        set(&mut self.text, o.text);
        set(&mut self.muted, o.muted);
        set(&mut self.border, o.border);
        set(&mut self.border_focused, o.border_focused);
        set(&mut self.title, o.title);
        set(&mut self.accent, o.accent);
        set(&mut self.selection_bg, o.selection_bg);
        set(&mut self.pass, o.pass);
        set(&mut self.warn, o.warn);
        set(&mut self.fail, o.fail);
        set(&mut self.nodata, o.nodata);
        set(&mut self.canary, o.canary);
        set(&mut self.stable, o.stable);
        set(&mut self.threshold, o.threshold);
        set(&mut self.stale, o.stale);
        set(&mut self.orphaned, o.orphaned);
        set(&mut self.danger, o.danger);
    }

    pub fn fg(&self, c: Color) -> Style {
        Style::default().fg(c)
    }

    pub fn bold(&self, c: Color) -> Style {
        Style::default().fg(c).add_modifier(Modifier::BOLD)
    }

    pub fn selected(&self) -> Style {
        Style::default()
            .bg(self.selection_bg)
            .add_modifier(Modifier::BOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_loads() {
        for (name, _) in BUILTIN {
            Theme::load(name, None).unwrap();
        }
        let light = Theme::load("light", None).unwrap();
        assert_eq!(light.text, Color::Black);
        assert_eq!(
            light.danger,
            Theme::default_theme().danger,
            "unset keys keep the default"
        );
    }

    #[test]
    fn a_bad_colour_is_an_error_with_its_position() {
        let err = Theme::parse(
            Path::new("mine.toml"),
            "text = \"white\"\npass = \"greenish\"\n",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.message.contains("not a colour"), "{err}");
    }

    #[test]
    fn a_colour_of_the_wrong_type_says_what_a_colour_is() {
        for (text, column) in [
            ("pass = 256\n", 8),
            ("pass = true\n", 8),
            ("pass = [1]\n", 8),
        ] {
            let err = Theme::parse(Path::new("mine.toml"), text).unwrap_err();
            assert_eq!((err.line, err.column), (Some(1), Some(column)), "{err}");
            assert!(err.message.contains("an index 0-255"), "{text}: {err}");
        }
        let indexed = Theme::parse(Path::new("mine.toml"), "pass = 42\n").unwrap();
        assert_eq!(indexed.pass, Color::Indexed(42));
    }

    #[test]
    fn an_unknown_key_is_an_error() {
        let err = Theme::parse(Path::new("mine.toml"), "bordr = \"red\"\n").unwrap_err();
        assert!(err.message.contains("unknown field `bordr`"), "{err}");
    }

    #[test]
    fn a_missing_theme_names_the_builtins() {
        let err = Theme::load("solarized-nope", None).unwrap_err();
        assert!(err.message.contains("default, light, high-contrast"));
    }
}
