//! The opaque cursor of a fanned-out list: for every region, the sort key of the last row
//! that region contributed. The next page asks each region only for rows after its own
//! position, so page 1000 costs what page 1 costs, and a region that failed on one page is
//! asked again from where it stopped. The cursor also names the sort and a digest of the
//! filters, so it cannot be replayed against another query.
//!
//! Positions are patients' names when the list is sorted by name, and a cursor ends up in
//! proxies' logs and browser histories; so a cursor is sealed: encrypted and authenticated
//! with XChaCha20-Poly1305 (a random nonce per cursor), under a key derived with
//! HMAC-SHA256 from the `server.cursor_key` setting. Nobody can read one, and anything but
//! a cursor this service sealed (forged, truncated, altered, sealed under another key)
//! fails to open. A random key is made at startup when the setting is empty: cursors then
//! die with the process, and processes behind one load balancer must share a set key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;

/// The format this version writes: 1 was plain base64 of the JSON, names readable.
const VERSION: u8 = 2;
const NONCE: usize = 24;
/// Binds the sealed bytes to their use: a key shared with another purpose cannot open them.
const CONTEXT: &[u8] = b"hmis list cursor v2";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// Format version.
    pub v: u8,
    /// The sort, as the request spelled it (`family_name,-birth_date`).
    pub sort: String,
    /// A digest of the filters.
    pub filter: String,
    /// Region name to the key of the last row it contributed (sort values, then ID).
    pub positions: BTreeMap<String, Vec<String>>,
}

/// The key cursors are sealed with.
pub struct Key(XChaCha20Poly1305);

impl Key {
    /// From the configured secret, or a new random one when it is empty. Derived once, by
    /// the `App` that seals and opens this process's cursors.
    pub fn from_setting(secret: &str) -> Key {
        let random: [u8; 32] = rand::random();
        let material: &[u8] = if secret.is_empty() {
            &random
        } else {
            secret.as_bytes()
        };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(material).expect("any key length");
        mac.update(CONTEXT);
        Key(XChaCha20Poly1305::new(&mac.finalize().into_bytes()))
    }

    /// Seals `plain` for another kind of cursor (the change log's), bound to `context`:
    /// what is sealed for one context never opens in another, so one setting serves both.
    pub fn seal_for(&self, context: &[u8], plain: &[u8]) -> String {
        let nonce: [u8; NONCE] = rand::random();
        let payload = Payload {
            msg: plain,
            aad: context,
        };
        let sealed = self
            .0
            .encrypt(XNonce::from_slice(&nonce), payload)
            .expect("sealing cannot fail for a cursor's size");
        URL_SAFE_NO_PAD.encode([&nonce[..], &sealed].concat())
    }

    /// Opens what [`Key::seal_for`] sealed under this key and `context`; None for anything
    /// else (forged, truncated, altered, another key or context).
    pub fn open_for(&self, context: &[u8], raw: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
        if bytes.len() <= NONCE {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE);
        let payload = Payload {
            msg: sealed,
            aad: context,
        };
        self.0.decrypt(XNonce::from_slice(nonce), payload).ok()
    }
}

/// Why a cursor was refused: the `detail` of the 400.
pub const NOT_OURS: &str = "not a cursor this API gave out, or altered";
pub const NO_POSITION: &str = "names no position to continue from";

impl Cursor {
    pub fn new(sort: String, filter: String) -> Cursor {
        Cursor {
            v: VERSION,
            sort,
            filter,
            positions: BTreeMap::new(),
        }
    }

    /// The cursor as a client sees it: base64url of nonce and sealed JSON.
    pub fn seal(&self, key: &Key) -> String {
        seal(&serde_json::to_vec(self).expect("a cursor serializes"), key)
    }

    /// Opens a cursor this service sealed with `key`; anything else is refused with the
    /// reason. A cursor that names no position, or an empty one, is refused too: none is
    /// ever given out, since there would be nothing to continue from.
    pub fn open(raw: &str, key: &Key) -> Result<Cursor, &'static str> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| NOT_OURS)?;
        if bytes.len() <= NONCE {
            return Err(NOT_OURS);
        }
        let (nonce, sealed) = bytes.split_at(NONCE);
        let payload = Payload {
            msg: sealed,
            aad: CONTEXT,
        };
        let plain = key
            .0
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| NOT_OURS)?;
        let cursor: Cursor = serde_json::from_slice(&plain).map_err(|_| NOT_OURS)?;
        if cursor.v != VERSION {
            return Err(NOT_OURS);
        }
        if cursor.positions.is_empty() || cursor.positions.values().any(Vec::is_empty) {
            return Err(NO_POSITION);
        }
        Ok(cursor)
    }
}

fn seal(plain: &[u8], key: &Key) -> String {
    let nonce: [u8; NONCE] = rand::random();
    let payload = Payload {
        msg: plain,
        aad: CONTEXT,
    };
    let sealed = key
        .0
        .encrypt(XNonce::from_slice(&nonce), payload)
        .expect("sealing cannot fail for a cursor's size");
    URL_SAFE_NO_PAD.encode([&nonce[..], &sealed].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::from_setting("a test key of more than thirty-two characters")
    }

    fn by_name() -> Cursor {
        let mut c = Cursor::new("family_name".into(), "ab".into());
        let id = "0194a0a0-0000-7000-8000-000000000001".to_owned();
        c.positions
            .insert("quthing".into(), vec!["Mokoena".into(), id]);
        c
    }

    #[test]
    fn a_sealed_cursor_opens_back_as_it_was_written_and_shows_no_name() {
        let sealed = by_name().seal(&key());
        assert_eq!(Cursor::open(&sealed, &key()), Ok(by_name()));
        let bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for hidden in ["Mokoena", "quthing", "family_name"] {
            assert!(!text.contains(hidden), "{hidden} readable in the cursor");
        }
        assert_ne!(sealed, by_name().seal(&key()), "a fresh nonce every time");
    }

    #[test]
    fn forged_truncated_tampered_and_other_keys_cursors_do_not_open() {
        let sealed = by_name().seal(&key());
        let plain_v1 = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&by_name()).unwrap());
        let other = by_name().seal(&Key::from_setting("another key, of another deployment"));
        let random = by_name().seal(&Key::from_setting(""));
        for raw in [
            "not a cursor",
            "",
            &plain_v1,
            &sealed[..sealed.len() - 1],
            &sealed[..30],
            &other,
            &random,
        ] {
            assert_eq!(Cursor::open(raw, &key()), Err(NOT_OURS), "{raw}");
        }
        let bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x20;
            let raw = URL_SAFE_NO_PAD.encode(&tampered);
            assert_eq!(Cursor::open(&raw, &key()), Err(NOT_OURS), "byte {i}");
        }
    }

    #[test]
    fn sealed_cursors_with_extra_fields_other_versions_or_no_position_are_refused() {
        let mut extra = serde_json::to_value(by_name()).unwrap();
        extra["admin"] = true.into();
        let mut old = serde_json::to_value(by_name()).unwrap();
        old["v"] = 1.into();
        for json in [extra, old] {
            let raw = seal(&serde_json::to_vec(&json).unwrap(), &key());
            assert_eq!(Cursor::open(&raw, &key()), Err(NOT_OURS), "{json}");
        }
        let mut emptied = by_name();
        emptied.positions.insert("quthing".into(), vec![]);
        let none = Cursor::new("family_name".into(), "ab".into());
        for c in [emptied, none] {
            assert_eq!(Cursor::open(&c.seal(&key()), &key()), Err(NO_POSITION));
        }
    }
}
