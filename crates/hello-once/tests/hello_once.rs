//! hello-once, run as built: output, exit codes, precedence, refused input and signals, directly
//! and as PID 1 of a new PID namespace.

use std::time::{Duration, Instant};

use hello_testkit::{
    assert_all_refused, assert_help_and_version, run, run_as_stranger, BadInput, Running, PROMPTLY,
    SIGINT, SIGTERM,
};

const BIN: &str = env!("CARGO_BIN_EXE_hello-once");

#[test]
fn prints_exactly_the_greeting_and_exits_0_with_an_empty_environment() {
    let done = run(BIN, &[], &[]);
    assert_eq!(done.code(), Some(0), "{done:?}");
    assert_eq!(done.stdout, "Hello, World!\n");
    assert!(done.stderr.contains("starting"), "{}", done.stderr);
    assert!(done.stderr.contains("exiting code=0"), "{}", done.stderr);
}

#[test]
fn message_from_flag_or_variable_and_the_flag_wins() {
    assert_eq!(run(BIN, &["--message", "hi"], &[]).stdout, "hi\n");
    assert_eq!(
        run(BIN, &[], &[("HELLO_MESSAGE", "from env")]).stdout,
        "from env\n"
    );
    let both = run(BIN, &["--message=flag"], &[("HELLO_MESSAGE", "env")]);
    assert_eq!(both.stdout, "flag\n");
    assert_eq!(run(BIN, &["--message", "-dash"], &[]).stdout, "-dash\n");
}

#[test]
fn exit_code_from_flag_or_variable_and_the_flag_wins() {
    assert_eq!(run(BIN, &["--exit-code", "3"], &[]).code(), Some(3));
    assert_eq!(run(BIN, &[], &[("HELLO_EXIT_CODE", "42")]).code(), Some(42));
    assert_eq!(run(BIN, &["--exit-code=255"], &[]).code(), Some(255));
    let both = run(BIN, &["--exit-code", "0"], &[("HELLO_EXIT_CODE", "9")]);
    assert_eq!(both.code(), Some(0));
    assert_eq!(both.stdout, "Hello, World!\n", "a failing run still prints");
}

#[test]
fn refuses_bad_input_with_one_line_and_status_2() {
    let exit_code = ["--exit-code / HELLO_EXIT_CODE", "0 to 255"];
    let delay = ["--delay / HELLO_DELAY", "like 2s, 500ms or 1m30s"];
    let cases: &[BadInput] = &[
        (&["--exit-code", "256"], &[], &exit_code),
        (&["--exit-code", "-1"], &[], &exit_code),
        (&["--exit-code=abc"], &[], &exit_code),
        (&[], &[("HELLO_EXIT_CODE", "256")], &exit_code),
        (&[], &[("HELLO_EXIT_CODE", "-3")], &exit_code),
        (&["--delay", "soon"], &[], &delay),
        (
            &["--delay", "-5s"],
            &[],
            &["negative", "--delay / HELLO_DELAY"],
        ),
        (
            &["--delay", "1000000h"],
            &[],
            &["too long", "--delay / HELLO_DELAY"],
        ),
        (&[], &[("HELLO_DELAY", "1x")], &delay),
        (&["--frobnicate"], &[], &["'--frobnicate'", "--help"]),
        (&["extra"], &[], &["'extra'"]),
        (
            &[],
            &[("HELLO_LOG_FORMAT", "xml")],
            &["HELLO_LOG_FORMAT", "text, json"],
        ),
        (
            &[],
            &[("RUST_LOG", "loud")],
            &["RUST_LOG", "expected a level"],
        ),
    ];
    assert_all_refused(BIN, cases);
}

#[test]
fn help_and_version_go_to_stdout_with_status_0() {
    let version = env!("CARGO_PKG_VERSION");
    assert_help_and_version(
        BIN,
        "hello-once",
        version,
        &[
            "--message",
            "--exit-code",
            "--delay",
            "HELLO_DELAY",
            "--log-format",
        ],
    );
}

#[test]
fn delay_keeps_running_then_exits_with_the_chosen_code() {
    let started = Instant::now();
    let done = run(BIN, &["--delay", "300ms", "--exit-code", "4"], &[]);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(done.code(), Some(4));
    assert_eq!(done.stdout, "Hello, World!\n");
    assert!(done.stderr.contains("delay over"), "{}", done.stderr);
}

fn signal_during_delay(running: Running, signal: i32, code: i32, name: &str) {
    assert_eq!(running.next_line(PROMPTLY), "Hello, World!");
    running.signal(signal);
    let done = running.wait(PROMPTLY);
    assert_eq!(done.code(), Some(code), "{done:?}");
    assert!(
        done.stderr
            .contains(&format!("received {name} during the delay")),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains(&format!("exiting code={code}")),
        "{}",
        done.stderr
    );
}

#[test]
fn sigterm_and_sigint_end_the_delay_at_once_with_143_and_130() {
    // An hour-long delay: only the signal can end these runs within the test's bounds.
    signal_during_delay(
        Running::spawn(BIN, &["--delay", "1h"], &[]),
        SIGTERM,
        143,
        "SIGTERM",
    );
    let env = [("HELLO_DELAY", "1h")];
    signal_during_delay(Running::spawn(BIN, &[], &env), SIGINT, 130, "SIGINT");
}

#[test]
fn as_pid1_sigterm_and_sigint_end_the_delay_with_143_and_130() {
    for (signal, code, name) in [(SIGTERM, 143, "SIGTERM"), (SIGINT, 130, "SIGINT")] {
        let Some(running) = Running::spawn_as_pid1(BIN, &["--delay", "1h"], &[]) else {
            return;
        };
        running.wait_for_log("pid=1\n", PROMPTLY);
        signal_during_delay(running, signal, code, name);
    }
}

#[test]
fn json_logs_are_one_object_per_line() {
    let done = run(BIN, &["--log-format", "json"], &[]);
    assert_eq!(done.stdout, "Hello, World!\n");
    let lines: Vec<&str> = done.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", done.stderr);
    for line in lines {
        assert!(line.starts_with('{') && line.ends_with('}'), "{line}");
        assert!(line.contains(r#""level":"INFO""#), "{line}");
    }
    assert!(done.stderr.contains(r#""message":"starting""#));
    assert!(
        done.stderr.contains(r#""text":"\"Hello, World!\"""#),
        "{}",
        done.stderr
    );
}

#[test]
fn rust_log_sets_the_level_and_pipes_get_no_colour() {
    let quiet = run(BIN, &[], &[("RUST_LOG", "warn")]);
    assert_eq!(quiet.stdout, "Hello, World!\n");
    assert_eq!(quiet.stderr, "");
    let piped = run(BIN, &[], &[]);
    assert!(
        !piped.stderr.contains('\x1b'),
        "no ANSI on a pipe: {:?}",
        piped.stderr
    );
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    // util-linux `script` gives the program a pseudo-terminal, as an interactive shell would.
    if !std::path::Path::new("/usr/bin/script").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs util-linux's script"
        );
        eprintln!("skipped: no /usr/bin/script");
        return;
    }
    let on_tty = |env: &[(&str, &str)]| run("/usr/bin/script", &["-qec", BIN, "/dev/null"], env);
    assert!(
        on_tty(&[("TERM", "xterm")]).stdout.contains("\x1b["),
        "colour on a terminal"
    );
    let no_color = on_tty(&[("TERM", "xterm"), ("NO_COLOR", "1")]);
    assert!(no_color.stdout.contains("Hello, World!"));
    assert!(
        !no_color.stdout.contains("\x1b["),
        "NO_COLOR honoured: {:?}",
        no_color.stdout
    );
}

#[test]
fn a_full_disk_is_one_error_line_and_status_1() {
    let full = std::fs::File::create("/dev/full").expect("/dev/full");
    let done = std::process::Command::new(BIN)
        .env_clear()
        .stdout(full)
        .output()
        .expect("run");
    assert_eq!(done.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&done.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("No space left on device"), "{stderr}");
}

#[test]
fn runs_as_a_uid_without_a_passwd_entry() {
    let Some(done) = run_as_stranger(BIN, &[]) else {
        return;
    };
    assert_eq!(done.code(), Some(0), "{done:?}");
    assert_eq!(done.stdout, "Hello, World!\n");
}
