//! hello-once: print one line and exit. Run it as a Job (or a CronJob); under a Deployment the
//! kubelet restarts it after every successful exit and it ends in CrashLoopBackOff.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use hello_core::cli::{self, LogArgs, Program, DEFAULT_MESSAGE};
use hello_core::exit::{finish, output_failed};
use hello_core::output::MessageLines;
use hello_core::shutdown::{run, SignalMode, StopSignals};
use hello_core::values;

/// Print a message once and exit.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The line to print
    #[arg(long, env = "HELLO_MESSAGE", default_value = DEFAULT_MESSAGE, allow_hyphen_values = true)]
    message: String,

    /// Exit status after printing, 0-255 (a non-zero one makes a failing Job)
    #[arg(long, env = "HELLO_EXIT_CODE", value_name = "CODE", default_value = "0",
          value_parser = values::exit_code, allow_hyphen_values = true)]
    exit_code: u8,

    /// Stay running this long after printing (2s, 500ms, 1m30s; bare number = seconds); SIGTERM
    /// or SIGINT ends the wait at once with 143 or 130
    #[arg(long, env = "HELLO_DELAY", value_name = "DURATION", default_value = "0",
          value_parser = values::duration, allow_hyphen_values = true)]
    delay: Duration,

    #[command(flatten)]
    log: LogArgs,
}

impl Program for Args {
    fn log_args(&self) -> &LogArgs {
        &self.log
    }
}

fn main() -> ExitCode {
    let args: Args = cli::start();
    let mut lines = MessageLines::new(&args.message);
    tracing::info!(
        text = ?args.message,
        exit_code = args.exit_code,
        delay = %values::display(args.delay),
        pid = std::process::id(),
        "starting"
    );
    if args.delay.is_zero() {
        // Nothing to wait for: no runtime, no handlers, just the line.
        return match lines.write() {
            Ok(()) => finish(args.exit_code, "printed the message"),
            Err(err) => output_failed(&err),
        };
    }
    run(async {
        // Handlers first, so a SIGTERM right after the line is ours to handle, even as PID 1.
        let mut signals = StopSignals::install(SignalMode::Handle)?;
        if let Err(err) = lines.write() {
            return Ok(output_failed(&err));
        }
        Ok(tokio::select! {
            () = tokio::time::sleep(args.delay) => finish(args.exit_code, "delay over"),
            signal = signals.recv() => {
                tracing::info!(signal = signal.name(), "received {} during the delay", signal.name());
                finish(signal.exit_code(), "stopped by a signal")
            }
        })
    })
}
