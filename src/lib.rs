#![forbid(unsafe_code)]
pub mod pgcluster;
pub mod routing;
