//! The gate in front of planners' SQL, before any region sees it: exactly one read-only
//! query (`SELECT`, `WITH ... SELECT`, `VALUES`, `TABLE`), without `SELECT ... INTO`, row
//! locks, data-modifying CTEs, parameters, or calls to side-effecting functions.
//!
//! This is not what keeps data safe: the regions run the query in a `READ ONLY`
//! transaction as a role that can read the `planning` views and nothing else. The gate
//! answers early and clearly (422 naming `sql`, with the reason), keeps regions from
//! being asked to run what can only fail, and stops the calls a read-only transaction
//! allows but a planner must not make: `set_config('role', ...)` would end the
//! `SET LOCAL ROLE` that confines the query, `pg_sleep` holds a connection, advisory locks
//! and `pg_notify` reach other sessions.
//!
//! Functions are found in the token stream rather than the syntax tree: any name followed
//! by `(` counts, wherever it stands (select list, `FROM`, `ORDER BY`, a type's default),
//! so no corner of the grammar can hide a call.

use sqlparser::ast::{Query, Select, SetExpr, Statement, Value, ValueWithSpan, Visit, Visitor};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};
use std::ops::ControlFlow;

/// Longer statements are refused: no planning question needs more, and the text is kept in
/// the audit trail.
pub const MAX_SQL_CHARS: usize = 20_000;

/// Functions refused by name, with the reason given to the planner.
const DENIED: &[(&str, &str)] = &[
    ("nextval", "changes a sequence"),
    ("setval", "changes a sequence"),
    ("currval", "reads session state of sequences"),
    ("lastval", "reads session state of sequences"),
    ("pg_notify", "sends notifications to other sessions"),
    (
        "set_config",
        "changes settings, including the role the query runs as",
    ),
    ("pg_terminate_backend", "ends other sessions"),
    ("pg_cancel_backend", "cancels other sessions' queries"),
    ("pg_reload_conf", "reloads the server configuration"),
    ("pg_rotate_logfile", "rotates the server log"),
    ("pg_stat_file", "reads the server's files"),
    ("pg_current_xact_id", "assigns a transaction ID"),
    ("pg_current_xact_id_if_assigned", "reads transaction IDs"),
    ("ts_stat", "runs SQL given as text"),
    ("ts_rewrite", "runs SQL given as text"),
];

/// Families refused by prefix.
const DENIED_PREFIXES: &[(&str, &str)] = &[
    (
        "pg_sleep",
        "holds a connection that other planners and clinics need",
    ),
    ("pg_advisory", "takes locks other sessions wait on"),
    ("pg_try_advisory", "takes locks other sessions wait on"),
    ("pg_read_", "reads the server's files"),
    ("pg_ls_", "lists the server's directories"),
    ("pg_stat_reset", "resets statistics"),
    ("lo_", "reads or writes large objects"),
    ("dblink", "connects to other databases"),
    ("txid_", "assigns or reads transaction IDs"),
];

/// `query_to_xml`, `table_to_xml`, `cursor_to_xmlschema`, ...: they run SQL given as text,
/// out of the gate's sight.
const DENIED_INFIX: &str = "_to_xml";

/// Why `sql` is refused, or `Ok` when it may go to the regions.
pub fn check(sql: &str) -> Result<(), String> {
    if sql.trim().is_empty() {
        return Err("is empty: send one SELECT query".into());
    }
    let chars = sql.chars().count();
    if chars > MAX_SQL_CHARS {
        return Err(format!(
            "is {chars} characters long; at most {MAX_SQL_CHARS}"
        ));
    }
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize()
        .map_err(|e| format!("cannot be read: {e}"))?;
    check_tokens(&tokens)?;
    let statements = Parser::new(&dialect)
        .with_tokens(tokens)
        .parse_statements()
        .map_err(|e| format!("cannot be parsed: {e}"))?;
    let [statement] = statements.as_slice() else {
        return Err(format!(
            "holds {} statements; send exactly one query",
            statements.len()
        ));
    };
    let Statement::Query(query) = statement else {
        return Err(format!(
            "is a {} statement; only SELECT, WITH ... SELECT and VALUES queries may run",
            first_word(statement)
        ));
    };
    match query.visit(&mut Shape) {
        ControlFlow::Break(reason) => Err(reason),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// Refuses calls of denied functions and identifiers written with Unicode escapes
/// (`U&"..."`), which could spell a denied name in a way this scan would not see.
fn check_tokens(tokens: &[Token]) -> Result<(), String> {
    let mut meaningful = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .peekable();
    let mut previous: Option<&Token> = None;
    while let Some(token) = meaningful.next() {
        if let Token::Word(word) = token {
            let is_call = matches!(meaningful.peek(), Some(Token::LParen));
            let name = word.value.to_lowercase();
            if is_call && let Some(why) = denied(&name) {
                return Err(format!("calls {name}(), which {why}"));
            }
            let unicode_escape =
                matches!(previous, Some(Token::Ampersand)) && word.quote_style == Some('"');
            if unicode_escape {
                return Err(
                    "uses a Unicode-escaped identifier (U&\"...\"); write names plainly".into(),
                );
            }
        }
        previous = Some(token);
    }
    Ok(())
}

/// The reason a function name is refused, if it is.
pub fn denied(name: &str) -> Option<&'static str> {
    if let Some((_, why)) = DENIED.iter().find(|(n, _)| *n == name) {
        return Some(why);
    }
    if let Some((_, why)) = DENIED_PREFIXES.iter().find(|(p, _)| name.starts_with(p)) {
        return Some(why);
    }
    name.contains(DENIED_INFIX)
        .then_some("runs SQL given as text, out of this check's sight")
}

fn first_word(statement: &Statement) -> String {
    let text = statement.to_string();
    text.split_whitespace().next().unwrap_or("").to_uppercase()
}

/// Walks every query, subquery and CTE of the statement.
struct Shape;

impl Visitor for Shape {
    type Break = String;

    /// The top statement is the query itself; any statement met inside it is a
    /// data-modifying CTE (`WITH x AS (DELETE ... RETURNING ...)`).
    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<String> {
        ControlFlow::Break(format!(
            "holds a {} statement inside the query; only reads may run",
            first_word(statement)
        ))
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<String> {
        if !query.locks.is_empty() {
            return ControlFlow::Break(
                "locks rows (FOR UPDATE / FOR SHARE); planners' queries only read".into(),
            );
        }
        match &*query.body {
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => {
                self.pre_visit_statement(s)
            }
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<String> {
        if select.into.is_some() {
            return ControlFlow::Break(
                "is SELECT ... INTO, which creates a table; drop the INTO".into(),
            );
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_value(&mut self, value: &ValueWithSpan) -> ControlFlow<String> {
        if matches!(value.value, Value::Placeholder(_)) {
            return ControlFlow::Break(
                "has a parameter ($1 or ?); write the values into the query".into(),
            );
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
