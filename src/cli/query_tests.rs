//! The table printer of `hmis query`: alignment, and memory bounded by its sample.
use super::*;

#[test]
fn a_table_aligns_columns_and_right_aligns_numbers() {
    let header = ["region".to_owned(), "n".to_owned(), "district".to_owned()];
    let rows = vec![
        vec![json!("quthing"), json!(2), json!("Quthing")],
        vec![json!("maseru"), json!(12), Value::Null],
    ];
    let mut out = Vec::new();
    write_table(&mut out, &header, &rows).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "region   n   district\n-------  --  --------\nquthing   2  Quthing\nmaseru   12\n"
    );
}

#[test]
fn a_table_holds_only_the_rows_it_is_sized_by_and_prints_every_row() {
    let mut printer = Printer::new(OutputFormat::Table, Vec::new());
    let mut most = 0;
    for n in 0..5 * TABLE_SAMPLE {
        let line = format!(r#"{{"region":"quthing","n":{n}}}"#);
        let Ordered(fields) = serde_json::from_str(&line).unwrap();
        printer.row(line.as_bytes(), fields).unwrap();
        most = most.max(printer.table.len());
    }
    assert!(most <= TABLE_SAMPLE, "{most} rows held at once");
    let layout = printer.layout.as_ref().expect("the table has started");
    let mut out = Vec::new();
    layout
        .line(&mut out, &cells(&[json!("maseru"), json!(12345)]))
        .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "maseru   12345\n");
    let printed = String::from_utf8(printer.finish().unwrap()).unwrap();
    assert_eq!(printed.lines().count(), 2 + 5 * TABLE_SAMPLE);
    assert_eq!(printed.lines().nth(2), Some("quthing    0"));
    assert_eq!(printed.lines().last(), Some("quthing  4999"));
}

#[test]
fn a_json_line_keeps_its_key_order() {
    let Ordered(fields) = serde_json::from_str(r#"{"region":"a","z":1,"b":2}"#).unwrap();
    let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["region", "z", "b"]);
}

#[test]
fn a_failure_prints_its_reason_then_sqlstate_message_and_hint_when_given() {
    let refused = serde_json::json!({"region": "maseru", "reason": "refused", "sqlstate": "42703",
        "message": "column \"x\" does not exist", "hint": "Perhaps y."});
    assert_eq!(
        failure_line(&refused),
        "refused (42703): column \"x\" does not exist; hint: Perhaps y."
    );
    assert_eq!(failure_line(&serde_json::json!({"reason": "down"})), "down");
}

#[test]
fn a_token_that_begins_with_a_hyphen_is_read_as_the_token() {
    use clap::Parser;
    let argv = ["hmis", "query", "SELECT 1", "--token", "-3xYz-q"];
    let cli = crate::cli::Cli::try_parse_from(argv)
        .map_err(|e| e.to_string())
        .unwrap();
    let crate::cli::Command::Query(args) = cli.command else {
        panic!("not parsed as a query");
    };
    assert_eq!(args.token.as_deref(), Some("-3xYz-q"));
}
