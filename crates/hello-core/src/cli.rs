//! Command-line parsing shared by both programs: clap does the parsing; we turn its multi-line
//! errors into the one line a user (or a Kubernetes event) should see, and exit 2.

use std::os::fd::AsFd;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, Command, Parser};

use crate::bounded;
use crate::exit::{BAD_INPUT, OUTPUT_FAILED};
use crate::logging::{self, LogFormat};
use crate::values;

/// The greeting both programs print unless told otherwise.
pub const DEFAULT_MESSAGE: &str = "Hello, World!";

/// Options every program takes.
#[derive(Args, Debug, Clone)]
pub struct LogArgs {
    /// Log format on stderr (RUST_LOG sets the level, default info)
    #[arg(long, env = "HELLO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// A program built on this crate: its clap arguments, including [`LogArgs`].
pub trait Program: Parser {
    fn log_args(&self) -> &LogArgs;
}

/// Parses the command line and environment and sets up logging, or exits: 0 for `--help` and
/// `--version`, 2 with one line on stderr for anything invalid. Nothing is printed on stdout
/// before the input is known to be good.
pub fn start<P: Program>() -> P {
    let command = P::command();
    let program = P::try_parse().unwrap_or_else(|err| {
        if !err.use_stderr() {
            print_and_exit(command.get_name(), &err.render().to_string()) // --help, --version
        }
        refuse(&error_line(&command, &err))
    });
    if let Err(reason) = logging::init(command.get_name(), program.log_args().log_format) {
        refuse(&format!("{}: {reason}", command.get_name()));
    }
    program
}

/// Prints `--help` or `--version` and exits as any write to stdout ends: 0 once it is written, or
/// when the reader went away (a broken pipe); 1, with one line on stderr, when stdout cannot take
/// it (a full disk, a read-only descriptor). clap's own `exit()` ignores a failed write and
/// exits 0.
fn print_and_exit(program: &str, text: &str) -> ! {
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        match bounded::write_bounded(std::io::stdout().as_fd(), rest) {
            Ok(taken) => rest = &rest[taken..],
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => break,
            Err(err) => {
                bounded::stderr_line(&format!("{program}: cannot write to stdout: {err}"));
                std::process::exit(OUTPUT_FAILED.into())
            }
        }
    }
    std::process::exit(0)
}

/// Refuses the input: the line on stderr (if stderr takes it; a JSON object once the logs are
/// JSON, [`logging::refusal`]), status 2 in any case. Whatever the line quotes from outside is
/// escaped ([`values::one_line`]), so it stays one line.
pub fn refuse(line: &str) -> ! {
    logging::refusal(&values::one_line(line), BAD_INPUT);
    std::process::exit(BAD_INPUT.into())
}

/// The single line to print for a refused input: the flag and its variable, the value, and the
/// accepted form.
pub fn error_line(command: &Command, err: &clap::Error) -> String {
    let program = command.get_name();
    let context = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join(", ")),
        _ => None,
    };
    let arg = context(ContextKind::InvalidArg).map(|arg| with_env_name(command, &arg));
    let value = context(ContextKind::InvalidValue);
    match (err.kind(), arg, value) {
        (ErrorKind::ValueValidation, Some(arg), Some(value)) => {
            let reason = std::error::Error::source(err)
                .map(ToString::to_string)
                .unwrap_or_else(|| "not accepted".into());
            format!("{program}: invalid value '{value}' for {arg}: {reason}")
        }
        (ErrorKind::InvalidValue, Some(arg), Some(value)) => {
            // clap lists the possible values of an enum; for the others the list is empty.
            let valid = context(ContextKind::ValidValue).filter(|valid| !valid.is_empty());
            match valid {
                _ if value.is_empty() => {
                    let flag = arg.split(" / ").next().unwrap_or(&arg);
                    let form = valid.map_or_else(
                        || accepted_form(command, flag),
                        |valid| format!("expected one of {valid}"),
                    );
                    format!("{program}: a value is required for {arg}; {form}")
                }
                Some(valid) => {
                    format!("{program}: invalid value '{value}' for {arg}: expected one of {valid}")
                }
                None => format!("{program}: invalid value '{value}' for {arg}: not accepted"),
            }
        }
        (ErrorKind::InvalidUtf8, _, _) => match not_utf8(command) {
            Some((arg, value)) => format!(
                "{program}: invalid value '{value}' for {arg}: not valid UTF-8; expected UTF-8 text"
            ),
            None => format!("{program}: an argument or variable is not valid UTF-8"),
        },
        _ => {
            // clap's own message, quoting what was given as it is: escape those quotes first, or
            // a newline in them would cut the line short.
            let mut rendered = err.render().to_string();
            for kind in [
                ContextKind::InvalidArg,
                ContextKind::InvalidSubcommand,
                ContextKind::InvalidValue,
            ] {
                if let Some(ContextValue::String(raw)) = err.get(kind) {
                    rendered = rendered.replace(raw.as_str(), &values::one_line(raw));
                }
            }
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            format!("{program}: {first}; see '{program} --help' for the accepted flags")
        }
    }
}

/// What `flag` accepts, for a flag given without a value: what its parser says of an empty value
/// (each of ours names the form it expects; clap does not let us call it directly, so the command
/// is parsed again with `flag=`), or the flag and its value's name when anything goes (a message,
/// a path).
fn accepted_form(command: &Command, flag: &str) -> String {
    let long = flag.trim_start_matches('-');
    let Some((path, arg)) = find_arg(command, long) else {
        return format!("expected a value after {flag}");
    };
    let mut argv: Vec<String> = vec![command.get_name().to_string()];
    argv.extend(path.iter().map(ToString::to_string));
    argv.push(format!("{flag}="));
    let said = command
        .clone()
        .try_get_matches_from(argv)
        .err()
        .filter(|err| {
            matches!(err.get(ContextKind::InvalidArg), Some(ContextValue::String(a))
                if a.split_whitespace().next() == Some(flag))
        })
        .and_then(|err| std::error::Error::source(&err).map(ToString::to_string));
    match said {
        Some(reason) => match reason.find("expected") {
            Some(at) => reason[at..].to_string(),
            None => reason,
        },
        None => {
            let name = arg
                .get_value_names()
                .and_then(|names| names.first())
                .map_or_else(
                    || arg.get_id().as_str().to_uppercase(),
                    |name| name.as_str().to_string(),
                );
            format!("expected {flag} <{name}>")
        }
    }
}

/// The argument with this long name, in the command or one of its subcommands, and the names of
/// the subcommands that lead to it.
fn find_arg<'a>(command: &'a Command, long: &str) -> Option<(Vec<&'a str>, &'a clap::Arg)> {
    if let Some(arg) = command.get_arguments().find(|a| a.get_long() == Some(long)) {
        return Some((Vec::new(), arg));
    }
    command.get_subcommands().find_map(|sub| {
        let (mut path, arg) = find_arg(sub, long)?;
        path.insert(0, sub.get_name());
        Some((path, arg))
    })
}

/// Which flag or variable holds text that is not UTF-8 (clap's error does not say), and that text
/// as far as it can be shown: the command line first, then each variable a flag reads.
fn not_utf8(command: &Command) -> Option<(String, String)> {
    let mut previous: Option<std::ffi::OsString> = None;
    for arg in std::env::args_os().skip(1) {
        if arg.to_str().is_none() {
            let shown = arg.to_string_lossy().into_owned();
            // `--flag=value` or `--flag value`: name the flag and its variable.
            let (flag, value) = match shown.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => {
                    (Some(flag.to_string()), value.to_string())
                }
                _ => (
                    previous
                        .and_then(|p| p.into_string().ok())
                        .filter(|p| p.starts_with("--")),
                    shown,
                ),
            };
            let arg = flag.map_or_else(|| "an argument".into(), |f| with_env_name(command, &f));
            return Some((arg, value));
        }
        previous = Some(arg);
    }
    env_vars(command).into_iter().find_map(|(long, env)| {
        let value = std::env::var_os(&env)?;
        value.to_str().is_none().then(|| {
            (
                format!("--{long} / {env}"),
                value.to_string_lossy().into_owned(),
            )
        })
    })
}

/// Every (long flag, variable) pair of a command and its subcommands.
fn env_vars(command: &Command) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = command
        .get_arguments()
        .filter_map(|a| {
            Some((
                a.get_long()?.to_string(),
                a.get_env()?.to_string_lossy().into_owned(),
            ))
        })
        .collect();
    for sub in command.get_subcommands() {
        pairs.extend(env_vars(sub));
    }
    pairs
}

/// `--interval <DURATION>` becomes `--interval / HELLO_INTERVAL`: the value may have come from
/// either, and the user needs to know which two places to look.
fn with_env_name(command: &Command, arg: &str) -> String {
    let flag = arg.split_whitespace().next().unwrap_or(arg);
    let long = flag.trim_start_matches('-');
    find_env(command, long)
        .map(|env| format!("{flag} / {env}"))
        .unwrap_or_else(|| flag.to_string())
}

fn find_env(command: &Command, long: &str) -> Option<String> {
    find_arg(command, long)
        .and_then(|(_, a)| a.get_env())
        .map(|env| env.to_string_lossy().into_owned())
}
