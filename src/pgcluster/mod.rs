//! Local PostgreSQL clusters (being written).
