//! The shipped policy, evaluated by casbin in memory: the same model and lines as in
//! production, without a database.

use super::policy::DEFAULT_POLICY;
use super::*;

async fn authz() -> Authz {
    Authz::in_memory(
        DEFAULT_POLICY,
        &[
            ["nurse.quthing", "nurse", "quthing"],
            ["planner", "planner", "*"],
            ["admin.quthing", "regional_admin", "quthing"],
            ["admin", "system_admin", "*"],
            ["clerk.maseru", "records_clerk", "maseru"],
            ["dr.maseru", "clinician", "maseru"],
        ],
    )
    .await
}

#[tokio::test]
async fn the_shipped_roles_allow_exactly_their_regions_and_actions() {
    let a = authz().await;
    let n = Relation::None;
    let table = [
        ("nurse.quthing", "quthing", "patient", "read", true),
        ("nurse.quthing", "quthing", "patient", "update", true),
        ("nurse.quthing", "quthing", "patient", "delete", false),
        ("nurse.quthing", "maseru", "patient", "read", false),
        ("nurse.quthing", "quthing", "patient_audit", "read", false),
        ("planner", "maseru", "patient", "read", true),
        ("planner", "leribe", "patient", "update", false),
        ("planner", "leribe", "patient_identity", "read", false),
        ("admin.quthing", "quthing", "patient_audit", "read", true),
        ("admin.quthing", "quthing", "user", "admin", true),
        ("admin.quthing", "maseru", "patient", "read", false),
        ("admin", "mafeteng", "patient", "delete", true),
        ("admin", "*", "policy", "admin", true),
        ("admin.quthing", "*", "policy", "admin", false),
        ("clerk.maseru", "maseru", "patient", "delete", true),
        ("nobody", "quthing", "patient", "read", false),
    ];
    for (user, region, kind, action, expected) in table {
        assert_eq!(
            a.allowed(user, region, kind, action, n).await,
            expected,
            "{user} {action} {kind} in {region}"
        );
        // The cached answer is the same answer.
        assert_eq!(a.allowed(user, region, kind, action, n).await, expected);
    }
}

#[tokio::test]
async fn an_own_object_rule_allows_the_owner_only() {
    let a = authz().await;
    assert!(
        a.allowed("dr.maseru", "maseru", "draft_note", "update", Relation::Own)
            .await
    );
    assert!(
        !a.allowed(
            "dr.maseru",
            "maseru",
            "draft_note",
            "update",
            Relation::None
        )
        .await
    );
    assert!(
        !a.allowed(
            "nurse.quthing",
            "quthing",
            "draft_note",
            "read",
            Relation::Own
        )
        .await
    );
}

#[tokio::test]
async fn grants_and_roles_in_a_region_include_every_region_roles() {
    let a = authz().await;
    assert_eq!(
        a.grants("planner").await,
        vec![Grant {
            role: "planner".into(),
            region: "*".into()
        }]
    );
    assert_eq!(a.roles_in("nurse.quthing", "quthing").await, "nurse");
    assert_eq!(a.roles_in("admin", "quthing").await, "system_admin");
    assert_eq!(a.roles_in("nurse.quthing", "maseru").await, "");
}
