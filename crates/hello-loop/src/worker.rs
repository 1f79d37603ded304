//! The work between signals: a line every tick (the message, or what `--fetch` brought), a
//! heartbeat after each, `--leak`'s memory after each, and `--stall-after`'s stop.

use std::future::pending;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::Duration;

use hello_core::exit::{finish, output_failed};
use hello_core::heartbeat::Heartbeat;
use hello_core::logging::Shown;
use hello_core::output::{MessageLines, OutputError};
use tokio::time::{interval, Interval, MissedTickBehavior, Sleep};

use crate::fetch::Fetcher;
use crate::leak::Leak;

/// Why the work ended without a signal.
pub enum Ended {
    Count,
    Output(OutputError),
}

/// The first tick fires at once; a late tick is not made up for with a burst of lines.
pub fn ticks(period: Duration) -> Interval {
    let mut ticks = interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticks
}

/// Lines and heartbeats, one per tick.
pub struct Printer {
    pub lines: MessageLines,
    /// `--fetch`: each line is what a request brought, not the message.
    pub fetch: Option<Fetcher>,
    pub leak: Option<Leak>,
    pub heartbeat: Option<Heartbeat>,
    /// Whether the last beat failed: said once when it starts failing, once when it recovers.
    pub heartbeat_failing: bool,
    pub count: Option<u64>,
    pub ticks: Interval,
}

impl Printer {
    /// Prints a line every tick until the count is reached or stdout fails. Cancel-safe: a line
    /// half written when this is dropped is resumed by the next call, without waiting for a tick
    /// (a request cut short is dropped, and not counted).
    async fn print(&mut self) -> Ended {
        loop {
            if !self.lines.in_progress() {
                self.ticks.tick().await;
                if let Some(fetcher) = &mut self.fetch {
                    let line = fetcher.fetch().await;
                    self.lines.set(&line);
                }
            }
            if let Err(err) = self.lines.write().await {
                return Ended::Output(err);
            }
            self.beat();
            if let Some(leak) = &mut self.leak {
                leak.grow();
            }
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
pub struct Worker {
    pub printer: Printer,
    pub stall: Stall,
}

/// `--stall-after`: a worker stuck on a lock, on purpose.
pub enum Stall {
    Never,
    At(Pin<Box<Sleep>>),
    Begun,
}

impl Worker {
    /// Prints until the count is reached or stdout fails; once the stall begins, prints nothing
    /// more and waits (only a signal or a deadline ends that).
    pub async fn work(&mut self) -> Ended {
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
    pub fn finish(&mut self, code: u8, reason: &str) -> ExitCode {
        self.printer.lines.drop_unfinished();
        self.report();
        finish(code, reason)
    }

    pub fn ended(&mut self, ended: Ended) -> ExitCode {
        self.report();
        match ended {
            Ended::Count => finish(0, "printed every line asked for"),
            Ended::Output(err) => output_failed(&err, &self.printer.lines),
        }
    }

    /// `--fetch`'s result, the last line before the exit's.
    fn report(&self) {
        if let Some(fetcher) = &self.printer.fetch {
            fetcher.report();
        }
    }
}
