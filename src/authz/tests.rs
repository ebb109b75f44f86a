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
            a.allowed(user, region, kind, action.parse().unwrap(), n)
                .await,
            expected,
            "{user} {action} {kind} in {region}"
        );
        // The cached answer is the same answer.
        assert_eq!(
            a.allowed(user, region, kind, action.parse().unwrap(), n)
                .await,
            expected
        );
    }
}

#[tokio::test]
async fn an_own_object_rule_allows_the_owner_only() {
    let a = authz().await;
    assert!(
        a.allowed(
            "dr.maseru",
            "maseru",
            "draft_note",
            crate::authz::Action::Update,
            Relation::Own
        )
        .await
    );
    assert!(
        !a.allowed(
            "dr.maseru",
            "maseru",
            "draft_note",
            crate::authz::Action::Update,
            Relation::None
        )
        .await
    );
    assert!(
        !a.allowed(
            "nurse.quthing",
            "quthing",
            "draft_note",
            crate::authz::Action::Read,
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

#[test]
fn users_and_roles_get_prefixes_that_come_off_again() {
    assert_eq!(names::user("nurse.quthing"), "user:nurse.quthing");
    assert_eq!(names::role("nurse"), "role:nurse");
    assert_eq!(names::bare_user(&names::user("planner")), Some("planner"));
    assert_eq!(names::bare_role(&names::role("planner")), Some("planner"));
    // A user is never taken for a role, nor a bare name for either.
    assert_eq!(names::bare_role(&names::user("system_admin")), None);
    assert_eq!(names::bare_user(&names::role("system_admin")), None);
    assert_eq!(names::bare_role("system_admin"), None);
    assert_ne!(names::user("system_admin"), names::role("system_admin"));
}

#[tokio::test]
async fn a_user_named_like_a_role_gets_nothing_but_its_grants() {
    use super::policy::ROLES;
    let mut grants: Vec<[&str; 3]> = vec![["admin", "system_admin", "*"]];
    // Every role's name as a user, holding only nurse in quthing.
    grants.extend(ROLES.iter().map(|r| [*r, "nurse", "quthing"]));
    let a = Authz::in_memory(DEFAULT_POLICY, &grants).await;
    let n = Relation::None;
    for name in ROLES {
        assert!(
            a.allowed(name, "quthing", "patient", crate::authz::Action::Read, n)
                .await,
            "{name}"
        );
        for (region, kind, action) in [
            ("maseru", "patient", "read"),
            ("quthing", "patient", "delete"),
            ("quthing", "user", "admin"),
            ("*", "policy", "admin"),
            ("*", "patient", "read"),
            ("leribe", "query", "run"),
        ] {
            assert!(
                !a.allowed(name, region, kind, action.parse().unwrap(), n)
                    .await,
                "a user named {name} may {action} {kind} in {region}"
            );
        }
        assert_eq!(
            a.grants(name).await,
            vec![Grant {
                role: "nurse".into(),
                region: "quthing".into()
            }]
        );
        assert_eq!(a.roles_in(name, "quthing").await, "nurse");
        assert_eq!(a.roles_in(name, "maseru").await, "");
    }
}

#[tokio::test]
async fn the_audit_roles_of_a_user_named_planner_name_the_role() {
    let a = authz().await;
    assert_eq!(a.roles_in("planner", "maseru").await, "planner");
    assert_eq!(a.roles_in("planner", "*").await, "planner");
}

#[tokio::test]
async fn policy_lines_and_grants_speak_bare_role_names() {
    let a = authz().await;
    let lines = a.policy_lines().await;
    assert_eq!(lines.len(), DEFAULT_POLICY.len());
    for &[role, kind, action, cond] in DEFAULT_POLICY {
        assert!(
            lines.contains(&[role, kind, action, cond].map(String::from)),
            "{role} {kind} {action} {cond}"
        );
    }
    let nurse = Grant {
        role: "nurse".into(),
        region: "maseru".into(),
    };
    assert!(a.change_grant(true, "clerk.maseru", &nurse).await.unwrap());
    assert!(!a.change_grant(true, "clerk.maseru", &nurse).await.unwrap());
    assert!(a.grants("clerk.maseru").await.contains(&nurse));
    assert!(a.change_grant(false, "clerk.maseru", &nurse).await.unwrap());
    assert!(!a.change_grant(false, "clerk.maseru", &nurse).await.unwrap());
    let line = ["nurse", "patient_audit", "read", "any"];
    assert!(a.change_policy(true, line).await.unwrap());
    assert!(!a.change_policy(true, line).await.unwrap());
    assert!(
        a.allowed(
            "nurse.quthing",
            "quthing",
            "patient_audit",
            crate::authz::Action::Read,
            Relation::None
        )
        .await
    );
}

#[tokio::test]
async fn a_panic_while_the_decision_cache_is_held_leaves_later_decisions_working() {
    let a = std::sync::Arc::new(authz().await);
    let held = a.clone();
    let panicked = std::thread::spawn(move || {
        let _cache = held.decisions.write();
        let _roles = held.roles.write();
        panic!("a bug while the caches are held");
    })
    .join();
    assert!(panicked.is_err());
    // std's RwLock would now be poisoned, and every request's `expect` would panic too.
    let n = Relation::None;
    assert!(
        a.allowed(
            "nurse.quthing",
            "quthing",
            "patient",
            crate::authz::Action::Read,
            n
        )
        .await
    );
    assert!(
        !a.allowed(
            "nurse.quthing",
            "maseru",
            "patient",
            crate::authz::Action::Read,
            n
        )
        .await
    );
    a.forget();
    assert!(
        a.allowed(
            "nurse.quthing",
            "quthing",
            "patient",
            crate::authz::Action::Read,
            n
        )
        .await
    );
}

#[tokio::test]
async fn every_reload_of_the_policy_tells_the_holders_of_its_changes() {
    let a = authz().await;
    let mut changes = a.changes();
    assert!(!changes.has_changed().unwrap());
    a.reload().await.unwrap();
    assert!(changes.has_changed().unwrap());
    changes.mark_unchanged();
    a.reload().await.unwrap();
    assert!(changes.has_changed().unwrap());
}
