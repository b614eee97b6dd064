//! One module per subcommand.

pub mod codegen;
pub mod dev;
pub mod dlq;
pub mod events;
pub mod explain;
pub mod fmt;
pub mod init;
pub mod list;
pub mod logs;
pub mod telemetry_args;
pub mod telemetry_text;
pub mod test;
pub mod traces;
pub mod validate;
pub mod waterfall;
