//! Writing the message lines to stdout: straight to the file descriptor, one write(2) per line
//! (no buffer to flush), so a pipe (which is what stdout is in a container) sees every line as it
//! is written. Each write is bounded ([`bounded`]): a blocked stdout never keeps the program from
//! answering a signal. Not `std::io::Stdout`: it reports a read-only stdout (EBADF) as success.

use std::io;
use std::os::fd::AsFd;

use crate::bounded;

/// Why a line could not be written.
#[derive(Debug)]
pub enum OutputError {
    /// The reader went away (`hello-loop | head -1`): a graceful end, as in ripgrep.
    BrokenPipe,
    /// Anything else, such as a full disk (`> /dev/full`) or a stdout opened read-only
    /// (`1<file`). A stdout that was closed before the start is not an error: Rust's runtime
    /// points it at /dev/null before `main`.
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

/// The message, ready to be written as one line, how many times it was, and how far the line
/// being written has got.
pub struct MessageLines {
    line: Vec<u8>,
    written: u64,
    /// Bytes of the current line already taken by stdout; `None` between lines.
    in_progress: Option<usize>,
}

impl MessageLines {
    pub fn new(message: &str) -> Self {
        let mut line = Vec::with_capacity(message.len() + 1);
        line.extend_from_slice(message.as_bytes());
        line.push(b'\n');
        MessageLines {
            line,
            written: 0,
            in_progress: None,
        }
    }

    /// Makes `text` the line to write next (`hello-loop --fetch` prints what each request
    /// brought). Between lines only: a line half written is finished as it was begun.
    pub fn set(&mut self, text: &str) {
        if self.in_progress.is_none() {
            self.line.clear();
            self.line.extend_from_slice(text.as_bytes());
            self.line.push(b'\n');
        }
    }

    /// One bounded attempt at the rest of the current line (starting a new one if none is in
    /// progress): `Ok(true)` once the whole line is out, `Ok(false)` while stdout is blocked.
    pub fn write_some(&mut self) -> Result<bool, OutputError> {
        let done = self.in_progress.unwrap_or(0);
        let taken = bounded::write_bounded(io::stdout().as_fd(), &self.line[done..])?;
        if done + taken < self.line.len() {
            self.in_progress = Some(done + taken);
            return Ok(false);
        }
        self.in_progress = None;
        self.written += 1;
        Ok(true)
    }

    /// Writes the line, giving the runtime control between bounded attempts while stdout is
    /// blocked, so a signal or a deadline can win. Dropped half-way, the line stays in progress
    /// and the next call resumes it.
    pub async fn write(&mut self) -> Result<(), OutputError> {
        while !self.write_some()? {
            tokio::task::yield_now().await;
        }
        Ok(())
    }

    /// Writes the line without a runtime, unless `stopped` returns something while stdout is
    /// blocked: then that is returned and the line stays unwritten.
    pub fn write_unless<T>(
        &mut self,
        mut stopped: impl FnMut() -> Option<T>,
    ) -> Result<Option<T>, OutputError> {
        while !self.write_some()? {
            if let Some(reason) = stopped() {
                return Ok(Some(reason));
            }
        }
        Ok(None)
    }

    /// Whether a line has been started and not finished (stdout is blocked).
    pub fn in_progress(&self) -> bool {
        self.in_progress.is_some()
    }

    /// The line started and not finished: the bytes stdout took of it, and its length (newline
    /// included). `None` between lines, and when not one byte of it was taken.
    pub fn partial(&self) -> Option<(u64, u64)> {
        self.in_progress
            .filter(|&done| done > 0)
            .map(|done| (done as u64, self.line.len() as u64))
    }

    /// On the way out: says so when the line being written is dropped, and how much of it the
    /// reader already has (a part of a line, without its newline, if it is not 0).
    pub fn drop_unfinished(&mut self) {
        if let Some(done) = self.in_progress.take() {
            tracing::warn!(
                bytes_written = done as u64,
                line_bytes = self.line.len() as u64,
                "stdout is blocked: the line being written is dropped"
            );
        }
    }

    pub fn written(&self) -> u64 {
        self.written
    }
}
