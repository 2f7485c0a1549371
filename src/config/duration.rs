//! Durations as people write them in config files: `30s`, `10m`, `3d`, `1h 30m`.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A duration written the human way (`10m`), kept as a `std::time::Duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span(pub Duration);

impl Span {
    pub const fn secs(s: u64) -> Self {
        Span(Duration::from_secs(s))
    }

    pub fn as_secs(self) -> u64 {
        self.0.as_secs()
    }

    pub fn chrono(self) -> chrono::Duration {
        chrono::Duration::from_std(self.0).unwrap_or(chrono::Duration::MAX)
    }
}

impl std::str::FromStr for Span {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        humantime::parse_duration(s.trim())
            .map(Span)
            .map_err(|e| format!("`{s}` is not a duration such as 30s, 10m or 3d ({e})"))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_span(self.0))
    }
}

/// `3d 4h`, `12m 5s`, `45s`: the two largest units, as a release captain reads an age.
pub fn format_span(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, mins, secs) = (s / 86_400, (s / 3600) % 24, (s / 60) % 60, s % 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, _) if secs == 0 => format!("{mins}m"),
        (0, 0, _) => format!("{mins}m {secs}s"),
        (0, _, _) if mins == 0 => format!("{hours}h"),
        (0, _, _) => format!("{hours}h {mins}m"),
        _ if hours == 0 => format!("{days}d"),
        _ => format!("{days}d {hours}h"),
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SpanVisitor;
        impl Visitor<'_> for SpanVisitor {
            type Value = Span;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as 30s, 10m or 3d")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Span, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(SpanVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_units_config_files_use() {
        assert_eq!("30s".parse::<Span>().unwrap(), Span::secs(30));
        assert_eq!("10m".parse::<Span>().unwrap(), Span::secs(600));
        assert_eq!("3d".parse::<Span>().unwrap(), Span::secs(3 * 86_400));
        assert!("ten minutes".parse::<Span>().is_err());
    }

    #[test]
    fn formats_ages_with_two_units() {
        assert_eq!(format_span(Duration::from_secs(45)), "45s");
        assert_eq!(format_span(Duration::from_secs(125)), "2m 5s");
        assert_eq!(format_span(Duration::from_secs(3 * 86_400 + 7200)), "3d 2h");
        assert_eq!(format_span(Duration::from_secs(3600)), "1h");
    }
}
