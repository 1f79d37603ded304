//! hello-loop: print a line every interval until stopped. The long-running process a Deployment
//! expects, and one that stops the moment Kubernetes asks it to.

use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use hello_core::bounded;
use hello_core::cli::{self, LogArgs, Program, DEFAULT_MESSAGE};
use hello_core::heartbeat::{self, Heartbeat};
use hello_core::logging::Shown;
use hello_core::output::MessageLines;
use hello_core::shutdown::{run, SignalMode, StopSignals};
use hello_core::values;
use tokio::time::sleep;

mod fetch;
mod leak;
mod serve;
mod worker;

use fetch::Fetcher;
use leak::Leak;
use serve::Server;
use worker::{ticks, Printer, Stall, Worker};

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

    /// After the first SIGTERM/SIGINT, keep working (and serving, /readyz answering 503) this
    /// long, then exit 0; a listener first stops accepting and gives requests in flight up to 5s
    /// (a second signal exits at once with 128+signal)
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

    /// Serve HTTP/1.1 here: GET / answers the message, /readyz 200 (503 from the first SIGTERM
    /// on), /livez the heartbeat's verdict [default: no listener]
    #[arg(long, env = "HELLO_LISTEN", value_name = "IP:PORT", value_parser = serve::addr,
          allow_hyphen_values = true)]
    listen: Option<SocketAddr>,

    /// Print, instead of the message, what a GET of this http:// URL answers (the body's first
    /// line, or `error: <reason>`), a new connection every interval, each within 2s
    /// [default: no requests]
    #[arg(long, env = "HELLO_FETCH", value_name = "URL", value_parser = fetch::url,
          allow_hyphen_values = true)]
    fetch: Option<fetch::Target>,

    /// After every line, allocate this much more memory and keep it: N bytes, or NKi, NMi,
    /// NGi, from 1 to 1Gi (memory grows until a limit stops it) [default: no leak]
    #[arg(long, env = "HELLO_LEAK", value_name = "SIZE", value_parser = leak::size,
          allow_hyphen_values = true)]
    leak: Option<u64>,

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
    // Bound before anything else is done: a port in use is bad input, refused with nothing begun.
    let listener = args
        .listen
        .map(|addr| serve::bind(addr).unwrap_or_else(|line| cli::refuse(&line)));
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
    run(print_until_stopped(args, heartbeat, listener))
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

/// The whole life of the program: work (and serve) until a signal or the count, drain if asked,
/// stop serving, exit.
async fn print_until_stopped(
    args: Args,
    heartbeat: Option<Heartbeat>,
    listener: Option<TcpListener>,
) -> std::io::Result<ExitCode> {
    let started = Instant::now();
    let mut signals = StopSignals::install(args.signals)?;
    // Timers need the runtime, so the worker is made here.
    let mut worker = Worker {
        printer: Printer {
            lines: MessageLines::new(&args.message),
            fetch: args.fetch.clone().map(Fetcher::new),
            leak: args.leak.map(Leak::new),
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
        // Only when set (as the count), after the fields every sample of this line shows.
        listen = args.listen.map(tracing::field::display),
        fetch = args.fetch.as_ref().map(tracing::field::display),
        leak_bytes = args.leak,
        "starting"
    );
    if args.signals == SignalMode::Ignore {
        tracing::warn!(
            "no signal handlers installed: as PID 1, SIGTERM and SIGINT are ignored and only \
             SIGKILL stops this process"
        );
    }
    let mut server = match listener {
        Some(listener) => Some(Server::start(
            listener,
            &args.message,
            args.heartbeat_path().map(Path::to_path_buf),
            heartbeat::default_max_age(args.interval),
        )?),
        None => None,
    };

    // Signals first: a blocked stdout gives the runtime control every 10 ms, and then the
    // signal wins over another attempt at the line.
    let signal = tokio::select! {
        biased;
        signal = signals.recv() => signal,
        ended = worker.work() => return Ok(worker.ended(ended)),
    };
    if let Some(server) = &mut server {
        // Before anything is logged (a blocked stderr takes 10 ms a line): the Service's next
        // readiness probe must see it.
        server.not_ready();
    }
    tracing::info!(
        signal = signal.name(),
        lines = worker.printer.lines.written(),
        uptime = %values::display_rounded(started.elapsed()),
        "received {}, shutting down gracefully",
        signal.name()
    );
    if server.is_some() {
        tracing::info!("readiness flipped to not ready: /readyz answers 503");
    }
    if args.shutdown_delay.is_zero() {
        return Ok(stop_serving(server, &mut signals, &mut worker, "stopped gracefully").await);
    }

    // Draining: keep working (and serving) for the grace we were asked to take, but let a second
    // signal cut it short, the way a person pressing Ctrl-C twice expects.
    tracing::info!(
        drain = %values::display(args.shutdown_delay),
        "draining before exit"
    );
    tokio::select! {
        biased;
        second = signals.recv() => return Ok(second_signal(second, &mut worker)),
        () = sleep(args.shutdown_delay) => {}
        ended = worker.work() => return Ok(worker.ended(ended)),
    }
    Ok(stop_serving(
        server,
        &mut signals,
        &mut worker,
        "drained, stopped gracefully",
    )
    .await)
}

/// The end of a graceful stop: the listener closed and the requests in flight finished (at most
/// serve::IN_FLIGHT_GRACE), then exit 0; a second signal meanwhile still exits at once.
async fn stop_serving(
    server: Option<Server>,
    signals: &mut StopSignals,
    worker: &mut Worker,
    reason: &str,
) -> ExitCode {
    if let Some(server) = server {
        tokio::select! {
            biased;
            second = signals.recv() => return second_signal(second, worker),
            () = server.close() => {}
        }
    }
    worker.finish(0, reason)
}

fn second_signal(second: hello_core::shutdown::Signal, worker: &mut Worker) -> ExitCode {
    tracing::warn!(
        signal = second.name(),
        "second {} during the drain",
        second.name()
    );
    worker.finish(second.exit_code(), "stopped by a second signal")
}
