//! Rebuilds when a migration is added: `sqlx::migrate!` embeds `migrations/` at compile
//! time, and Cargo would not otherwise notice a new file (the build script sqlx documents).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
