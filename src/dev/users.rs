//! The demo users of `hmis dev`, all with the password `demo`. Created only by `hmis dev`:
//! `hmis serve` never makes a user on its own.

use crate::authz::store;

pub const DEMO_PASSWORD: &str = "demo";

/// (username, role, region)
pub const DEMO_USERS: &[(&str, &str, &str)] = &[
    ("admin", "system_admin", "*"),
    ("planner", "planner", "*"),
    ("nurse.quthing", "nurse", "quthing"),
    ("nurse.maseru", "nurse", "maseru"),
    ("nurse.mafeteng", "nurse", "mafeteng"),
    ("clinician.maseru", "clinician", "maseru"),
    ("admin.quthing", "regional_admin", "quthing"),
];

/// Creates the demo users that do not exist yet, with their roles.
pub async fn ensure(central: &sqlx::PgPool) -> anyhow::Result<()> {
    for (name, role, region) in DEMO_USERS {
        if crate::auth::users::id_of(central, name).await?.is_none() {
            crate::auth::users::create(central, name, DEMO_PASSWORD, name).await?;
        }
        store::grant(central, true, name, role, region).await?;
    }
    Ok(())
}
