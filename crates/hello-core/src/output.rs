//! Writing the message lines to stdout: one write and one flush per line, so a pipe (which is
//! what stdout is in a container) sees every line as it is written.

use std::io::{self, Write};

/// Why a line could not be written.
#[derive(Debug)]
pub enum OutputError {
    /// The reader went away (`hello-loop | head -1`): a graceful end, as in ripgrep.
    BrokenPipe,
    /// Anything else, such as a full disk (`> /dev/full`). A stdout that was closed before the
    /// start is not an error: Rust's runtime points it at /dev/null before `main`.
    Failed(io::Error),
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputError::BrokenPipe => f.write_str("stdout was closed by its reader (broken pipe)"),
            OutputError::Failed(err) => write!(f, "cannot write to stdout: {err}"),
        }
    }
}

impl From<io::Error> for OutputError {
    fn from(err: io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::BrokenPipe => OutputError::BrokenPipe,
            _ => OutputError::Failed(err),
        }
    }
}

/// The message, ready to be written as one line, and how many times it was.
pub struct MessageLines {
    line: Vec<u8>,
    written: u64,
}

impl MessageLines {
    pub fn new(message: &str) -> Self {
        let mut line = Vec::with_capacity(message.len() + 1);
        line.extend_from_slice(message.as_bytes());
        line.push(b'\n');
        MessageLines { line, written: 0 }
    }

    /// Writes the message and a newline, and flushes.
    pub fn write(&mut self) -> Result<(), OutputError> {
        let mut stdout = io::stdout().lock();
        stdout.write_all(&self.line)?;
        stdout.flush()?;
        self.written += 1;
        Ok(())
    }

    pub fn written(&self) -> u64 {
        self.written
    }
}
