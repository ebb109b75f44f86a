//! Authorization: casbin, with regions as casbin domains (see `model.conf`), policies in
//! the central database, and a decision cache in front.
//!
//! casbin evaluates its matcher once per policy line, which costs far more than a request
//! may; but the questions a process is asked repeat (a nurse reads patients of her region
//! all day), so decisions are cached by their exact question and the cache is emptied
//! whenever the policy changes. The enforcer is reloaded from the database when any
//! process changes the policy (a NOTIFY, see `crate::bus`).
//!
//! Users and roles are kept apart inside casbin (`names`): callers pass bare user and role
//! names, and get bare names back.

pub mod names;
pub mod policy;
pub mod store;

use casbin::{CoreApi, DefaultModel, Enforcer, MgmtApi, RbacApi};
use parking_lot::RwLock;
use std::collections::HashMap;

pub use policy::{Action, kinds};

/// Whether the subject owns or takes part in the object (for "own" policy lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    None,
    Own,
}

impl Relation {
    fn as_str(self) -> &'static str {
        match self {
            Relation::None => "-",
            Relation::Own => "own",
        }
    }
}

/// A role held in a region ("*" for every region).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Grant {
    pub role: String,
    pub region: String,
}

pub struct Authz {
    enforcer: tokio::sync::RwLock<Enforcer>,
    decisions: RwLock<HashMap<String, bool>>,
    /// `roles_in` answers, asked on every audited request.
    roles: RwLock<HashMap<(String, String), String>>,
    central: Option<sqlx::PgPool>,
    /// Marked changed at every policy change applied here, for holders of long-lived
    /// authorizations (a socket's subscriptions) to check them again.
    changed: tokio::sync::watch::Sender<()>,
}

/// Past this many cached decisions the cache starts over, so memory stays bounded.
const MAX_DECISIONS: usize = 100_000;

async fn model() -> casbin::Result<DefaultModel> {
    DefaultModel::from_str(include_str!("model.conf")).await
}

impl Authz {
    /// Policies from the central database. If it cannot be reached, starts with no policy
    /// (everything denied) and logs it; the listener reloads once the database is back.
    pub async fn from_central(pool: sqlx::PgPool) -> Authz {
        let mut enforcer = Enforcer::new(model().await.expect("model.conf is valid"), ())
            .await
            .expect("an empty enforcer");
        match sqlx_adapter::SqlxAdapter::new_with_pool(pool.clone()).await {
            Ok(adapter) => {
                enforcer.set_adapter(adapter).await.ok();
                if let Err(e) = enforcer.load_policy().await {
                    tracing::error!(error = %e, "could not load policies; denying all until reload");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "central database unreachable; denying all until reload")
            }
        }
        Self::with(enforcer, Some(pool))
    }

    /// An in-memory policy (tests, `hmis rules`): `lines` are p lines, `grants` g lines.
    pub async fn in_memory(lines: &[[&str; 4]], grants: &[[&str; 3]]) -> Authz {
        let mut enforcer = Enforcer::new(model().await.expect("model.conf is valid"), ())
            .await
            .expect("an empty enforcer");
        for [role, obj, act, cond] in lines {
            enforcer
                .add_policy(policy_line([role, obj, act, cond]))
                .await
                .expect("policy");
        }
        for [user, role, region] in grants {
            enforcer
                .add_grouping_policy(grant_line(user, role, region))
                .await
                .expect("grant");
        }
        Self::with(enforcer, None)
    }

    fn with(enforcer: Enforcer, central: Option<sqlx::PgPool>) -> Authz {
        Authz {
            enforcer: tokio::sync::RwLock::new(enforcer),
            decisions: RwLock::default(),
            roles: RwLock::default(),
            central,
            changed: tokio::sync::watch::Sender::new(()),
        }
    }

    /// May `user` do `action` on an object of `kind` in `region`?
    pub async fn allowed(
        &self,
        user: &str,
        region: &str,
        kind: &str,
        action: Action,
        rel: Relation,
    ) -> bool {
        let action = action.as_str();
        let key = format!("{user}\0{region}\0{kind}\0{action}\0{}", rel.as_str());
        if let Some(&d) = self.decisions.read().get(&key) {
            return d;
        }
        let decision = self
            .enforcer
            .read()
            .await
            .enforce((&names::user(user), region, kind, action, rel.as_str()))
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "policy evaluation failed; denying");
                false
            });
        let mut cache = self.decisions.write();
        if cache.len() >= MAX_DECISIONS {
            cache.clear();
        }
        cache.insert(key, decision);
        decision
    }

    /// Reloads the policy from the central database and forgets every cached decision.
    pub async fn reload(&self) -> anyhow::Result<()> {
        if self.central.is_some() {
            self.enforcer.write().await.load_policy().await?;
        }
        self.forget();
        Ok(())
    }

    /// After lines were written straight to the central database (in a transaction of the
    /// caller's): applies them here at once and tells every other process.
    pub async fn changed(&self) -> anyhow::Result<()> {
        if let Some(pool) = &self.central {
            crate::bus::send(pool, &crate::domain::notify::Note::Policy).await?;
        }
        self.reload().await
    }

    /// The roles `user` holds, with their regions.
    pub async fn grants(&self, user: &str) -> Vec<Grant> {
        let enforcer = self.enforcer.read().await;
        let mut grants: Vec<Grant> = enforcer
            .get_filtered_grouping_policy(0, vec![names::user(user)])
            .into_iter()
            .filter(|g| g.len() >= 3)
            .filter_map(|g| {
                Some(Grant {
                    role: names::bare_role(&g[1])?.to_owned(),
                    region: g[2].clone(),
                })
            })
            .collect();
        grants.sort_by(|a, b| (&a.region, &a.role).cmp(&(&b.region, &b.role)));
        grants
    }

    /// The roles `user` holds in `region` (including every-region roles), for audit lines.
    pub async fn roles_in(&self, user: &str, region: &str) -> String {
        let key = (user.to_owned(), region.to_owned());
        if let Some(roles) = self.roles.read().get(&key) {
            return roles.clone();
        }
        let roles = self.compute_roles_in(user, region).await;
        let mut cache = self.roles.write();
        if cache.len() >= MAX_DECISIONS {
            cache.clear();
        }
        cache.insert(key, roles.clone());
        roles
    }

    async fn compute_roles_in(&self, user: &str, region: &str) -> String {
        let enforcer = self.enforcer.read().await;
        let user = names::user(user);
        let mut roles = enforcer.get_implicit_roles_for_user(&user, Some(region));
        roles.extend(enforcer.get_implicit_roles_for_user(&user, Some("*")));
        let mut roles: Vec<&str> = roles.iter().filter_map(|r| names::bare_role(r)).collect();
        roles.sort();
        roles.dedup();
        roles.join(",")
    }

    fn forget(&self) {
        self.decisions.write().clear();
        self.roles.write().clear();
        self.changed.send_replace(());
    }

    /// Changes once every time the policy (lines or grants) applied here changed: what
    /// was allowed before may not be now.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<()> {
        self.changed.subscribe()
    }

    /// Every policy line (role, kind, action, condition), with bare role names.
    pub async fn policy_lines(&self) -> Vec<[String; 4]> {
        let enforcer = self.enforcer.read().await;
        enforcer
            .get_policy()
            .into_iter()
            .filter_map(|l| match l.as_slice() {
                [role, kind, action, cond, ..] => Some([
                    names::bare_role(role)?.to_owned(),
                    kind.clone(),
                    action.clone(),
                    cond.clone(),
                ]),
                _ => None,
            })
            .collect()
    }

    /// Gives (`add`) or takes `grant` from `user`. Ok(false) when nothing changed: the user
    /// held it already, or did not hold it.
    pub async fn change_grant(&self, add: bool, user: &str, grant: &Grant) -> anyhow::Result<bool> {
        let changed = match &self.central {
            Some(pool) => store::grant(pool, add, user, &grant.role, &grant.region).await?,
            None => {
                let line = grant_line(user, &grant.role, &grant.region);
                let mut e = self.enforcer.write().await;
                if add {
                    e.add_grouping_policy(line).await?
                } else {
                    e.remove_grouping_policy(line).await?
                }
            }
        };
        self.reload().await?;
        Ok(changed)
    }

    /// Adds or removes a policy line (role, kind, action, condition). Ok(false) when nothing
    /// changed: the line was there already, or was not there.
    pub async fn change_policy(&self, add: bool, rule: [&str; 4]) -> anyhow::Result<bool> {
        let changed = match &self.central {
            Some(pool) => store::policy(pool, add, rule).await?,
            None => {
                let mut e = self.enforcer.write().await;
                if add {
                    e.add_policy(policy_line(rule)).await?
                } else {
                    e.remove_policy(policy_line(rule)).await?
                }
            }
        };
        self.reload().await?;
        Ok(changed)
    }
}

/// A `g` line as casbin holds it.
fn grant_line(user: &str, role: &str, region: &str) -> Vec<String> {
    vec![names::user(user), names::role(role), region.to_owned()]
}

/// A `p` line as casbin holds it.
fn policy_line([role, obj, act, cond]: [&str; 4]) -> Vec<String> {
    vec![names::role(role), obj.into(), act.into(), cond.into()]
}

#[cfg(test)]
mod tests;
