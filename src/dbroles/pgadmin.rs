//! pgAdmin's `servers.json` for the roles of this module: one server per region and role a
//! regional admin uses (`<region>_admin`, `<region>_readonly`), grouped by region so that
//! each admin finds their own region, and the central database as `planner`. Pure: the
//! caller has already read the addresses from the configured database URLs.
//!
//! servers.json cannot carry a password (pgAdmin's load-servers ignores one), so each
//! server names a passfile (libpq's format, `host:port:database:user:password`) that the
//! regional admin keeps next to pgAdmin. `<region>_planner` is left out: its password is
//! made and kept by `hmis federate`, no person logs in as it.

use super::{PLANNER, region_role_names};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where one database is, as a client reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// A host name, an IP address, or a Unix socket directory.
    pub host: String,
    pub port: u16,
    pub database: String,
    /// libpq's `sslmode` word (`disable`, `prefer`, `require`, `verify-ca`, `verify-full`).
    pub ssl_mode: String,
}

/// A region as the export needs it.
#[derive(Debug, Clone)]
pub struct Region {
    /// The name in `regions/<name>.toml` (role names derive from it).
    pub name: String,
    /// The name people use: the group and server names show it.
    pub display_name: String,
    pub address: Address,
}

/// The group of the central database's server.
pub const CENTRAL_GROUP: &str = "Central";

/// The servers.json document: `{"Servers": {"1": {...}, "2": ...}}`.
#[derive(Debug, Serialize)]
pub struct ServersJson {
    /// Numbered from 1 (pgAdmin's format); numeric keys keep "10" after "9".
    #[serde(rename = "Servers")]
    pub servers: BTreeMap<u32, Server>,
}

/// One server, with pgAdmin's field names, in the order pgAdmin's own dump uses.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Server {
    pub name: String,
    pub group: String,
    pub host: String,
    pub port: u16,
    #[serde(rename = "MaintenanceDB")]
    pub maintenance_db: String,
    pub username: String,
    /// Read by pgAdmin before 7 only; the same as `ConnectionParameters.sslmode`.
    #[serde(rename = "SSLMode")]
    pub ssl_mode: String,
    /// Read by pgAdmin before 7 only; the same as `ConnectionParameters.passfile`.
    pub pass_file: String,
    /// What pgAdmin 7 and later read (when present, the two keys above are ignored).
    pub connection_parameters: ConnectionParameters,
}

/// libpq connection parameters, as pgAdmin stores them.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ConnectionParameters {
    pub sslmode: String,
    pub passfile: String,
    pub connect_timeout: u32,
}

/// The servers of `regions` (in the order given), each with its admin and then its
/// read-only role, then the central database's `planner`.
pub fn servers_json(
    regions: &[Region],
    central: &Address,
    passfile: &str,
) -> Result<ServersJson, String> {
    let mut servers = Vec::new();
    for region in regions {
        let (admin, readonly) = region_role_names(&region.name).map_err(|e| e.to_string())?;
        let shown = &region.display_name;
        let at = &region.address;
        servers.push(server(
            format!("{shown} ({admin})"),
            shown,
            at,
            &admin,
            passfile,
        ));
        let name = format!("{shown} read-only ({readonly})");
        servers.push(server(name, shown, at, &readonly, passfile));
    }
    let name = format!("Central planning ({PLANNER})");
    servers.push(server(name, CENTRAL_GROUP, central, PLANNER, passfile));
    Ok(ServersJson {
        servers: (1..).zip(servers).collect(),
    })
}

fn server(name: String, group: &str, address: &Address, user: &str, passfile: &str) -> Server {
    Server {
        name,
        group: group.to_owned(),
        host: address.host.clone(),
        port: address.port,
        maintenance_db: address.database.clone(),
        username: user.to_owned(),
        ssl_mode: address.ssl_mode.clone(),
        pass_file: passfile.to_owned(),
        connection_parameters: ConnectionParameters {
            sslmode: address.ssl_mode.clone(),
            passfile: passfile.to_owned(),
            connect_timeout: 10,
        },
    }
}

#[cfg(test)]
#[path = "pgadmin_tests.rs"]
mod tests;
