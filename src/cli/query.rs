//! `hmis query "SELECT ..."`: a client of a running hmis (`POST /api/v1/query`), so the
//! same login, authorization, checks and audit apply as for any other caller. It always
//! asks for JSON lines, whose last line says which regions failed, and prints the rows as
//! an aligned table, CSV or JSON lines; failed regions go to stderr.
//!
//! Exit codes: 0 when every region answered, 2 when some failed (their rows may be
//! missing or incomplete), 1 on any other error (hmis unreachable, 401/403/422: the
//! problem's detail is printed).

use crate::planning::encode;
use anyhow::{Context, anyhow, bail};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Value, json};
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// One SELECT (or WITH ... SELECT, VALUES) over the planning views: patients,
    /// observations.
    sql: String,
    /// Ask this region only; repeat for several. Default: every region you may query.
    #[arg(long = "region", value_name = "REGION")]
    regions: Vec<String>,
    /// How to print the rows.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// The running hmis.
    #[arg(long, env = "HMIS_URL", default_value = "http://127.0.0.1:8000")]
    url: String,
    /// A bearer token: the `token` that POST /api/v1/auth/login answers.
    /// Tokens are base64url, so one may begin with `-`: that is a value here,
    /// not an option.
    #[arg(
        long,
        env = "HMIS_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    token: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    /// Aligned columns, region first.
    Table,
    /// RFC 4180, with a header row.
    Csv,
    /// One JSON object per row, as hmis sends them.
    Json,
}

/// One JSON line with its keys in the order hmis wrote them (serde_json's map would sort
/// them, and a table's columns must follow the query).
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    fields.push(entry);
                }
                Ok(Ordered(fields))
            }
        }
        d.deserialize_map(Fields)
    }
}

pub async fn run(args: QueryArgs) -> anyhow::Result<ExitCode> {
    let token = args.token.as_deref().ok_or_else(|| {
        anyhow!(
            "no token: pass --token or set HMIS_TOKEN (the token POST /api/v1/auth/login answers)"
        )
    })?;
    let mut body = json!({"sql": args.sql, "format": "jsonl"});
    if !args.regions.is_empty() {
        body["regions"] = json!(args.regions);
    }
    let url = format!("{}/api/v1/query", args.url.trim_end_matches('/'));
    let mut response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach hmis at {}", args.url))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        let problem: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let detail = problem["detail"].as_str().unwrap_or(&text);
        bail!("hmis answered {status}: {detail}");
    }
    let stdout = std::io::BufWriter::new(std::io::stdout());
    let mut printer = Printer::new(args.format, stdout);
    let mut pending: Vec<u8> = Vec::new();
    let mut summary = None;
    while let Some(chunk) = response.chunk().await.context("reading the answer")? {
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let Ordered(fields) = serde_json::from_slice(&line).context("a line of the answer")?;
            match fields.as_slice() {
                [(key, value)] if key == "_summary" => summary = Some(value.clone()),
                _ => printer.row(&line, fields)?,
            }
        }
    }
    printer.finish()?;
    let summary = summary.ok_or_else(|| anyhow!("the answer ended early, without its summary"))?;
    let failed = summary["regions_failed"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for failure in &failed {
        eprintln!(
            "failed: {}: {}",
            text(&failure["region"]),
            failure_line(failure)
        );
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Rows a table is sized by: the first this many. Later rows print as they come, in those
/// widths (a wider cell pushes its line out), so that a huge answer never piles up in
/// memory, as every row of it once did.
const TABLE_SAMPLE: usize = 1000;

/// Prints rows as they come (CSV, JSON) or, for a table, once its first rows have come.
struct Printer<W: Write> {
    format: OutputFormat,
    out: W,
    header: Option<Vec<String>>,
    table: Vec<Vec<Value>>,
    layout: Option<Layout>,
}

impl<W: Write> Printer<W> {
    fn new(format: OutputFormat, out: W) -> Printer<W> {
        Printer {
            format,
            out,
            header: None,
            table: Vec::new(),
            layout: None,
        }
    }

    fn row(&mut self, raw: &[u8], fields: Vec<(String, Value)>) -> anyhow::Result<()> {
        let (names, values): (Vec<String>, Vec<Value>) = fields.into_iter().unzip();
        let first = self.header.is_none();
        if first {
            self.header = Some(names.clone());
        }
        match self.format {
            OutputFormat::Json => self.out.write_all(raw)?,
            OutputFormat::Csv => {
                let mut bytes = Vec::new();
                if first {
                    encode::csv_record(&mut bytes, names.into_iter().map(Value::String));
                }
                encode::csv_record(&mut bytes, values.into_iter());
                self.out.write_all(&bytes)?;
            }
            OutputFormat::Table => match &self.layout {
                Some(layout) => layout.line(&mut self.out, &cells(&values))?,
                None => {
                    self.table.push(values);
                    if self.table.len() >= TABLE_SAMPLE {
                        self.start_table()?;
                    }
                }
            },
        }
        Ok(())
    }

    /// Sizes the table by the rows held, prints them, and lets them go.
    fn start_table(&mut self) -> std::io::Result<()> {
        let header = self.header.clone().unwrap_or_default();
        let rows = std::mem::take(&mut self.table);
        self.layout = Some(write_table(&mut self.out, &header, &rows)?);
        Ok(())
    }

    /// Prints what is held and hands the output back.
    fn finish(mut self) -> anyhow::Result<W> {
        if self.format == OutputFormat::Table && self.layout.is_none() {
            if self.header.is_none() {
                eprintln!("(no rows)");
            }
            self.start_table()?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Each column's width and whether it holds numbers (right-aligned).
struct Layout {
    widths: Vec<usize>,
    numeric: Vec<bool>,
}

impl Layout {
    fn line(&self, out: &mut impl Write, texts: &[String]) -> std::io::Result<()> {
        let padded: Vec<String> = texts
            .iter()
            .zip(&self.widths)
            .zip(&self.numeric)
            .map(|((t, &w), &n)| {
                if n {
                    format!("{t:>w$}")
                } else {
                    format!("{t:<w$}")
                }
            })
            .collect();
        writeln!(out, "{}", padded.join("  ").trim_end())
    }
}

fn cells(row: &[Value]) -> Vec<String> {
    row.iter().map(text).collect()
}

/// Columns as wide as their widest cell (of `rows`), two spaces apart; numbers
/// right-aligned. Returns the layout, for rows that come later.
fn write_table(
    out: &mut impl Write,
    header: &[String],
    rows: &[Vec<Value>],
) -> std::io::Result<Layout> {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| cells(r)).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            let widest = cells
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count());
            widest.chain([header[i].chars().count()]).max().unwrap_or(0)
        })
        .collect();
    let numeric: Vec<bool> = (0..header.len())
        .map(|i| {
            !rows.is_empty()
                && rows
                    .iter()
                    .all(|r| r.get(i).is_some_and(|v| v.is_number() || v.is_null()))
        })
        .collect();
    let layout = Layout { widths, numeric };
    if header.is_empty() {
        return Ok(layout);
    }
    let titles = Layout {
        numeric: vec![false; header.len()],
        widths: layout.widths.clone(),
    };
    titles.line(out, header)?;
    let rule: Vec<String> = layout.widths.iter().map(|&w| "-".repeat(w)).collect();
    layout.line(out, &rule)?;
    for row in &cells {
        layout.line(out, row)?;
    }
    Ok(layout)
}

/// A value as a person reads it: strings without quotes, null as nothing.
fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A region's failure on one line: `refused (42703): column "x" does not exist; hint: ...`,
/// or just the reason's word when hmis tells no more.
fn failure_line(failure: &Value) -> String {
    let mut line = text(&failure["reason"]);
    for (key, before, after) in [
        ("sqlstate", " (", ")"),
        ("message", ": ", ""),
        ("hint", "; hint: ", ""),
    ] {
        if let Some(part) = failure[key].as_str() {
            line.push_str(&format!("{before}{part}{after}"));
        }
    }
    line
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
