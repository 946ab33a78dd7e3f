//! bedrock-env: keeps a fresh Amazon Bedrock API key in every shell.
//!
//! Pure modules (`token`, `policy`, `record`, `duration`, `profile`) take their inputs and "now"
//! as arguments; I/O sits at the edges (`cache`, `credentials`, `commands`).

pub mod cache;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod converse;
pub mod credentials;
pub mod doctor;
pub mod duration;
pub mod policy;
pub mod profile;
pub mod record;
pub mod refresh;
pub mod shell;
pub mod target;
pub mod token;
