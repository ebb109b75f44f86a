//! Rows to bytes: each PostgreSQL value decoded by its type, then written as one JSON line
//! (`{"region": "quthing", "n": 12}`) or one CSV record (RFC 4180, `region` first).
//!
//! Rows arrive in PostgreSQL's binary format, so each type needs a decoder; the ones
//! planners meet are here (integers, floats, numeric, text, bool, date, timestamps, uuid,
//! json, and one-dimensional arrays of these). A value of any other type is sent as null:
//! once the query ran it is too late to ask for text, so the documentation tells planners
//! to cast such columns (`::text`). `numeric` is sent as a JSON string, because JSON
//! numbers are doubles in most readers and a sum of money or a mean must not change on
//! the way; its `NaN` and infinities have no JSON number either. Non-finite floats have no
//! JSON number and become null, in CSV too (an empty field).

use serde_json::Value;
use std::error::Error;
use std::io::Write;
use tokio_postgres::types::{Date, FromSql, Kind, Timestamp, Type};

type DecodeError = Box<dyn Error + Sync + Send>;

/// A value's raw bytes, whatever its type: the decoders below pick them apart.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, DecodeError> {
        Ok(Raw(Some(raw)))
    }
    fn from_sql_null(_: &Type) -> Result<Self, DecodeError> {
        Ok(Raw(None))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// The answer's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One JSON object per row, then a `_summary` line.
    Jsonl,
    /// A header, then one record per row; no summary (see the README).
    Csv,
}

/// Column names must tell columns apart, and `region` is taken.
pub fn check_columns(names: &[String]) -> Result<(), String> {
    for (i, name) in names.iter().enumerate() {
        if name == "region" {
            return Err("a column is named \"region\", which the answer uses for the region; rename it with AS".into());
        }
        if names[..i].contains(name) {
            return Err(format!(
                "two columns are named \"{name}\"; give them distinct names with AS"
            ));
        }
    }
    Ok(())
}

/// Appends one row of `region` to `out`.
pub fn write_row(
    out: &mut Vec<u8>,
    format: Format,
    region: &str,
    names: &[String],
    row: &tokio_postgres::Row,
) -> Result<(), DecodeError> {
    let mut cells = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let Raw(raw) = row.try_get(i)?;
        cells.push(decode(column.type_(), raw)?);
    }
    match format {
        Format::Jsonl => json_line(out, region, names, &cells),
        Format::Csv => csv_record(out, std::iter::once(region.into()).chain(cells)),
    }
    Ok(())
}

/// The CSV header: `region` and the columns.
pub fn csv_header(out: &mut Vec<u8>, names: &[String]) {
    let fields = std::iter::once("region").chain(names.iter().map(String::as_str));
    csv_record(out, fields.map(|n| Value::String(n.to_owned())));
}

/// One value as JSON. `raw` is None for SQL NULL.
pub fn decode(ty: &Type, raw: Option<&[u8]>) -> Result<Value, DecodeError> {
    let Some(raw) = raw else {
        return Ok(Value::Null);
    };
    if let Kind::Array(member) = ty.kind() {
        // Arrays of more than one dimension do not decode into a list: null, as for types
        // without a decoder.
        let Ok(items) = Vec::<Raw<'_>>::from_sql(ty, raw) else {
            return Ok(Value::Null);
        };
        return items.into_iter().map(|Raw(r)| decode(member, r)).collect();
    }
    let text = |s: String| Ok(Value::String(s));
    match *ty {
        Type::BOOL => Ok(bool::from_sql(ty, raw)?.into()),
        Type::INT2 => Ok(i16::from_sql(ty, raw)?.into()),
        Type::INT4 => Ok(i32::from_sql(ty, raw)?.into()),
        Type::INT8 => Ok(i64::from_sql(ty, raw)?.into()),
        Type::OID => Ok(u32::from_sql(ty, raw)?.into()),
        Type::FLOAT4 => Ok(f64::from(f32::from_sql(ty, raw)?).into()),
        Type::FLOAT8 => Ok(f64::from_sql(ty, raw)?.into()),
        Type::NUMERIC => text(numeric(raw)?),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
            text(String::from_sql(ty, raw)?)
        }
        Type::CHAR => text(char::from(i8::from_sql(ty, raw)? as u8).to_string()),
        Type::UUID => text(uuid::Uuid::from_sql(ty, raw)?.to_string()),
        Type::JSON | Type::JSONB => Ok(Value::from_sql(ty, raw)?),
        Type::DATE => text(match Date::<chrono::NaiveDate>::from_sql(ty, raw)? {
            Date::Value(d) => d.to_string(),
            Date::PosInfinity => "infinity".into(),
            Date::NegInfinity => "-infinity".into(),
        }),
        Type::TIMESTAMPTZ => text(
            match Timestamp::<chrono::DateTime<chrono::Utc>>::from_sql(ty, raw)? {
                Timestamp::Value(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                Timestamp::PosInfinity => "infinity".into(),
                Timestamp::NegInfinity => "-infinity".into(),
            },
        ),
        Type::TIMESTAMP => text(
            match Timestamp::<chrono::NaiveDateTime>::from_sql(ty, raw)? {
                Timestamp::Value(t) => t.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
                Timestamp::PosInfinity => "infinity".into(),
                Timestamp::NegInfinity => "-infinity".into(),
            },
        ),
        _ => Ok(Value::Null),
    }
}

/// PostgreSQL's binary `numeric` (base-10000 digits with a weight, a sign and a display
/// scale) as its decimal text, exactly as psql would show it.
pub fn numeric(raw: &[u8]) -> Result<String, DecodeError> {
    let word = |i: usize| -> Result<u16, DecodeError> {
        raw.get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "numeric value cut short".into())
    };
    let (ndigits, weight, sign, dscale) = (
        usize::from(word(0)?),
        i32::from(word(2)? as i16),
        word(4)?,
        usize::from(word(6)?),
    );
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits = (0..ndigits)
        .map(|i| word(8 + 2 * i))
        .collect::<Result<Vec<_>, _>>()?;
    // The base-10000 digit at position `p` (0 is the most significant one before the point).
    let digit = |p: i32| usize::try_from(p).ok().and_then(|p| digits.get(p)).copied();
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    }
    for p in 0..=weight {
        let d = digit(p).unwrap_or(0);
        if p == 0 {
            out.push_str(&d.to_string());
        } else {
            out.push_str(&format!("{d:04}"));
        }
    }
    if dscale > 0 {
        let mut fraction = String::new();
        let mut p = weight + 1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", digit(p).unwrap_or(0)));
            p += 1;
        }
        fraction.truncate(dscale);
        out.push('.');
        out.push_str(&fraction);
    }
    Ok(out)
}

fn json_line(out: &mut Vec<u8>, region: &str, names: &[String], cells: &[Value]) {
    // Written by hand rather than through a map, to keep the query's column order.
    out.extend_from_slice(b"{\"region\":");
    let _ = serde_json::to_writer(&mut *out, region);
    for (name, cell) in names.iter().zip(cells) {
        out.push(b',');
        let _ = serde_json::to_writer(&mut *out, name);
        out.push(b':');
        let _ = serde_json::to_writer(&mut *out, cell);
    }
    out.extend_from_slice(b"}\n");
}

/// One RFC 4180 record, CRLF-terminated. NULL is an empty field and an empty string is
/// `""`, so the two stay apart; a field is quoted only when it must be.
pub fn csv_record(out: &mut Vec<u8>, fields: impl Iterator<Item = Value>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let text = match field {
            Value::Null => continue,
            Value::String(s) if s.is_empty() => {
                out.extend_from_slice(b"\"\"");
                continue;
            }
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => other.to_string(),
        };
        if text.contains([',', '"', '\r', '\n']) {
            let _ = write!(out, "\"{}\"", text.replace('"', "\"\""));
        } else {
            out.extend_from_slice(text.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
