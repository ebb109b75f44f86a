//! The kinds of record the rules can route, with the fields a rule may test and the parent a
//! record follows. Rule validation checks every entity, field and `follow` against this table,
//! so a typo in a rule file is caught at load instead of silently never matching.
//!
//! To add a kind: append an [`EntityKind`] to [`ENTITIES`]. Nothing else needs to change.

/// One kind of record that rules can place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityKind {
    /// The name rules use in `entity = "..."`.
    pub name: &'static str,
    /// Fields a `when` condition may test.
    pub fields: &'static [&'static str],
    /// The record this one must live next to, if any.
    pub parent: Option<ParentLink>,
}

/// How a child record names its parent: the parent's kind and the child field holding its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParentLink {
    pub entity: &'static str,
    pub field: &'static str,
}

/// Every kind of record known to the router.
pub static ENTITIES: &[EntityKind] = &[
    EntityKind {
        name: "patient",
        fields: &["district", "village", "facility", "national_id", "sex"],
        parent: None,
    },
    EntityKind {
        name: "observation",
        fields: &["patient_id", "code"],
        parent: Some(ParentLink {
            entity: "patient",
            field: "patient_id",
        }),
    },
    EntityKind {
        name: "appointment",
        fields: &["patient_id"],
        parent: Some(ParentLink {
            entity: "patient",
            field: "patient_id",
        }),
    },
];

/// The entity kind called `name`, if there is one.
pub fn entity(name: &str) -> Option<&'static EntityKind> {
    ENTITIES.iter().find(|e| e.name == name)
}

/// All entity names, sorted, comma-separated: used in "(known: ...)" parts of messages.
pub fn known_names() -> String {
    let mut names: Vec<&str> = ENTITIES.iter().map(|e| e.name).collect();
    names.sort_unstable();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parent_is_itself_a_known_entity_and_the_link_field_is_declared() {
        for kind in ENTITIES {
            if let Some(link) = kind.parent {
                assert!(entity(link.entity).is_some(), "{}", kind.name);
                assert!(kind.fields.contains(&link.field), "{}", kind.name);
            }
        }
    }

    #[test]
    fn entity_names_are_unique() {
        for kind in ENTITIES {
            let count = ENTITIES.iter().filter(|e| e.name == kind.name).count();
            assert_eq!(count, 1, "{}", kind.name);
        }
    }

    #[test]
    fn known_names_are_listed_alphabetically() {
        assert_eq!(known_names(), "appointment, observation, patient");
    }
}
