//! Every way out of both programs goes through here, so each exit is logged once, with its code.

use std::process::ExitCode;

use crate::output::OutputError;

/// Stdout could not be written (other than a reader closing the pipe).
pub const OUTPUT_FAILED: u8 = 1;
/// A flag or environment variable was not understood.
pub const BAD_INPUT: u8 = 2;

/// Logs the end of the program and returns the status to exit with.
pub fn finish(code: u8, reason: &str) -> ExitCode {
    tracing::info!(code, reason, "exiting");
    ExitCode::from(code)
}

/// The exit for a failed write: a broken pipe is a graceful end (status 0); anything else is 1.
pub fn output_failed(err: &OutputError) -> ExitCode {
    match err {
        OutputError::BrokenPipe => finish(0, &err.to_string()),
        OutputError::Failed(_) => {
            tracing::error!(code = OUTPUT_FAILED, reason = %err, "exiting");
            ExitCode::from(OUTPUT_FAILED)
        }
    }
}
