//! The rule engine (being written).
