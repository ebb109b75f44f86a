//! The rule files the project ships must build against the Lesotho catalog and place every
//! district, so a bad edit to them fails the tests before it reaches a deployment.

use super::*;
use crate::routing::Record;

const SHIPPED: [(&str, &str); 2] = [
    (
        "routing-rules/10-patients.toml",
        include_str!("../../../routing-rules/10-patients.toml"),
    ),
    (
        "routing-rules/20-clinical.toml",
        include_str!("../../../routing-rules/20-clinical.toml"),
    ),
];

#[test]
fn the_shipped_rules_build_and_place_all_ten_districts_in_their_region() {
    let rules = build(&SHIPPED).unwrap_or_else(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("shipped rules do not build:\n{}", lines.join("\n"))
    });
    let mut placed = 0;
    for region in &lesotho().regions {
        for district in &region.districts {
            let record = Record::new("patient").with("district", district.as_str());
            let routed = rules.route(&record, &no_parents).expect(district);
            assert_eq!(routed.region, region.name, "{district}");
            placed += 1;
        }
    }
    assert_eq!(placed, 10);
}

#[test]
fn the_shipped_rules_send_clinical_records_to_their_patients_region() {
    let rules = build(&SHIPPED).expect("builds");
    for entity in ["observation", "appointment"] {
        let record = Record::new(entity).with("patient_id", "P-mafeteng-7");
        assert_eq!(rules.route(&record, &resolve).unwrap().region, "mafeteng");
    }
    let entities: Vec<&str> = rules.entities().collect();
    assert_eq!(entities, ["appointment", "observation", "patient"]);
}
