//! hello-once: print one line and exit. Run it as a Job (or a CronJob); under a Deployment the
//! kubelet restarts it after every successful exit and it ends in CrashLoopBackOff.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use hello_core::bounded;
use hello_core::cli::{self, LogArgs, Program, DEFAULT_MESSAGE};
use hello_core::exit::{finish, output_failed};
use hello_core::output::MessageLines;
use hello_core::shutdown::{run, setup_failed, Signal, SignalMode, StopFlag, StopSignals};
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
    // Handlers before anything else, parsing and the first log line included: as PID 1 the kernel
    // drops a SIGTERM that finds no handler, and a log line on a blocked stderr takes a 10 ms
    // attempt. They only record the signal; each step below looks at it. Then the write timer's
    // SIGALRM: an inherited mask that blocks any of the three is undone.
    let stop = StopFlag::install().and_then(|stop| bounded::prepare().map(|()| stop));
    let args: Args = cli::start();
    let stop = match stop {
        Ok(stop) => stop,
        Err(err) => return setup_failed(&err),
    };
    let mut lines = MessageLines::new(&args.message);
    tracing::info!(
        text = args.message.as_str(),
        exit_code = args.exit_code,
        delay = %values::display(args.delay),
        pid = std::process::id(),
        "starting"
    );
    if let Some(signal) = stop.received() {
        return stopped(&mut lines, signal, "before the line was printed");
    }
    if args.delay.is_zero() {
        // Nothing to wait for: no runtime, just the line. The handlers only record a signal, so a
        // stdout that blocks (a full pipe nobody reads) cannot keep even PID 1 from stopping.
        return match lines.write_unless(|| stop.received()) {
            Ok(None) => finish(args.exit_code, "printed the message"),
            Ok(Some(signal)) => stopped(&mut lines, signal, "while stdout was blocked"),
            Err(err) => output_failed(&err, &lines),
        };
    }
    run(async {
        // The runtime's handlers; a signal that came before them is in the flag.
        let mut signals = StopSignals::install(SignalMode::Handle)?;
        if let Some(signal) = stop.received() {
            return Ok(stopped(&mut lines, signal, "before the line was printed"));
        }
        let written = tokio::select! {
            biased;
            signal = signals.recv() => {
                return Ok(stopped(&mut lines, signal, "while stdout was blocked"));
            }
            written = lines.write() => written,
        };
        if let Err(err) = written {
            return Ok(output_failed(&err, &lines));
        }
        Ok(tokio::select! {
            signal = signals.recv() => stopped(&mut lines, signal, "during the delay"),
            () = tokio::time::sleep(args.delay) => finish(args.exit_code, "delay over"),
        })
    })
}

/// The exit for a stop signal: 128 + its number, after saying what was interrupted.
fn stopped(lines: &mut MessageLines, signal: Signal, when: &str) -> ExitCode {
    tracing::info!(signal = signal.name(), "received {} {when}", signal.name());
    lines.drop_unfinished();
    finish(signal.exit_code(), "stopped by a signal")
}
