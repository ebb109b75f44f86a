//! `HMIS_` environment overrides. Every setting is reachable: the typed settings are turned
//! back into a TOML tree (defaults filled in), and each leaf `a.b_c` is looked up as
//! `HMIS_<PREFIX>_A_B_C`. Generating the names from the tree means a new setting can never
//! be forgotten here.

use std::collections::BTreeMap;

/// Applies overrides found in `vars` to `tree`, and returns the variable names used.
/// A value is read as a TOML scalar when it parses as one (`8`, `true`), else as a string.
pub fn apply(tree: &mut toml::Table, prefix: &str, vars: &BTreeMap<String, String>) -> Vec<String> {
    let mut used = Vec::new();
    walk(tree, prefix, vars, &mut used);
    used
}

fn walk(
    table: &mut toml::Table,
    prefix: &str,
    vars: &BTreeMap<String, String>,
    used: &mut Vec<String>,
) {
    for (key, value) in table.iter_mut() {
        let name = format!("{prefix}_{}", key.to_uppercase().replace('-', "_"));
        if let toml::Value::Table(inner) = value {
            walk(inner, &name, vars, used);
        } else if let Some(raw) = vars.get(&name) {
            *value = parse_scalar(raw, value);
            used.push(name);
        }
    }
}

/// Keeps the override's type in line with the setting it replaces, so that `HMIS_X=8`
/// for a string setting stays the string "8".
fn parse_scalar(raw: &str, current: &toml::Value) -> toml::Value {
    let parsed = format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"));
    match (parsed, current) {
        (Some(v), toml::Value::String(_)) if !v.is_str() => toml::Value::String(raw.to_owned()),
        (Some(v), _) => v,
        (None, _) => toml::Value::String(raw.to_owned()),
    }
}

/// The process environment's `HMIS_` variables.
pub fn hmis_vars() -> BTreeMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("HMIS_"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_setting_is_overridden_with_its_type_kept() {
        let mut tree: toml::Table =
            toml::from_str("[server]\nlisten = \"a\"\nmax_body_bytes = 1\n[central]\nurl = \"u\"")
                .unwrap();
        let vars = BTreeMap::from([
            ("HMIS_SERVER_MAX_BODY_BYTES".to_owned(), "2048".to_owned()),
            ("HMIS_CENTRAL_URL".to_owned(), "8".to_owned()),
        ]);
        let used = apply(&mut tree, "HMIS", &vars);
        assert_eq!(used.len(), 2);
        assert_eq!(tree["server"]["max_body_bytes"].as_integer(), Some(2048));
        assert_eq!(tree["central"]["url"].as_str(), Some("8"));
        assert_eq!(tree["server"]["listen"].as_str(), Some("a"));
    }
}
