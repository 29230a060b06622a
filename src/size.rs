//! Sizes as people write them on the command line and in recipes: `16G`,
//! `512M`, `64K`, `4096` (bytes). Powers of 1024.

use std::fmt;

/// A byte count parsed from a size string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Size(pub u64);

/// Why a size string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid size `{0}`: use a whole number with an optional K, M, G or T suffix (e.g. 16G, 512M)"
)]
pub struct SizeError(pub String);

impl Size {
    pub fn parse(text: &str) -> Result<Size, SizeError> {
        let t = text.trim();
        let err = || SizeError(text.to_string());
        let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
            Some(i) => t.split_at(i),
            None => (t, ""),
        };
        if digits.is_empty() {
            return Err(err());
        }
        let n: u64 = digits.parse().map_err(|_| err())?;
        let shift = match unit
            .trim_end_matches(['b', 'B'])
            .to_ascii_uppercase()
            .as_str()
        {
            "" if unit.is_empty() || unit.eq_ignore_ascii_case("b") => 0,
            "K" | "KI" => 10,
            "M" | "MI" => 20,
            "G" | "GI" => 30,
            "T" | "TI" => 40,
            _ => return Err(err()),
        };
        n.checked_mul(1u64 << shift).map(Size).ok_or_else(err)
    }

    pub fn bytes(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Size {
    /// The shortest exact form: `16G`, `1536M`, `4097`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
            if self.0 != 0 && self.0.is_multiple_of(1u64 << shift) {
                return write!(f, "{}{unit}", self.0 >> shift);
            }
        }
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for Size {
    type Err = SizeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Size::parse(s)
    }
}

impl<'de> serde::Deserialize<'de> for Size {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Size::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_suffixes_are_powers_of_1024() {
        assert_eq!(Size::parse("16G").unwrap().bytes(), 16 << 30);
        assert_eq!(Size::parse("512M").unwrap().bytes(), 512 << 20);
        assert_eq!(Size::parse("64k").unwrap().bytes(), 64 << 10);
        assert_eq!(Size::parse("1GiB").unwrap().bytes(), 1 << 30);
        assert_eq!(Size::parse("4096").unwrap().bytes(), 4096);
        assert_eq!(Size::parse("1T").unwrap().to_string(), "1T");
        assert_eq!(Size::parse("1536M").unwrap().to_string(), "1536M");
    }

    #[test]
    fn bad_sizes_are_refused_with_the_allowed_forms() {
        for bad in ["", "G", "16Q", "1.5G", "-1G", "99999999999999T"] {
            let e = Size::parse(bad).unwrap_err();
            assert!(e.to_string().contains("K, M, G or T"), "{bad}: {e}");
        }
    }
}
