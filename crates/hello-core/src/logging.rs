//! Lifecycle logs go to stderr through tracing, so stdout carries nothing but the message lines.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::filter::{LevelFilter, Targets};

use crate::bounded::BestEffortStderr;
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

/// Whether the logs are text (not JSON): [`Shown`] escapes only there.
static TEXT: AtomicBool = AtomicBool::new(true);

/// A value from outside (a path) as a log field: escaped in text logs ([`values::one_line`]),
/// where a newline would end the line and let the rest pose as a log line of its own; as it is
/// in JSON, whose strings escape it themselves.
pub struct Shown<'a>(pub &'a str);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if TEXT.load(Ordering::Relaxed) {
            f.write_str(&values::one_line(self.0))
        } else {
            f.write_str(self.0)
        }
    }
}

/// Installs the global subscriber. Fails with a one-line reason when `RUST_LOG` is not understood.
pub fn init(format: LogFormat) -> Result<(), String> {
    TEXT.store(format == LogFormat::Text, Ordering::Relaxed);
    let filter = match std::env::var_os("RUST_LOG") {
        None => filter_from(None)?,
        Some(value) => filter_from(Some(value.to_str().ok_or_else(|| {
            format!(
                "invalid value '{}' for RUST_LOG: not valid UTF-8; {RUST_LOG_FORM}",
                value.to_string_lossy()
            )
        })?))?,
    };
    // tracing-subscriber does not look at the terminal itself: colour only for a person watching.
    let ansi = format == LogFormat::Text && std::io::stderr().is_terminal() && !no_color();
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Text => registry
            .with(
                fmt::layer()
                    .with_writer(|| BestEffortStderr)
                    .with_ansi(ansi)
                    .with_target(false),
            )
            .init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false)
                    .with_writer(|| BestEffortStderr)
                    .with_ansi(false),
            )
            .init(),
    }
    Ok(())
}

/// https://no-color.org: set and not empty means no colour.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

fn filter_from(rust_log: Option<&str>) -> Result<Targets, String> {
    let invalid = |value: &str| format!("invalid value '{value}' for RUST_LOG: {RUST_LOG_FORM}");
    let value = match rust_log.map(str::trim) {
        None | Some("") => return Ok(Targets::new().with_default(LevelFilter::INFO)),
        Some(value) => value,
    };
    // Checked directive by directive: tracing-subscriber would take a bare word, an empty
    // directive (`,`), `=` or `[span]=info` as a target name and silently hide every log line,
    // the exit line included.
    let mut targets = Targets::new();
    let mut any = false;
    for directive in value.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let (target, level) = match directive.split_once('=') {
            Some((target, level)) => (Some(target.trim()), level.trim()),
            None => (None, directive),
        };
        let level = level.parse::<LevelFilter>().map_err(|_| invalid(value))?;
        targets = match target {
            None => targets.with_default(level),
            Some(t) if is_target(t) => targets.with_target(t, level),
            Some(_) => return Err(invalid(value)),
        };
        any = true;
    }
    if any {
        Ok(targets)
    } else {
        Err(invalid(value))
    }
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
        let info = filter_from(None).unwrap();
        assert_eq!(info.default_level(), Some(LevelFilter::INFO));
        let debug = filter_from(Some("DEBUG")).unwrap();
        assert_eq!(debug.default_level(), Some(LevelFilter::DEBUG));
        let mixed = filter_from(Some("warn,hello_loop=trace")).unwrap();
        assert!(mixed.would_enable("hello_loop", &tracing::Level::TRACE));
        assert!(!mixed.would_enable("other", &tracing::Level::INFO));
    }

    #[test]
    fn rust_log_rejects_words_that_are_not_levels() {
        let err = filter_from(Some("verbose")).unwrap_err();
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
        ] {
            assert!(
                filter_from(Some(hides_everything)).is_err(),
                "{hides_everything:?}"
            );
        }
    }
}
