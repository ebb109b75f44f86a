//! `hmis users` and `hmis policy`: managing people and permissions from the operator's
//! shell, straight against the central database (so the first admin can be made before any
//! hmis serves). Every change is announced to running processes, which apply it at once.

use crate::auth::users;
use crate::authz::store;
use crate::config::Settings;
use crate::domain::notify::Note;
use clap::Subcommand;
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user. The password is read from the first line of standard input.
    Add {
        username: String,
        #[arg(long, default_value = "")]
        display_name: String,
        /// Give a role at once (with --region).
        #[arg(long, requires = "region")]
        role: Option<String>,
        /// The region of --role, or "*" for every region.
        #[arg(long)]
        region: Option<String>,
    },
    /// List users.
    List,
    /// Disable a user and end all their sessions, in every hmis process.
    Disable { username: String },
    /// Enable a disabled user again.
    Enable { username: String },
    /// Give a user a role in a region ("*": every region).
    Grant {
        username: String,
        role: String,
        region: String,
    },
    /// Take a role away.
    Revoke {
        username: String,
        role: String,
        region: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Every policy and grant line.
    List,
    /// Allow a role an action on an object kind: ROLE KIND ACTION [any|own].
    Add {
        role: String,
        kind: String,
        action: String,
        #[arg(default_value = "any")]
        cond: String,
    },
    /// Remove a policy line.
    Remove {
        role: String,
        kind: String,
        action: String,
        #[arg(default_value = "any")]
        cond: String,
    },
}

async fn central(settings: &Settings) -> anyhow::Result<sqlx::PgPool> {
    super::connect::central(settings).await
}

fn regions(settings: &Settings) -> Vec<String> {
    settings.regions.iter().map(|r| r.name.clone()).collect()
}

pub async fn users(cmd: UsersCommand, settings: &Settings) -> anyhow::Result<ExitCode> {
    let pool = central(settings).await?;
    match cmd {
        UsersCommand::Add {
            username,
            display_name,
            role,
            region,
        } => {
            if let (Some(role), Some(region)) = (&role, &region) {
                store::check_grant(role, region, &regions(settings)).map_err(anyhow::Error::msg)?;
            }
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            // The user and their role together, or neither.
            let mut tx = pool.begin().await?;
            users::create(&mut *tx, &username, password, &display_name).await?;
            if let (Some(role), Some(region)) = (role, region) {
                store::grant_line(&mut *tx, true, &username, &role, &region).await?;
            }
            tx.commit().await?;
            crate::bus::send(&pool, &Note::Policy).await?;
            println!("created {username}");
        }
        UsersCommand::List => {
            let grants = store::lines(&pool).await?;
            for (name, display, disabled) in users::list(&pool).await? {
                let roles: Vec<String> = grants
                    .iter()
                    .filter(|g| g.0 == "g" && g.1 == name)
                    .map(|g| format!("{} in {}", g.2, g.3))
                    .collect();
                let state = if disabled { " (disabled)" } else { "" };
                println!("{name}{state}  {display}  [{}]", roles.join(", "));
            }
        }
        UsersCommand::Disable { username } => {
            let id = users::set_disabled(&pool, &username, true)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no user {username}"))?;
            sqlx::query(
                "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
            )
            .bind(id)
            .execute(&pool)
            .await?;
            crate::bus::send(&pool, &Note::User { user_id: id }).await?;
            println!("disabled {username}; their sessions are ended");
        }
        UsersCommand::Enable { username } => {
            users::set_disabled(&pool, &username, false)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no user {username}"))?;
            println!("enabled {username}; they may log in again");
        }
        UsersCommand::Grant {
            username,
            role,
            region,
        }
        | UsersCommand::Revoke {
            username,
            role,
            region,
        } if users::id_of(&pool, &username).await?.is_none() => {
            anyhow::bail!("no user {username} (role {role} in {region} not changed)")
        }
        UsersCommand::Grant {
            username,
            role,
            region,
        } => {
            store::check_grant(&role, &region, &regions(settings)).map_err(anyhow::Error::msg)?;
            let changed = store::grant(&pool, true, &username, &role, &region).await?;
            let already = if changed { "" } else { " already" };
            println!("{username} is{already} {role} in {region}");
        }
        UsersCommand::Revoke {
            username,
            role,
            region,
        } => {
            if !store::grant(&pool, false, &username, &role, &region).await? {
                anyhow::bail!("{username} is not {role} in {region}: nothing changed");
            }
            println!("{username} is no longer {role} in {region}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn policy(cmd: PolicyCommand, settings: &Settings) -> anyhow::Result<ExitCode> {
    let pool = central(settings).await?;
    match cmd {
        PolicyCommand::List => {
            for (ptype, a, b, c, d) in store::lines(&pool).await? {
                println!(
                    "{ptype}, {a}, {b}, {c}{}",
                    if d.is_empty() {
                        String::new()
                    } else {
                        format!(", {d}")
                    }
                );
            }
        }
        PolicyCommand::Add {
            role,
            kind,
            action,
            cond,
        }
        | PolicyCommand::Remove {
            role,
            kind,
            action,
            cond,
        } if !["any", "own"].contains(&cond.as_str()) => {
            anyhow::bail!("condition \"{cond}\" for {role} {kind} {action}: use any or own")
        }
        PolicyCommand::Add {
            role,
            kind,
            action,
            cond,
        } => {
            store::check_role(&role).map_err(anyhow::Error::msg)?;
            if !store::policy(&pool, true, [&role, &kind, &action, &cond]).await? {
                println!("the policy has {role} {kind} {action} {cond} already");
            }
        }
        PolicyCommand::Remove {
            role,
            kind,
            action,
            cond,
        } => {
            if !store::policy(&pool, false, [&role, &kind, &action, &cond]).await? {
                anyhow::bail!("the policy has no line {role} {kind} {action} {cond}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
