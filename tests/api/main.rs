//! The integration tests: one binary, so the PostgreSQL clusters are started once per run
//! and shared (see `helpers::pg`). Every test gets databases of its own.

mod helpers;

mod admin;
mod architecture;
mod audit;
mod auth;
mod authz_matrix;
mod authz_users;
mod bad_input;
mod browser;
mod changes;
mod cli;
mod cli_config;
mod clinical;
mod cursors;
mod db_roles;
mod deploy;
mod dev_process;
mod doctor;
mod fuzz;
mod fanout;
mod faults;
mod guard;
mod headers;
mod live;
mod logs;
mod metrics;
mod notifications;
mod openapi_contract;
mod pgadmin;
mod placement;
mod planner_view;
mod planning;
mod records;
mod regions_for_actor;
mod regions_down;
mod stats;
mod totals;
mod transfer;
mod transfer_engine;
mod ui;
