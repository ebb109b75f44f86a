//! Health record numbers (HRN): the number printed on every patient's card.
//!
//! Clerks type it, read it over the phone and copy it from worn paper, so it
//! is all digits, short, and carries a check digit that stops a mistyped
//! number from silently opening another patient's record. Layout, 10 digits:
//! region code (2, 01-99) + per-region sequence (7) + check digit (1),
//! shown 3-3-4 like a phone number because people already read those well.
//!
//! The check digit uses the Damm algorithm rather than Luhn: Damm catches
//! *every* single-digit error and *every* adjacent transposition (Luhn misses
//! 09 <-> 90) and never needs a non-digit such as ISO 7064's "X".
//!
//! `hmis_hrn()` in `migrations/shard/0003_clinical.sql` computes the identical string inside PostgreSQL so that anyone
//! looking at the tables directly sees exactly what is printed on the card.

use std::fmt;
use std::str::FromStr;

/// Damm's totally anti-symmetric quasigroup of order 10, the table every
/// published implementation uses. `hmis_hrn()` in `migrations/shard/0003_clinical.sql` repeats it; a test keeps the
/// two copies identical.
const DAMM_TABLE: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/// Highest region code; two digits are reserved for it.
pub const REGION_MAX: u8 = 99;
/// Highest sequence number within a region; seven digits are reserved for it.
pub const SEQUENCE_MAX: u32 = 9_999_999;

/// Damm check digit of `digits` (each 0-9).
///
/// Appending the result gives a string whose `damm` is 0, which is how a
/// complete number is validated.
///
/// # Panics
/// If any element is greater than 9: that is a programming error, since
/// callers build the slice from parsed digits.
pub fn damm(digits: &[u8]) -> u8 {
    digits.iter().fold(0, |interim, &d| {
        DAMM_TABLE[usize::from(interim)][usize::from(d)]
    })
}

/// Why a health record number was refused. The `Display` text is meant to be
/// shown to the clerk as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HrnError {
    /// Region code 00 or above 99.
    RegionCode(u8),
    /// Sequence 0 or above [`SEQUENCE_MAX`].
    Sequence(u32),
    /// Something other than a digit or an accepted separator.
    UnexpectedCharacter(char),
    /// Not exactly 10 digits (the count found).
    WrongLength(usize),
    /// The check digit does not match the other nine.
    CheckDigit,
}

impl fmt::Display for HrnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HrnError::RegionCode(r) => write!(
                f,
                "region code {r:02} does not exist: a health record number starts with a region code from 01 to 99"
            ),
            HrnError::Sequence(s) => write!(
                f,
                "the patient part of the number ({s:07}) must be between 0000001 and {SEQUENCE_MAX}"
            ),
            HrnError::UnexpectedCharacter(c) => write!(
                f,
                "'{c}' cannot be part of a health record number: use only digits (dashes, spaces or dots between them are fine)"
            ),
            HrnError::WrongLength(n) => write!(
                f,
                "a health record number has 10 digits, this one has {n}: check for a missing or extra digit"
            ),
            HrnError::CheckDigit => write!(
                f,
                "the last digit does not match: check the number for a mistyped or swapped digit"
            ),
        }
    }
}

impl std::error::Error for HrnError {}

/// A validated health record number. Only the region and sequence are kept;
/// the check digit is always recomputed, so an invalid value cannot exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hrn {
    region_code: u8,
    sequence: u32,
}

impl Hrn {
    /// Builds a number from its parts, refusing region 0 / above 99 and
    /// sequence 0 / above [`SEQUENCE_MAX`].
    pub fn new(region_code: u8, sequence: u32) -> Result<Hrn, HrnError> {
        if region_code == 0 || region_code > REGION_MAX {
            return Err(HrnError::RegionCode(region_code));
        }
        if sequence == 0 || sequence > SEQUENCE_MAX {
            return Err(HrnError::Sequence(sequence));
        }
        Ok(Hrn {
            region_code,
            sequence,
        })
    }

    pub fn region_code(&self) -> u8 {
        self.region_code
    }

    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    pub fn check_digit(&self) -> u8 {
        damm(&self.body())
    }

    /// The nine digits the check digit protects: region then sequence,
    /// zero-padded, most significant first.
    fn body(&self) -> [u8; 9] {
        let mut digits = [0u8; 9];
        let mut rest = u64::from(self.region_code) * 10_000_000 + u64::from(self.sequence);
        for slot in digits.iter_mut().rev() {
            // `rest % 10` is below 10, so the narrowing cannot lose anything.
            *slot = (rest % 10) as u8;
            rest /= 10;
        }
        digits
    }
}

impl fmt::Display for Hrn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = format!(
            "{:02}{:07}{}",
            self.region_code,
            self.sequence,
            self.check_digit()
        );
        write!(f, "{}-{}-{}", &digits[..3], &digits[3..6], &digits[6..])
    }
}

impl FromStr for Hrn {
    type Err = HrnError;

    /// Accepts the printed form and the ways people actually write it:
    /// with dashes, spaces or dots anywhere, or none at all.
    fn from_str(s: &str) -> Result<Hrn, HrnError> {
        let mut digits = Vec::with_capacity(10);
        for c in s.trim().chars() {
            match c {
                '0'..='9' => digits.push(c as u8 - b'0'),
                '-' | ' ' | '.' => {}
                other => return Err(HrnError::UnexpectedCharacter(other)),
            }
        }
        if digits.len() != 10 {
            return Err(HrnError::WrongLength(digits.len()));
        }
        // The check digit is tested before the ranges: a typo is far more
        // likely than a deliberately entered region 00, and the typo message
        // tells the clerk what to do.
        if damm(&digits) != 0 {
            return Err(HrnError::CheckDigit);
        }
        let region = digits[0] * 10 + digits[1];
        let sequence = digits[2..9]
            .iter()
            .fold(0u32, |acc, &d| acc * 10 + u32::from(d));
        Hrn::new(region, sequence)
    }
}

#[cfg(test)]
#[path = "hrn_tests.rs"]
mod tests;
