//! Spelling-variant keys for (mostly Sesotho) personal names.
//!
//! The same person turns up at different clinics written differently: the
//! Lesotho and South African orthographies of Sesotho spell the same sounds
//! differently (Moshoeshoe / Moshweshwe), and clerks make predictable slips
//! (Thabo / Tabo, Mpho / Mppho). Registration must still notice that it may
//! already know this person, so names are compared through [`name_key`], which
//! folds all of those spellings to one key, and [`similarity`], which scores
//! the keys for the remaining typos.
//!
//! The key is deliberately lossy: it is only ever used to *suggest* a possible
//! duplicate to a clerk, never to merge records, so a few extra collisions
//! cost less than a missed duplicate.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The combining caron of NFD; Lesotho writes "š" (Tšepo) where South Africa
/// writes "sh" (Tshepo), so it becomes "h" instead of being dropped.
const COMBINING_CARON: char = '\u{030C}';

/// Orthography and typo rewrites, applied in this order to the lowercased
/// letters. Order matters: each group expects the previous ones to have run.
const REWRITES: &[(&str, &str)] = &[
    // SA "tjh" is Lesotho "ch": Tjhaka / Chaka, tjhelete / chelete.
    ("tjh", "ch"),
    // SA "kg" is Lesotho "kh": Kgotso / Khotso. The "kh" then loses its "h"
    // below, so Kotso matches as well.
    ("kg", "kh"),
    // Lesotho writes the glide before a vowel as "o", SA as "w":
    // Moshoeshoe / Moshweshwe, Ntsoaki / Ntswaki.
    ("oe", "we"),
    ("oa", "wa"),
    // Lesotho "l" before i and u is said [d], and SA writes it "d":
    // Lineo / Dineo, Limpho / Dimpho, Tlali / Tladi; the greeting
    // Lumela / Dumela for "lu".
    ("di", "li"),
    ("du", "lu"),
    // Aspiration "h" that clerks drop or that the orthographies write
    // differently. "tš" has already become "tsh", so Tšepo / Tshepo / Tsepo
    // all end as "tsepo". "sh" (Moshoeshoe) and "hl" (Hlalele) are separate
    // sounds and keep their "h"; so does "ch", which is never written bare.
    ("tsh", "ts"),
    ("tlh", "tl"), // Tlhaloso / Tlaloso
    ("ph", "p"),   // Mpho / Mpo
    ("th", "t"),   // Thabo / Tabo
    ("kh", "k"),   // Khotso / Kotso
];

/// Normalised key under which spelling variants of one name collide.
///
/// Steps: decompose and drop diacritics (ê -> e, except š -> sh); lowercase;
/// keep letters only, so spaces, hyphens and apostrophes vanish
/// (Ma-Lerato / Malerato); collapse doubled letters (Mppho / Mpho); apply
/// [`REWRITES`]; collapse again, since a rewrite can create a new double.
pub fn name_key(name: &str) -> String {
    let mut letters = String::with_capacity(name.len());
    for c in name.nfd() {
        if is_combining_mark(c) {
            // Only the caron on "s" carries a sound; every other mark
            // (SA tone/vowel marks ê, ô; stray accents) is dropped.
            if c == COMBINING_CARON && letters.ends_with('s') {
                letters.push('h');
            }
        } else if c.is_alphabetic() {
            letters.extend(c.to_lowercase());
        }
    }
    let mut key = collapse_doubles(&letters);
    for (from, to) in REWRITES {
        // Most rewrites do not apply to a given name: no new string for those.
        if key.contains(from) {
            key = key.replace(from, to);
        }
    }
    collapse_doubles(&key)
}

/// Similarity in [0, 1] of two names, compared through their keys with
/// Jaro-Winkler, which rewards a shared start as people notice mistakes at
/// the start of a name more than at its end. Identical keys give 1.0; an empty
/// key gives 0.0, because a missing name is no evidence that two people are
/// the same.
pub fn similarity(a: &str, b: &str) -> f64 {
    key_similarity(&name_key(a), &name_key(b))
}

/// [`similarity`] of two keys already made by [`name_key`]: a key costs more to make
/// than to compare, so who compares one name with many keys it once.
pub fn key_similarity(ka: &str, kb: &str) -> f64 {
    if ka.is_empty() || kb.is_empty() {
        0.0
    } else if ka == kb {
        1.0
    } else {
        strsim::jaro_winkler(ka, kb)
    }
}

fn collapse_doubles(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
#[path = "names_tests.rs"]
mod tests;
