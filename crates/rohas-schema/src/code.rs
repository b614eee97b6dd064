//! Diagnostic codes as a closed set.
//!
//! A code used to be any `&'static str`, so a typo (`"E0O12"`) or a code
//! nobody documented compiled fine. As an enum every code has exactly one
//! title and one explanation (`explain.rs`), `rohas explain` can list them
//! all, and a test can hold each of them to having an example.
//!
//! The text form (`E0012`) is what users see and search for; it is stable.

use crate::diagnostic::Severity;
use std::fmt;

/// A stable diagnostic code, rendered as `E0001` … `W0003`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    E0001,
    E0002,
    E0003,
    E0004,
    E0005,
    E0006,
    E0007,
    E0008,
    E0009,
    E0010,
    E0011,
    E0012,
    E0013,
    E0014,
    E0015,
    E0016,
    E0017,
    E0018,
    E0019,
    W0001,
    W0002,
    W0003,
    W0004,
}

impl Code {
    /// Every code, errors first, in numeric order.
    pub const ALL: [Code; 23] = [
        Code::E0001,
        Code::E0002,
        Code::E0003,
        Code::E0004,
        Code::E0005,
        Code::E0006,
        Code::E0007,
        Code::E0008,
        Code::E0009,
        Code::E0010,
        Code::E0011,
        Code::E0012,
        Code::E0013,
        Code::E0014,
        Code::E0015,
        Code::E0016,
        Code::E0017,
        Code::E0018,
        Code::E0019,
        Code::W0001,
        Code::W0002,
        Code::W0003,
        Code::W0004,
    ];

    /// The text a user reads in `error[E0012]`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::E0001 => "E0001",
            Code::E0002 => "E0002",
            Code::E0003 => "E0003",
            Code::E0004 => "E0004",
            Code::E0005 => "E0005",
            Code::E0006 => "E0006",
            Code::E0007 => "E0007",
            Code::E0008 => "E0008",
            Code::E0009 => "E0009",
            Code::E0010 => "E0010",
            Code::E0011 => "E0011",
            Code::E0012 => "E0012",
            Code::E0013 => "E0013",
            Code::E0014 => "E0014",
            Code::E0015 => "E0015",
            Code::E0016 => "E0016",
            Code::E0017 => "E0017",
            Code::E0018 => "E0018",
            Code::E0019 => "E0019",
            Code::W0001 => "W0001",
            Code::W0002 => "W0002",
            Code::W0003 => "W0003",
            Code::W0004 => "W0004",
        }
    }

    /// `E` codes are errors, `W` codes warnings.
    pub fn severity(self) -> Severity {
        if self.as_str().starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// Read a code as a user types it: `E0012`, and also `e0012` or `E12`.
    /// `None` for anything that is not a known code.
    pub fn parse(text: &str) -> Option<Code> {
        let text = text.trim();
        let mut chars = text.chars();
        let letter = chars.next()?.to_ascii_uppercase();
        let digits = chars.as_str();
        if !matches!(letter, 'E' | 'W')
            || digits.is_empty()
            || digits.len() > 4
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let number: u16 = digits.parse().ok()?;
        let canonical = format!("{letter}{number:04}");
        Code::ALL.into_iter().find(|c| c.as_str() == canonical)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lets tests compare with the text form: `d.code == "E0005"`.
impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips_and_is_sorted() {
        for code in Code::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(code));
        }
        let mut sorted = Code::ALL;
        sorted.sort();
        assert_eq!(sorted, Code::ALL);
    }

    #[test]
    fn parse_is_lenient_about_case_and_zeros_only() {
        assert_eq!(Code::parse("e0012"), Some(Code::E0012));
        assert_eq!(Code::parse("E12"), Some(Code::E0012));
        assert_eq!(Code::parse(" w3 "), Some(Code::W0003));
        for bad in [
            "", "E", "E0020", "W0000", "E00012", "X0001", "E-12", "E+12", "E0012x", "É12",
        ] {
            assert_eq!(Code::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn severity_follows_the_letter() {
        assert_eq!(Code::E0018.severity(), Severity::Error);
        assert_eq!(Code::W0001.severity(), Severity::Warning);
    }
}
