//! Signals and the runtime. A container's program is PID 1, and the kernel delivers to PID 1 only
//! the signals it has a handler for: installing SIGTERM and SIGINT handlers is what lets
//! `docker stop` and Kubernetes stop us at once instead of waiting to SIGKILL us.

use std::future::{pending, poll_fn, Future};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures_core::Stream;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_tokio::Signals;

/// Whether to handle SIGTERM and SIGINT or to behave like a naive script.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalMode {
    /// Stop gracefully on SIGTERM or SIGINT
    Handle,
    /// Install no handler at all, like the article's Python script: as PID 1 the kernel then
    /// drops SIGTERM and SIGINT, and only SIGKILL stops the process
    Ignore,
}

impl std::fmt::Display for SignalMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignalMode::Handle => "handle",
            SignalMode::Ignore => "ignore",
        })
    }
}

/// A signal we were asked to stop with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signal(i32);

impl Signal {
    pub fn name(self) -> &'static str {
        match self.0 {
            SIGTERM => "SIGTERM",
            SIGINT => "SIGINT",
            _ => "signal",
        }
    }

    /// The shell convention for "ended by this signal": 128 + its number (143, 130).
    pub fn exit_code(self) -> u8 {
        128 + self.0 as u8
    }
}

/// Unblocks `signals` in this thread, the program's only one. A parent may have started us with
/// them blocked, and the mask survives fork(2) and execve(2): a blocked SIGTERM would stay pending
/// for ever. Call once their handlers are installed, so one that is already pending is handled
/// (for PID 1, a pending signal with no handler would be dropped; for anyone else, it would kill).
pub fn unblock(signals: &[i32]) -> std::io::Result<()> {
    // SAFETY: a sigset_t initialised by sigemptyset before use; pthread_sigmask only reads it.
    let rc = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &signal in signals {
            libc::sigaddset(&mut set, signal);
        }
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut())
    };
    match rc {
        0 => Ok(()),
        err => Err(std::io::Error::from_raw_os_error(err)),
    }
}

/// The stop signals, as a stream; in [`SignalMode::Ignore`] nothing is installed and nothing
/// ever arrives.
pub struct StopSignals(Option<Signals>);

impl StopSignals {
    /// Installs the handlers and unblocks their signals ([`unblock`]). Call inside the runtime
    /// ([`run`]). In [`SignalMode::Ignore`] the inherited mask is left as it is, as a naive
    /// program would.
    pub fn install(mode: SignalMode) -> std::io::Result<Self> {
        match mode {
            SignalMode::Handle => {
                let signals = Signals::new([SIGTERM, SIGINT])?;
                unblock(&[SIGTERM, SIGINT])?;
                Ok(StopSignals(Some(signals)))
            }
            SignalMode::Ignore => Ok(StopSignals(None)),
        }
    }

    /// Waits for the next SIGTERM or SIGINT.
    pub async fn recv(&mut self) -> Signal {
        let Some(signals) = self.0.as_mut() else {
            return pending().await;
        };
        match poll_fn(|cx| Pin::new(&mut *signals).poll_next(cx)).await {
            Some(number) => Signal(number),
            None => pending().await,
        }
    }
}

/// The stop signals recorded without a runtime (hello-once's single line): installed before the
/// line is written, so as PID 1 a SIGTERM that comes while stdout is blocked is not dropped.
pub struct StopFlag(Arc<AtomicUsize>);

impl StopFlag {
    /// Installs the handlers and unblocks their signals ([`unblock`]).
    pub fn install() -> std::io::Result<Self> {
        let flag = Arc::new(AtomicUsize::new(0));
        for signal in [SIGTERM, SIGINT] {
            signal_hook::flag::register_usize(signal, Arc::clone(&flag), signal as usize)?;
        }
        unblock(&[SIGTERM, SIGINT])?;
        Ok(StopFlag(flag))
    }

    /// The last stop signal received, if any.
    pub fn received(&self) -> Option<Signal> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            number => Some(Signal(number as i32)),
        }
    }
}

/// Runs the program's body on a single-threaded runtime: these programs wait on a timer and two
/// signals, so one thread is plenty, and `/proc/PID/task` shows exactly one. An error setting up
/// (runtime or signal handlers) is logged and exits 1.
pub fn run<F>(body: F) -> ExitCode
where
    F: Future<Output = std::io::Result<ExitCode>>,
{
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .and_then(|runtime| runtime.block_on(body));
    outcome.unwrap_or_else(|err| setup_failed(&err))
}

/// The exit when the runtime or the signal handlers cannot be set up: logged, status 1.
pub fn setup_failed(err: &std::io::Error) -> ExitCode {
    tracing::error!(code = 1, %err, "cannot set up the runtime or signal handlers; exiting");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(Signal(SIGTERM).exit_code(), 143);
        assert_eq!(Signal(SIGINT).exit_code(), 130);
        assert_eq!(Signal(SIGTERM).name(), "SIGTERM");
    }
}
