//! hello-loop: print a line every interval until stopped. The long-running process a Deployment
//! expects, and one that stops the moment Kubernetes asks it to.

use std::future::pending;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use hello_core::cli::{self, LogArgs, Program, DEFAULT_MESSAGE};
use hello_core::exit::{finish, output_failed};
use hello_core::heartbeat::{self, Heartbeat};
use hello_core::output::{MessageLines, OutputError};
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
          value_parser = values::positive_duration, allow_hyphen_values = true, global = true)]
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

    /// Rewrite this file after every line, for `hello-loop check` (a liveness probe) to read;
    /// empty means none
    #[arg(long, env = "HELLO_HEARTBEAT_FILE", value_name = "PATH", global = true,
          value_parser = values::path_or_none)]
    heartbeat_file: Option<PathBuf>,

    /// Stop printing and heartbeating after this long, but keep running (a stuck worker; it
    /// still answers SIGTERM) [default: never]
    #[arg(long, env = "HELLO_STALL_AFTER", value_name = "DURATION",
          value_parser = values::positive_duration, allow_hyphen_values = true)]
    stall_after: Option<Duration>,

    #[command(flatten)]
    log: LogArgs,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Exit 0 when the heartbeat file is fresh, 1 when it is stale or missing (for probes)
    Check {
        /// Oldest heartbeat still healthy [default: 3 intervals, at least 1s]
        #[arg(long, env = "HELLO_MAX_AGE", value_name = "DURATION",
              value_parser = values::positive_duration, allow_hyphen_values = true)]
        max_age: Option<Duration>,
    },
}

impl Program for Args {
    fn log_args(&self) -> &LogArgs {
        &self.log
    }
}

impl Args {
    fn heartbeat(&self) -> Option<Heartbeat> {
        let path = self.heartbeat_file.as_deref()?;
        (!path.as_os_str().is_empty()).then(|| Heartbeat::new(path))
    }
}

fn main() -> ExitCode {
    let args: Args = cli::start();
    if let Some(Command::Check { max_age }) = args.command {
        return check(&args, max_age);
    }
    let heartbeat = args.heartbeat();
    if let Some(heartbeat) = &heartbeat {
        // Found out now, not at the first probe: a path we cannot write is bad input.
        if let Err(err) = heartbeat.beat(0) {
            cli::refuse(&format!(
                "hello-loop: cannot write '{}' given by --heartbeat-file / HELLO_HEARTBEAT_FILE: \
                 {err}; expected a file in a writable directory (an emptyDir volume in \
                 Kubernetes, --tmpfs in Docker)",
                heartbeat.path().display()
            ));
        }
    }
    let worker = Worker {
        lines: MessageLines::new(&args.message),
        heartbeat,
    };
    run(print_until_stopped(args, worker))
}

/// The probe: one line, status 0 (fresh) or 1 (stale or missing). No runtime, no signals.
fn check(args: &Args, max_age: Option<Duration>) -> ExitCode {
    let Some(heartbeat) = args.heartbeat() else {
        cli::refuse(
            "hello-loop check: no heartbeat to check; set --heartbeat-file / HELLO_HEARTBEAT_FILE \
             to the file hello-loop writes",
        );
    };
    let max_age = max_age.unwrap_or_else(|| (args.interval * 3).max(Duration::from_secs(1)));
    match heartbeat::check(&heartbeat, max_age) {
        Ok(healthy) => {
            let _ = writeln!(std::io::stdout(), "{healthy}");
            ExitCode::SUCCESS
        }
        Err(unhealthy) => {
            eprintln!("{unhealthy}");
            ExitCode::FAILURE
        }
    }
}

/// One unit of work: a line on stdout, then a heartbeat.
struct Worker {
    lines: MessageLines,
    heartbeat: Option<Heartbeat>,
}

impl Worker {
    fn work(&mut self) -> Result<(), OutputError> {
        self.lines.write()?;
        if let Some(heartbeat) = &self.heartbeat {
            if let Err(err) = heartbeat.beat(self.lines.written()) {
                // The probe will notice; the program itself carries on.
                tracing::warn!(%err, path = %heartbeat.path().display(), "heartbeat not written");
            }
        }
        Ok(())
    }
}

/// The whole life of the program: print until a signal (or the count), drain if asked, exit.
async fn print_until_stopped(args: Args, mut worker: Worker) -> std::io::Result<ExitCode> {
    let started = Instant::now();
    let mut signals = StopSignals::install(args.signals)?;
    tracing::info!(
        text = ?args.message,
        interval = %values::display(args.interval),
        count = %args.count.map_or_else(|| "unlimited".to_string(), |n| n.to_string()),
        shutdown_delay = %values::display(args.shutdown_delay),
        signals = %args.signals,
        heartbeat_file = %worker.heartbeat.as_ref().map_or_else(|| "none".into(), |h| h.path().display().to_string()),
        stall_after = %args.stall_after.map_or_else(|| "never".to_string(), values::display),
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
    let stall = sleep_or_never(args.stall_after);
    tokio::pin!(stall);
    let mut stalled = false;

    let signal = loop {
        tokio::select! {
            _ = ticks.tick(), if !stalled => {
                if let Err(err) = worker.work() {
                    return Ok(output_failed(&err));
                }
                if Some(worker.lines.written()) == args.count {
                    return Ok(finish(0, "printed every line asked for"));
                }
            }
            () = &mut stall, if !stalled => {
                stalled = true;
                tracing::warn!(
                    lines = worker.lines.written(),
                    "stalling on purpose: no more lines or heartbeats until stopped"
                );
            }
            signal = signals.recv() => break signal,
        }
    };
    tracing::info!(
        signal = signal.name(),
        lines = worker.lines.written(),
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
            _ = ticks.tick(), if !stalled => {
                if let Err(err) = worker.work() {
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

async fn sleep_or_never(duration: Option<Duration>) {
    match duration {
        Some(duration) => sleep(duration).await,
        None => pending().await,
    }
}
