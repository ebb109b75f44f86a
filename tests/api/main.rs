//! The integration tests: one binary, so the PostgreSQL clusters are started once per run
//! and shared (see `helpers::pg`). Every test gets databases of its own.

mod helpers;

mod admin;
mod audit;
mod auth;
mod authz_matrix;
mod bad_input;
mod cli;
mod clinical;
mod db_roles;
mod fanout;
mod placement;
mod planner_view;
mod planning;
mod records;
mod regions_down;
mod stats;
mod transfer;
