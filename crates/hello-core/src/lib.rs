//! What `hello-once` and `hello-loop` share, so that each `main` stays a few lines long:
//! argument parsing with one-line errors ([`cli`]), duration and number parsing ([`values`]),
//! logging to stderr ([`logging`]), writing lines to stdout ([`output`]), signals and the
//! single-threaded runtime ([`shutdown`]) and the exit path ([`exit`]).

pub mod cli;
pub mod exit;
pub mod logging;
pub mod output;
pub mod shutdown;
pub mod values;
