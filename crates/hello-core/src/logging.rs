//! Lifecycle logs go to stderr through tracing, so stdout carries nothing but the message lines.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};

use tracing_subscriber::filter::{LevelFilter, Targets};

use crate::bounded::{self, BestEffortStderr};
use crate::values;
use tracing_subscriber::fmt;
use tracing_subscriber::prelude::*;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines
    Text,
    /// One JSON object per line
    Json,
}

const RUST_LOG_FORM: &str =
    "expected a level (off, error, warn, info, debug, trace) or target=level pairs separated by commas";

/// The log format, once it is known: 0 before [`init`], then 1 (text) or 2 (JSON). [`Shown`]
/// escapes unless it is JSON; [`refusal`] writes JSON when it is.
static FORMAT: AtomicU8 = AtomicU8::new(0);
const JSON: u8 = 2;

/// A value from outside (a path) as a log field: escaped in text logs ([`values::one_line`]),
/// where a newline would end the line and let the rest pose as a log line of its own; as it is
/// in JSON, whose strings escape it themselves.
pub struct Shown<'a>(pub &'a str);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if FORMAT.load(Ordering::Relaxed) == JSON {
            f.write_str(self.0)
        } else {
            f.write_str(&values::one_line(self.0))
        }
    }
}

/// Writes the line refusing the input: as it is (the caller has made it one line) while the logs
/// are text or their format is not known yet (the command line itself was refused), and as one
/// JSON object like the other exit lines (`"message":"exiting"`, the code, the line as its
/// reason) once the logs are JSON. Never filtered: whatever `RUST_LOG` says, a refusal is said.
pub fn refusal(line: &str, code: u8) {
    if FORMAT.load(Ordering::Relaxed) != JSON {
        bounded::stderr_line(line);
        return;
    }
    let everything = Targets::new().with_default(LevelFilter::TRACE);
    tracing::subscriber::with_default(json_subscriber(everything), || {
        tracing::error!(code, reason = line, "exiting");
    });
}

/// The subscriber for JSON logs: one object per line, fields flattened, no spans.
fn json_subscriber(filter: Targets) -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::registry().with(filter).with(
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(|| BestEffortStderr)
            .with_ansi(false),
    )
}

/// Installs the global subscriber. Fails with a one-line reason when `RUST_LOG` is not understood.
/// `program` is the program's name (`hello-loop`); its crate (`hello_loop`) is a target for
/// `RUST_LOG`.
pub fn init(program: &str, format: LogFormat) -> Result<(), String> {
    let program = program.replace('-', "_");
    let program = program.as_str();
    let known = match format {
        LogFormat::Text => 1,
        LogFormat::Json => JSON,
    };
    FORMAT.store(known, Ordering::Relaxed);
    let filter = match std::env::var_os("RUST_LOG") {
        None => filter_from(program, None)?,
        Some(value) => filter_from(
            program,
            Some(value.to_str().ok_or_else(|| {
                format!(
                    "invalid value '{}' for RUST_LOG: not valid UTF-8; {RUST_LOG_FORM}",
                    value.to_string_lossy()
                )
            })?),
        )?,
    };
    match format {
        LogFormat::Text => {
            // tracing-subscriber does not look at the terminal itself: colour only for a person
            // watching.
            let ansi = std::io::stderr().is_terminal() && !no_color();
            tracing_subscriber::registry()
                .with(filter)
                .with(
                    fmt::layer()
                        .with_writer(|| BestEffortStderr)
                        .with_ansi(ansi)
                        .with_target(false),
                )
                .init();
        }
        LogFormat::Json => {
            // Set once, at start: nothing else can have set one.
            let _ = tracing::subscriber::set_global_default(json_subscriber(filter));
        }
    }
    Ok(())
}

/// https://no-color.org: set and not empty means no colour.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// The modules of this crate, each a target its lines are logged under (`hello_core::exit`).
const CORE_MODULES: [&str; 8] = [
    "bounded",
    "cli",
    "exit",
    "heartbeat",
    "logging",
    "output",
    "shutdown",
    "values",
];

/// The filter `RUST_LOG` asks for, in `program`'s terms (`hello_loop`: its crate, whose name is
/// a target). Its lines are logged under that target and under `hello_core` (the exit line, a
/// dropped line, a failed set-up), so a level given to the program's target is given to
/// `hello_core` too, unless `hello_core` gets its own.
fn filter_from(program: &str, rust_log: Option<&str>) -> Result<Targets, String> {
    let invalid = |value: &str, why: &str| {
        format!(
            "invalid value '{value}' for RUST_LOG: {why}{RUST_LOG_FORM}, the targets being \
             {program}, hello_core or hello_core::MODULE"
        )
    };
    let value = match rust_log.map(str::trim) {
        None | Some("") => return Ok(Targets::new().with_default(LevelFilter::INFO)),
        Some(value) => value,
    };
    // Checked directive by directive: tracing-subscriber would take a bare word, an empty
    // directive (`,`), `=`, `[span]=info` or a misspelt target as a target name and silently
    // hide every log line, the exit line included.
    let mut targets = Targets::new();
    let mut program_level = None;
    let mut core_given = false;
    let mut any = false;
    for directive in value.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let (target, level) = match directive.split_once('=') {
            Some((target, level)) => (Some(target.trim()), level.trim()),
            None => (None, directive),
        };
        let level = level
            .parse::<LevelFilter>()
            .map_err(|_| invalid(value, ""))?;
        targets = match target {
            None => targets.with_default(level),
            Some(t) if !is_target(t) => return Err(invalid(value, "")),
            Some(t) if is_ours(program, t) => {
                if t == program {
                    program_level = Some(level);
                }
                core_given |= t == "hello_core";
                targets.with_target(t, level)
            }
            Some(t) => return Err(invalid(value, &format!("no target '{t}' here; "))),
        };
        any = true;
    }
    if !any {
        return Err(invalid(value, ""));
    }
    Ok(match program_level {
        Some(level) if !core_given => targets.with_target("hello_core", level),
        _ => targets,
    })
}

/// A target this program logs under: its own crate, `hello_core`, or one of its modules.
fn is_ours(program: &str, target: &str) -> bool {
    target == program
        || target == "hello_core"
        || target
            .strip_prefix("hello_core::")
            .is_some_and(|module| CORE_MODULES.contains(&module))
}

/// A Rust module path such as `hello_loop` or `hello_core::exit`.
fn is_target(text: &str) -> bool {
    !text.is_empty()
        && text.split("::").all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_levels_and_directives() {
        let info = filter_from("hello_loop", None).unwrap();
        assert_eq!(info.default_level(), Some(LevelFilter::INFO));
        let debug = filter_from("hello_loop", Some("DEBUG")).unwrap();
        assert_eq!(debug.default_level(), Some(LevelFilter::DEBUG));
        let mixed = filter_from("hello_loop", Some("warn,hello_loop=trace")).unwrap();
        assert!(mixed.would_enable("hello_loop", &tracing::Level::TRACE));
        assert!(mixed.would_enable("hello_core::exit", &tracing::Level::TRACE));
        assert!(!mixed.would_enable("other", &tracing::Level::INFO));
        let own_core = filter_from("hello_loop", Some("hello_loop=trace,hello_core=warn")).unwrap();
        assert!(!own_core.would_enable("hello_core::exit", &tracing::Level::INFO));
    }

    #[test]
    fn rust_log_rejects_words_that_are_not_levels() {
        let err = filter_from("hello_loop", Some("verbose")).unwrap_err();
        assert!(
            err.contains("RUST_LOG") && err.contains("expected a level"),
            "{err}"
        );
        for hides_everything in [
            "hello_loop=loud",
            ",",
            "=",
            "=info",
            "[span]=info",
            "a:b=info",
            "hello_lop=debug",
            "hello_core::nothing=info",
        ] {
            assert!(
                filter_from("hello_loop", Some(hides_everything)).is_err(),
                "{hides_everything:?}"
            );
        }
    }

    #[test]
    fn core_modules_are_this_crates_modules() {
        let modules: Vec<&str> = include_str!("lib.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("pub mod "))
            .map(|rest| rest.trim_end_matches(';'))
            .collect();
        assert_eq!(modules, CORE_MODULES);
    }
}
