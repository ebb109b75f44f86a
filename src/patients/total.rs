//! How many patients a list or search matches: counted exactly up to [`EXACT_UP_TO`], and
//! above that the planner's estimate, said to be one (`total_exact: false`; the clinic UI
//! shows "about"). An exact count of a region's million patients reads every one of them
//! on every page; a bounded count reads at most a thousand index entries, and the estimate
//! costs one plan, whatever the region holds.

use crate::shards::Conn;
use tokio_postgres::types::ToSql;

/// Matches counted one by one at most; beyond, the total is estimated.
pub const EXACT_UP_TO: i64 = 1000;

/// A total, and whether it was counted or estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    pub n: i64,
    pub exact: bool,
}

impl Total {
    pub const NONE: Total = Total { n: 0, exact: true };

    /// The total over several regions: exact only when every part is.
    pub fn sum(parts: impl IntoIterator<Item = Total>) -> Total {
        parts.into_iter().fold(Total::NONE, |a, b| Total {
            n: a.n + b.n,
            exact: a.exact && b.exact,
        })
    }
}

/// The patients matching `conditions`, as a `FROM` item named `patients`. A search's
/// matches are fetched first, behind a fence (`OFFSET 0`), and only then ordered: given a
/// page's `LIMIT`, PostgreSQL would rather walk the list order's index and filter, thinking
/// the matches spread evenly along it, and "Mokoena" (5 % of a region, all under "M")
/// then costs a walk past every name before it, seconds at a million patients. Fenced,
/// a search costs its matches (index range scans, then a sort), whatever the region holds.
pub fn source(conditions: &str, fenced: bool) -> String {
    if fenced {
        format!("(SELECT * FROM patients WHERE {conditions} OFFSET 0) AS patients")
    } else {
        format!("patients WHERE {conditions}")
    }
}

/// The statements that count the patients matching `conditions` (SQL over `patients`
/// with its parameters): the bounded count, and the plan whose row estimate replaces it
/// above the bound. A search's count is fenced (see [`source`]): it reads the index
/// entries of the matches and the first thousand and one rows, never a walk in search of
/// them.
pub fn statements(conditions: &str, search: bool) -> [String; 2] {
    [
        format!(
            "SELECT count(*) FROM (SELECT 1 FROM {} LIMIT {}) AS bounded",
            source(conditions, search),
            EXACT_UP_TO + 1
        ),
        format!("EXPLAIN (FORMAT JSON) SELECT 1 FROM patients WHERE {conditions}"),
    ]
}

/// A statement for `sql`: the connection's cached one, or with `by_values` a fresh one,
/// planned for the values it is run with. A search's best plan depends on its words
/// ("mo" matches a tenth of a region, "lekets" forty patients), which the generic plan a
/// cached statement settles on cannot know; a list's does not.
pub async fn statement(
    c: &impl Conn,
    sql: &str,
    by_values: bool,
) -> Result<tokio_postgres::Statement, tokio_postgres::Error> {
    if by_values {
        c.client().prepare(sql).await
    } else {
        c.prepared(sql).await
    }
}

/// Counts with the statements of [`statements`] and the conditions' parameters.
pub async fn count(
    c: &impl Conn,
    [bounded, estimate]: &[String; 2],
    params: &[&(dyn ToSql + Sync)],
    by_values: bool,
) -> Result<Total, tokio_postgres::Error> {
    let stmt = statement(c, bounded, by_values).await?;
    let counted: i64 = c.client().query_one(&stmt, params).await?.get(0);
    if counted <= EXACT_UP_TO {
        return Ok(Total {
            n: counted,
            exact: true,
        });
    }
    // An EXPLAIN is planned when it runs, with these parameters' values.
    let stmt = c.prepared(estimate).await?;
    let plan: serde_json::Value = c.client().query_one(&stmt, params).await?.get(0);
    Ok(Total {
        n: planned_rows(&plan).max(counted),
        exact: false,
    })
}

/// The top node's row estimate in an `EXPLAIN (FORMAT JSON)` answer, rounded to three
/// significant figures: a figure only as precise as it is.
fn planned_rows(plan: &serde_json::Value) -> i64 {
    let rows = plan[0]["Plan"]["Plan Rows"].as_f64().unwrap_or(0.0);
    if rows < 1000.0 {
        return rows.round() as i64;
    }
    let scale = 10f64.powi(rows.log10().floor() as i32 - 2);
    ((rows / scale).round() * scale) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sum_is_exact_only_when_every_region_counted_exactly() {
        let exact = Total { n: 10, exact: true };
        let about = Total {
            n: 5000,
            exact: false,
        };
        assert_eq!(Total::sum([exact, exact]), Total { n: 20, exact: true });
        assert_eq!(
            Total::sum([exact, about]),
            Total {
                n: 5010,
                exact: false
            }
        );
        assert_eq!(Total::sum([]), Total::NONE);
    }

    #[test]
    fn an_estimate_keeps_three_significant_figures() {
        let plan = |rows: f64| serde_json::json!([{"Plan": {"Plan Rows": rows}}]);
        assert_eq!(planned_rows(&plan(412.4)), 412);
        assert_eq!(planned_rows(&plan(123_456.0)), 123_000);
        assert_eq!(planned_rows(&plan(1_000_040.0)), 1_000_000);
        assert_eq!(planned_rows(&serde_json::json!({})), 0);
    }
}
