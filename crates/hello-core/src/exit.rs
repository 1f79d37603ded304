//! Every way out of both programs goes through here, so each exit is logged once, with its code.

use std::process::ExitCode;

use crate::output::{MessageLines, OutputError};

/// Stdout could not be written (other than a reader closing the pipe).
pub const OUTPUT_FAILED: u8 = 1;
/// A flag or environment variable was not understood.
pub const BAD_INPUT: u8 = 2;

/// Logs the end of the program and returns the status to exit with.
pub fn finish(code: u8, reason: &str) -> ExitCode {
    tracing::info!(code, reason, "exiting");
    ExitCode::from(code)
}

/// The exit for a failed write: a broken pipe is a graceful end (status 0); anything else is 1,
/// and says how much of the line being written stdout had taken when that is not none of it (a
/// disk that filled up half-way through: the file ends with that part, without its newline).
pub fn output_failed(err: &OutputError, lines: &MessageLines) -> ExitCode {
    match err {
        OutputError::BrokenPipe => finish(0, &err.to_string()),
        OutputError::Failed(_) => {
            let (bytes_written, line_bytes) = lines.partial().unzip();
            tracing::error!(
                code = OUTPUT_FAILED,
                reason = %err,
                bytes_written,
                line_bytes,
                "exiting"
            );
            ExitCode::from(OUTPUT_FAILED)
        }
    }
}
