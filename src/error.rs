//! What a command returns: an exit code, or a one-line error for the user (exit code 2).

use std::process::ExitCode;

/// A one-line error for the user; exit code 2.
pub struct UsageError(pub String);

/// A command's result.
pub type CliResult = Result<ExitCode, UsageError>;
