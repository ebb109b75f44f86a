//! Clinical knowledge, kept pure (no I/O) so that it is tested as tables: which vital signs
//! hmis records, in which units, what is impossible and what is dangerous.

pub mod status;
mod tables;
pub mod vitals;
