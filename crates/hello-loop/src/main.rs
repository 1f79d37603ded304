//! hello-loop: print a line every interval until stopped. The long-running process a Deployment
//! expects, and one that stops the moment Kubernetes asks it to.

use std::future::pending;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use hello_core::bounded;
use hello_core::cli::{self, LogArgs, Program, DEFAULT_MESSAGE};
use hello_core::exit::{finish, output_failed};
use hello_core::heartbeat::{self, Heartbeat};
use hello_core::logging::Shown;
use hello_core::output::{MessageLines, OutputError};
use hello_core::shutdown::{run, SignalMode, StopSignals};
use hello_core::values;
use tokio::time::{interval, sleep, Interval, MissedTickBehavior, Sleep};

/// Print a message every interval until SIGTERM or SIGINT.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The line to print
    #[arg(long, env = "HELLO_MESSAGE", default_value = DEFAULT_MESSAGE, allow_hyphen_values = true)]
    message: String,

    /// Time between lines, at least 1ms (2s, 500ms, 1m30s; bare number = seconds)
    #[arg(long, env = "HELLO_INTERVAL", value_name = "DURATION", default_value = "2s",
          value_parser = values::interval, allow_hyphen_values = true, global = true)]
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
        /// Oldest heartbeat still healthy [default: the one the heartbeat carries: 3 of the
        /// loop's intervals, at least 1s]
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
    fn heartbeat_path(&self) -> Option<&Path> {
        let path = self.heartbeat_file.as_deref()?;
        (!path.as_os_str().is_empty()).then_some(path)
    }
}

fn main() -> ExitCode {
    let args: Args = cli::start();
    if let Some(Command::Check { max_age }) = args.command {
        bounded::disable();
        return check(&args, max_age);
    }
    if args.signals == SignalMode::Ignore {
        bounded::disable();
    }
    // Before the first write (a refused heartbeat path is one): an inherited mask that blocks
    // the write timer's SIGALRM is undone. SIGTERM and SIGINT: with their handlers, in the runtime.
    if let Err(err) = bounded::prepare() {
        return hello_core::shutdown::setup_failed(&err);
    }
    let max_age = heartbeat::default_max_age(args.interval);
    let heartbeat = args
        .heartbeat_path()
        .map(|path| Heartbeat::new(path, max_age));
    if let Some(heartbeat) = &heartbeat {
        // Found out now, not at the first probe: a path we cannot write is bad input.
        if let Err(err) = heartbeat.beat(0) {
            cli::refuse(&format!(
                "hello-loop: cannot write '{}' given by --heartbeat-file / HELLO_HEARTBEAT_FILE: \
                 {err}; expected a regular file (or none yet) in a writable directory (an \
                 emptyDir volume in Kubernetes, --tmpfs in Docker)",
                heartbeat.path().display()
            ));
        }
    }
    run(print_until_stopped(args, heartbeat))
}

/// The first tick fires at once; a late tick is not made up for with a burst of lines.
fn ticks(period: Duration) -> Interval {
    let mut ticks = interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticks
}

/// The probe: one line, status 0 (fresh) or 1 (stale or missing). No runtime, no signals.
fn check(args: &Args, max_age: Option<Duration>) -> ExitCode {
    let Some(path) = args.heartbeat_path() else {
        cli::refuse(
            "hello-loop check: no heartbeat to check; set --heartbeat-file / HELLO_HEARTBEAT_FILE \
             to the file hello-loop writes",
        );
    };
    // The fallback is for a heartbeat from an older hello-loop, which carries no maximum age.
    let fallback = heartbeat::default_max_age(args.interval);
    // One line, whatever the path holds (a probe's output ends up in an event).
    match heartbeat::check(path, max_age, fallback) {
        Ok(healthy) => {
            let line = format!("{}\n", values::one_line(&healthy));
            let _ = bounded::write_bounded(std::io::stdout().as_fd(), line.as_bytes());
            ExitCode::SUCCESS
        }
        Err(unhealthy) => {
            bounded::stderr_line(&values::one_line(&unhealthy));
            ExitCode::FAILURE
        }
    }
}

/// Why the work ended without a signal.
enum Ended {
    Count,
    Output(OutputError),
}

/// Lines and heartbeats, one per tick.
struct Printer {
    lines: MessageLines,
    heartbeat: Option<Heartbeat>,
    /// Whether the last beat failed: said once when it starts failing, once when it recovers.
    heartbeat_failing: bool,
    count: Option<u64>,
    ticks: Interval,
}

impl Printer {
    /// Prints a line every tick until the count is reached or stdout fails. Cancel-safe: a line
    /// half written when this is dropped is resumed by the next call, without waiting for a tick.
    async fn print(&mut self) -> Ended {
        loop {
            if !self.lines.in_progress() {
                self.ticks.tick().await;
            }
            if let Err(err) = self.lines.write().await {
                return Ended::Output(err);
            }
            self.beat();
            if Some(self.lines.written()) == self.count {
                return Ended::Count;
            }
        }
    }

    fn beat(&mut self) {
        let Some(heartbeat) = &self.heartbeat else {
            return;
        };
        match heartbeat.beat(self.lines.written()) {
            Err(err) if !self.heartbeat_failing => {
                // The probe will notice; the program itself carries on.
                let path = heartbeat.path().to_string_lossy();
                tracing::warn!(%err, path = %Shown(&path), "heartbeat not written; saying so once until it is written again");
                self.heartbeat_failing = true;
            }
            Ok(()) if self.heartbeat_failing => {
                let path = heartbeat.path().to_string_lossy();
                tracing::info!(path = %Shown(&path), "heartbeat written again");
                self.heartbeat_failing = false;
            }
            _ => {}
        }
    }
}

/// The printer and the stall that stops it: the same work before a signal and during the drain,
/// so the count and the stall hold until the end.
struct Worker {
    printer: Printer,
    stall: Stall,
}

/// `--stall-after`: a worker stuck on a lock, on purpose.
enum Stall {
    Never,
    At(Pin<Box<Sleep>>),
    Begun,
}

impl Worker {
    /// Prints until the count is reached or stdout fails; once the stall begins, prints nothing
    /// more and waits (only a signal or a deadline ends that).
    async fn work(&mut self) -> Ended {
        if let Stall::At(stall) = &mut self.stall {
            tokio::select! {
                ended = self.printer.print() => return ended,
                () = stall => {
                    self.stall = Stall::Begun;
                    tracing::warn!(
                        lines = self.printer.lines.written(),
                        "stalling on purpose: no more lines or heartbeats until stopped"
                    );
                }
            }
        }
        match self.stall {
            Stall::Begun => pending().await,
            _ => self.printer.print().await,
        }
    }

    /// The exit after a signal or the drain: a line stdout never took is dropped, and said so.
    fn finish(&mut self, code: u8, reason: &str) -> ExitCode {
        self.printer.lines.drop_unfinished();
        finish(code, reason)
    }

    fn ended(&mut self, ended: Ended) -> ExitCode {
        match ended {
            Ended::Count => finish(0, "printed every line asked for"),
            Ended::Output(err) => output_failed(&err, &self.printer.lines),
        }
    }
}

/// The whole life of the program: print until a signal (or the count), drain if asked, exit.
async fn print_until_stopped(
    args: Args,
    heartbeat: Option<Heartbeat>,
) -> std::io::Result<ExitCode> {
    let started = Instant::now();
    let mut signals = StopSignals::install(args.signals)?;
    // Timers need the runtime, so the worker is made here.
    let mut worker = Worker {
        printer: Printer {
            lines: MessageLines::new(&args.message),
            heartbeat,
            heartbeat_failing: false,
            count: args.count,
            ticks: ticks(args.interval),
        },
        stall: args
            .stall_after
            .map_or(Stall::Never, |after| Stall::At(Box::pin(sleep(after)))),
    };
    let heartbeat_file = worker
        .printer
        .heartbeat
        .as_ref()
        .map_or_else(|| "none".into(), |h| h.path().to_string_lossy());
    tracing::info!(
        text = args.message.as_str(),
        interval = %values::display(args.interval),
        count = args.count,
        shutdown_delay = %values::display(args.shutdown_delay),
        signals = %args.signals,
        heartbeat_file = %Shown(&heartbeat_file),
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

    // Signals first: a blocked stdout gives the runtime control every 10 ms, and then the
    // signal wins over another attempt at the line.
    let signal = tokio::select! {
        biased;
        signal = signals.recv() => signal,
        ended = worker.work() => return Ok(worker.ended(ended)),
    };
    tracing::info!(
        signal = signal.name(),
        lines = worker.printer.lines.written(),
        uptime = %values::display_rounded(started.elapsed()),
        "received {}, shutting down gracefully",
        signal.name()
    );
    if args.shutdown_delay.is_zero() {
        return Ok(worker.finish(0, "stopped gracefully"));
    }

    // Draining: keep working for the grace we were asked to take, but let a second signal cut it
    // short, the way a person pressing Ctrl-C twice expects.
    tracing::info!(
        drain = %values::display(args.shutdown_delay),
        "draining before exit"
    );
    Ok(tokio::select! {
        biased;
        second = signals.recv() => {
            tracing::warn!(signal = second.name(), "second {} during the drain", second.name());
            worker.finish(second.exit_code(), "stopped by a second signal")
        }
        () = sleep(args.shutdown_delay) => worker.finish(0, "drained, stopped gracefully"),
        ended = worker.work() => worker.ended(ended),
    })
}
