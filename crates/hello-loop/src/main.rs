//! hello-loop: print a line every interval until stopped. The long-running process a Deployment
//! expects, and one that stops the moment Kubernetes asks it to.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use hello_core::cli::{self, LogArgs, Program, DEFAULT_MESSAGE};
use hello_core::exit::{finish, output_failed};
use hello_core::output::MessageLines;
use hello_core::shutdown::{run, SignalMode, StopSignals};
use hello_core::values;
use tokio::time::{interval, sleep, MissedTickBehavior};

/// Print a message every interval until SIGTERM or SIGINT.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The line to print
    #[arg(long, env = "HELLO_MESSAGE", default_value = DEFAULT_MESSAGE, allow_hyphen_values = true)]
    message: String,

    /// Time between lines (2s, 500ms, 1m30s; bare number = seconds)
    #[arg(long, env = "HELLO_INTERVAL", value_name = "DURATION", default_value = "2s",
          value_parser = values::positive_duration, allow_hyphen_values = true)]
    interval: Duration,

    /// Exit 0 after this many lines [default: run until stopped]
    #[arg(long, env = "HELLO_COUNT", value_name = "N",
          value_parser = values::count, allow_hyphen_values = true)]
    count: Option<u64>,

    /// After the first SIGTERM/SIGINT, keep working this long before exiting 0 (a second signal
    /// exits at once with 128+signal)
    #[arg(long, env = "HELLO_SHUTDOWN_DELAY", value_name = "DURATION", default_value = "0",
          value_parser = values::duration, allow_hyphen_values = true)]
    shutdown_delay: Duration,

    /// `ignore` installs no signal handler, like a naive script: as PID 1 only SIGKILL stops it
    #[arg(long, env = "HELLO_SIGNALS", value_name = "MODE", value_enum,
          default_value_t = SignalMode::Handle)]
    signals: SignalMode,

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
    run(print_until_stopped(args))
}

/// The whole life of the program: print until a signal (or the count), drain if asked, exit.
async fn print_until_stopped(args: Args) -> std::io::Result<ExitCode> {
    let started = Instant::now();
    let mut lines = MessageLines::new(&args.message);
    let mut signals = StopSignals::install(args.signals)?;
    tracing::info!(
        text = ?args.message,
        interval = %values::display(args.interval),
        count = %args.count.map_or_else(|| "unlimited".to_string(), |n| n.to_string()),
        shutdown_delay = %values::display(args.shutdown_delay),
        signals = %args.signals,
        pid = std::process::id(),
        "starting"
    );
    if args.signals == SignalMode::Ignore {
        tracing::warn!(
            "no signal handlers installed: as PID 1, SIGTERM and SIGINT are ignored and only \
             SIGKILL stops this process"
        );
    }

    // The first tick fires at once; a late tick is not made up for with a burst of lines.
    let mut ticks = interval(args.interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);

    let signal = loop {
        tokio::select! {
            _ = ticks.tick() => {
                if let Err(err) = lines.write() {
                    return Ok(output_failed(&err));
                }
                if Some(lines.written()) == args.count {
                    return Ok(finish(0, "printed every line asked for"));
                }
            }
            signal = signals.recv() => break signal,
        }
    };
    tracing::info!(
        signal = signal.name(),
        lines = lines.written(),
        uptime = %values::display(started.elapsed()),
        "received {}, shutting down gracefully",
        signal.name()
    );
    if args.shutdown_delay.is_zero() {
        return Ok(finish(0, "stopped gracefully"));
    }

    // Draining: keep working for the grace we were asked to take, but let a second signal cut it
    // short, the way a person pressing Ctrl-C twice expects.
    tracing::info!(
        drain = %values::display(args.shutdown_delay),
        "draining before exit"
    );
    let drained = sleep(args.shutdown_delay);
    tokio::pin!(drained);
    loop {
        tokio::select! {
            () = &mut drained => return Ok(finish(0, "drained, stopped gracefully")),
            _ = ticks.tick() => {
                if let Err(err) = lines.write() {
                    return Ok(output_failed(&err));
                }
            }
            second = signals.recv() => {
                tracing::warn!(signal = second.name(), "second {} during the drain", second.name());
                return Ok(finish(second.exit_code(), "stopped by a second signal"));
            }
        }
    }
}
