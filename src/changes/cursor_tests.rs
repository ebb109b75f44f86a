//! Every answer a change cursor can get, without a database.
use super::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn key() -> Key {
    Key::from_setting("a test key of more than thirty-two characters")
}

fn known(region: &str) -> bool {
    ["quthing", "maseru"].contains(&region)
}

fn mark(epoch: Uuid, xid: u64, seq: i64) -> Mark {
    Mark {
        epoch,
        position: Position { xid, seq },
    }
}

fn state(epoch: Uuid) -> LogState {
    LogState {
        epoch,
        pruned: Position { xid: 900, seq: 40 },
        next_xid: 5000,
    }
}

fn cursor(epoch: Uuid) -> Cursor {
    let mut c = Cursor::new();
    c.set("quthing", mark(epoch, 1234, 56));
    c
}

#[test]
fn a_sealed_cursor_opens_as_it_was_and_shows_neither_regions_nor_positions() {
    let epoch = Uuid::new_v4();
    let raw = cursor(epoch).seal(&key());
    assert_eq!(Cursor::open(&raw, &key(), known), Ok(cursor(epoch)));
    assert!(
        raw.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    );
    let bytes = URL_SAFE_NO_PAD.decode(&raw).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("quthing") && !text.contains("1234"),
        "{text}"
    );
}

#[test]
fn a_tampered_forged_or_foreign_cursor_is_reset_as_tampered() {
    let raw = cursor(Uuid::new_v4()).seal(&key());
    let list_cursor = key().seal_for(b"hmis list cursor v2", b"{\"v\":1,\"r\":{}}");
    let other_key = cursor(Uuid::new_v4()).seal(&Key::from_setting("another deployment's key"));
    for bad in [
        "",
        "not a cursor",
        &raw[..raw.len() - 2],
        &list_cursor,
        &other_key,
    ] {
        assert_eq!(
            Cursor::open(bad, &key(), known),
            Err(Reset::Tampered),
            "{bad}"
        );
    }
    let bytes = URL_SAFE_NO_PAD.decode(&raw).unwrap();
    for i in 0..bytes.len() {
        let mut altered = bytes.clone();
        altered[i] ^= 1;
        let altered = URL_SAFE_NO_PAD.encode(&altered);
        assert_eq!(
            Cursor::open(&altered, &key(), known),
            Err(Reset::Tampered),
            "byte {i}"
        );
    }
}

#[test]
fn a_cursor_naming_a_region_this_deployment_lacks_is_reset() {
    let mut c = cursor(Uuid::new_v4());
    c.set("atlantis", mark(Uuid::new_v4(), 1, 1));
    let raw = c.seal(&key());
    assert_eq!(Cursor::open(&raw, &key(), known), Err(Reset::UnknownRegion));
}

#[test]
fn a_region_the_cursor_does_not_name_starts_from_now() {
    let c = cursor(Uuid::new_v4());
    assert!(c.get("maseru").is_none());
    assert!(c.get("quthing").is_some());
}

#[test]
fn a_mark_at_or_after_the_pruned_position_of_its_epoch_resumes() {
    let epoch = Uuid::new_v4();
    for m in [
        mark(epoch, 900, 40),
        mark(epoch, 900, 41),
        mark(epoch, 4999, 1),
    ] {
        assert_eq!(resume(&m, &state(epoch)), Ok(()), "{m:?}");
    }
}

#[test]
fn a_mark_below_the_pruned_position_is_expired() {
    let epoch = Uuid::new_v4();
    for m in [
        mark(epoch, 900, 39),
        mark(epoch, 899, 1000),
        mark(epoch, 0, 0),
    ] {
        assert_eq!(resume(&m, &state(epoch)), Err(Reset::Expired), "{m:?}");
    }
}

#[test]
fn a_mark_of_another_epoch_or_beyond_every_transaction_is_of_another_epoch() {
    let epoch = Uuid::new_v4();
    let other = mark(Uuid::new_v4(), 1000, 1);
    let future = mark(epoch, 5001, 1);
    for m in [other, future] {
        assert_eq!(resume(&m, &state(epoch)), Err(Reset::OtherEpoch), "{m:?}");
    }
}

#[test]
fn positions_order_by_transaction_then_sequence() {
    let p = |xid, seq| Position { xid, seq };
    assert!(p(10, 99) < p(11, 1));
    assert!(p(11, 0) < p(11, 1), "(x, 0) comes before every event of x");
    assert_eq!(Reset::OtherEpoch.as_str(), "other-epoch");
}
