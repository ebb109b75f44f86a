//! The servers.json layout: grouped by region, the roles `hmis migrate` makes, no password.
use super::*;

fn at(host: &str, port: u16, database: &str) -> Address {
    Address {
        host: host.to_owned(),
        port,
        database: database.to_owned(),
        ssl_mode: "require".to_owned(),
    }
}

fn region(name: &str, shown: &str, port: u16) -> Region {
    Region {
        name: name.to_owned(),
        display_name: shown.to_owned(),
        address: at("db.example", port, &format!("hmis_{name}")),
    }
}

fn two_regions() -> ServersJson {
    let regions = [
        region("quthing", "Quthing", 5433),
        region("maseru", "Maseru", 5434),
    ];
    servers_json(
        &regions,
        &at("central.example", 5435, "hmis_central"),
        "/pgpass",
    )
    .unwrap()
}

#[test]
fn each_region_gets_its_admin_and_read_only_server_in_its_group_then_central() {
    let doc = two_regions();
    let rows: Vec<(u32, &str, &str, u16, &str, &str)> = doc
        .servers
        .iter()
        .map(|(k, s)| {
            let (g, u, d, h) = (&s.group, &s.username, &s.maintenance_db, &s.host);
            (*k, g.as_str(), u.as_str(), s.port, d.as_str(), h.as_str())
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                1,
                "Quthing",
                "quthing_admin",
                5433,
                "hmis_quthing",
                "db.example"
            ),
            (
                2,
                "Quthing",
                "quthing_readonly",
                5433,
                "hmis_quthing",
                "db.example"
            ),
            (
                3,
                "Maseru",
                "maseru_admin",
                5434,
                "hmis_maseru",
                "db.example"
            ),
            (
                4,
                "Maseru",
                "maseru_readonly",
                5434,
                "hmis_maseru",
                "db.example"
            ),
            (
                5,
                "Central",
                "planner",
                5435,
                "hmis_central",
                "central.example"
            ),
        ]
    );
    let names: Vec<&str> = doc.servers.values().map(|s| s.name.as_str()).collect();
    assert_eq!(names[1], "Quthing read-only (quthing_readonly)");
}

#[test]
fn every_server_names_the_passfile_and_the_sslmode_and_carries_no_password() {
    let text = serde_json::to_string(&two_regions()).unwrap();
    assert!(!text.to_lowercase().contains("password"), "{text}");
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    for server in value["Servers"].as_object().unwrap().values() {
        assert_eq!(server["PassFile"], "/pgpass");
        assert_eq!(server["SSLMode"], "require");
        assert_eq!(server["ConnectionParameters"]["passfile"], "/pgpass");
        assert_eq!(server["ConnectionParameters"]["sslmode"], "require");
    }
}

#[test]
fn servers_are_numbered_so_that_ten_follows_nine() {
    let regions: Vec<Region> = (0..5)
        .map(|i| region(&format!("r{i}"), &format!("R{i}"), 5432))
        .collect();
    let doc = servers_json(&regions, &at("c", 5432, "c"), "/pgpass").unwrap();
    let text = serde_json::to_string(&doc).unwrap();
    let (nine, ten) = (text.find("\"9\":").unwrap(), text.find("\"10\":").unwrap());
    assert!(nine < ten, "{text}");
    assert_eq!(doc.servers.len(), 11);
}

#[test]
fn a_region_name_no_role_could_have_is_refused() {
    let bad = [region("Qu thing", "Quthing", 5432)];
    let err = servers_json(&bad, &at("c", 5432, "c"), "/pgpass").unwrap_err();
    assert!(err.contains("Qu thing"), "{err}");
}
