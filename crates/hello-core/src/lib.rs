//! What `hello-once` and `hello-loop` share, so that each `main` stays a few lines long:
//! argument parsing with one-line errors ([`cli`]), duration and number parsing ([`values`]),
//! logging to stderr ([`logging`]), writing lines to stdout ([`output`]), signals and the
//! single-threaded runtime ([`shutdown`]), the exit path ([`exit`]) and the liveness heartbeat
//! ([`heartbeat`]).

pub mod bounded;
pub mod cli;
pub mod exit;
pub mod heartbeat;
pub mod logging;
pub mod output;
pub mod shutdown;
pub mod values;
