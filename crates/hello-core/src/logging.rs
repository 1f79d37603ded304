//! Lifecycle logs go to stderr through tracing, so stdout carries nothing but the message lines.

use std::io::IsTerminal;

use tracing_subscriber::filter::{LevelFilter, Targets};
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

/// Installs the global subscriber. Fails with a one-line reason when `RUST_LOG` is not understood.
pub fn init(format: LogFormat) -> Result<(), String> {
    let filter = filter_from(std::env::var("RUST_LOG").ok().as_deref())?;
    // tracing-subscriber does not look at the terminal itself: colour only for a person watching.
    let ansi = format == LogFormat::Text && std::io::stderr().is_terminal() && !no_color();
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Text => registry
            .with(
                fmt::layer()
                    .with_writer(std::io::stderr)
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
                    .with_writer(std::io::stderr)
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
    match rust_log.map(str::trim) {
        None | Some("") => Ok(Targets::new().with_default(LevelFilter::INFO)),
        // A bare word would otherwise be taken as a target name and silently hide every log.
        Some(value) if !value.contains(['=', ',']) => value
            .parse::<LevelFilter>()
            .map(|level| Targets::new().with_default(level))
            .map_err(|_| invalid(value)),
        Some(value) => value.parse::<Targets>().map_err(|_| invalid(value)),
    }
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
        assert!(filter_from(Some("hello_loop=loud")).is_err());
    }
}
