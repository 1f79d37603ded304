//! hello-once, run as built: output, exit codes, precedence, refused input and signals, directly
//! and as PID 1 of a new PID namespace; or from its image (HELLO_TEST_IMAGE_ONCE, see
//! hello-testkit), where what cannot apply to a container skips, saying why.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use hello_testkit::{
    assert_all_refused, assert_bad_input, assert_help_and_version, early_sigterm_sweep_as_pid1,
    not_for_images, run, run_as_stranger, run_into_full_file, signal_and_time,
    spawn_blocked_on_stdout, spawn_on_full_stdout_masked, BadInput, Launch, Running, Streams,
    PROMPTLY, SIGALRM, SIGINT, SIGTERM,
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
fn json_logs_are_one_object_per_line_with_plain_values() {
    let done = run(BIN, &["--log-format", "json", "--exit-code", "3"], &[]);
    assert_eq!(done.stdout, "Hello, World!\n");
    let lines: Vec<serde_json::Value> = done
        .stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert_eq!(lines.len(), 2, "{}", done.stderr);
    let (start, exit) = (&lines[0], &lines[1]);
    assert_eq!(start["level"], "INFO");
    assert_eq!(start["message"], "starting");
    // The text itself, not its quoted Debug form; numbers as JSON numbers.
    assert_eq!(start["text"], "Hello, World!");
    assert_eq!(start["exit_code"], 3);
    assert!(start["pid"].is_u64(), "{start}");
    assert_eq!(exit["code"], 3);
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
    if not_for_images(BIN, "the terminal is script's, which runs the built binary") {
        return;
    }
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
    if not_for_images(
        BIN,
        "a container's stdout is the runtime's pipe, not /dev/full",
    ) {
        return;
    }
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

// ---- A stdout nobody reads: a signal still ends the run at once (issue 16, item 1).

/// See hello-loop's blocked_stdout tests: generous for a loaded CI machine, far from "forever".
const AT_ONCE: Duration = Duration::from_millis(500);

fn assert_blocked_line_dropped(args: &[&str], signal: i32, code: i32, as_pid1: bool) {
    let Some((running, pipe)) = spawn_blocked_on_stdout(BIN, args, as_pid1) else {
        return;
    };
    let (took, done) = signal_and_time(running, signal);
    assert!(took < AT_ONCE, "took {took:?}");
    assert_eq!(done.code(), Some(code), "{done:?}");
    assert!(
        done.stderr.contains("while stdout was blocked"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr
            .contains("stdout is blocked: the line being written is dropped"),
        "{}",
        done.stderr
    );
    assert!(pipe.is_blocking(), "the shared pipe was left non-blocking");
}

#[test]
fn a_signal_while_stdout_is_blocked_drops_the_line_and_exits_128_plus_signal() {
    // No delay: no runtime, but the handlers are there, so even PID 1 hears the signal.
    assert_blocked_line_dropped(&[], SIGTERM, 143, false);
    assert_blocked_line_dropped(&[], SIGTERM, 143, true);
    assert_blocked_line_dropped(&[], SIGINT, 130, true);
    // With a delay the line comes first, and the signal wins over it.
    assert_blocked_line_dropped(&["--delay", "1h"], SIGTERM, 143, true);
}

/// SIGTERM and SIGINT are handled from the start (issue 25, item 1): as PID 1, a SIGTERM that
/// comes while the "starting" line waits on a blocked stderr is not dropped by the kernel. Without
/// a delay stdout is blocked too; with one, the line is printed and the delay is what the signal
/// cuts short.
#[test]
fn as_pid1_sigterm_from_the_first_moment_with_stderr_blocked_exits_143_at_once() {
    for (args, stdout_blocked) in [(&[][..], true), (&["--delay", "1h"][..], false)] {
        early_sigterm_sweep_as_pid1(BIN, args, stdout_blocked, 143, AT_ONCE);
    }
}

// ---- stdout and stderr that cannot be written (items 6 and 8).

#[test]
fn a_read_only_stdout_is_an_error_not_a_silent_success() {
    let file = std::env::temp_dir().join(format!("hello-once-ro-{}", std::process::id()));
    std::fs::write(&file, "").unwrap();
    let streams = Streams {
        stdout: Some(std::fs::File::open(&file).unwrap().into()),
        stderr: None,
    };
    let Some(running) = Running::spawn_with(BIN, &[], &[], streams, false) else {
        return; // from an image, said why
    };
    let done = running.wait(PROMPTLY);
    assert_eq!(done.code(), Some(1), "{done:?}");
    assert!(
        done.stderr.contains("Bad file descriptor"),
        "{}",
        done.stderr
    );
    assert!(
        !done.stderr.contains("printed the message"),
        "{}",
        done.stderr
    );
    let _ = std::fs::remove_file(file);
}

#[test]
fn a_full_stderr_never_changes_the_exit_status() {
    for as_pid1 in [false, true] {
        for (args, code) in [
            (&["--bogus"][..], 2),
            (&[][..], 0),
            (&["--exit-code", "7"][..], 7),
        ] {
            let streams = Streams {
                stdout: None,
                stderr: Some(std::fs::File::create("/dev/full").unwrap().into()),
            };
            let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
            let Some(running) = Running::spawn_with(BIN, &args, &[], streams, as_pid1) else {
                return;
            };
            let done = running.wait(PROMPTLY);
            assert_eq!(
                done.code(),
                Some(code),
                "{args:?} as PID 1: {as_pid1}: {done:?}"
            );
        }
    }
}

// ---- Input that is not UTF-8, and RUST_LOG values that would hide every line (item 7).

#[test]
fn non_utf8_values_name_their_flag_and_variable() {
    // Found by running this against the image: docker run carries them as JSON strings, so the
    // program gets U+FFFD in place of each bad byte, valid UTF-8.
    if not_for_images(
        BIN,
        "the Docker API carries arguments and variables as UTF-8 text",
    ) {
        return;
    }
    let bad = OsStr::from_bytes(b"caf\xe9");
    type Case<'a> = (&'a [&'a OsStr], &'a [(&'a str, &'a OsStr)], &'a [&'a str]);
    let cases: [Case; 5] = [
        (
            &[],
            &[("HELLO_MESSAGE", bad)],
            &["--message / HELLO_MESSAGE", "UTF-8"],
        ),
        (
            &[],
            &[("HELLO_DELAY", bad)],
            &["--delay / HELLO_DELAY", "UTF-8"],
        ),
        (
            &[OsStr::new("--message"), bad],
            &[],
            &["--message / HELLO_MESSAGE"],
        ),
        (
            &[],
            &[("HELLO_EXIT_CODE", bad)],
            &["--exit-code / HELLO_EXIT_CODE"],
        ),
        (&[], &[("RUST_LOG", bad)], &["RUST_LOG", "not valid UTF-8"]),
    ];
    for (args, env, expect) in cases {
        let running = Running::spawn_with(BIN, args, env, Streams::default(), false).unwrap();
        assert_bad_input(&running.wait(PROMPTLY), expect);
    }
}

#[test]
fn rust_log_values_that_would_hide_every_line_are_refused() {
    for value in [",", "=", "=info", "[span]=info", " , "] {
        let refused = run(BIN, &[], &[("RUST_LOG", value)]);
        assert_bad_input(&refused, &["RUST_LOG", "expected a level"]);
    }
    let targeted = run(BIN, &[], &[("RUST_LOG", "warn,hello_core=info")]);
    assert!(targeted.stderr.contains("exiting code=0"), "{targeted:?}");
    // The program's own name covers all its lines, the exit line (from hello_core) included.
    let own = run(BIN, &[], &[("RUST_LOG", "hello_once=info")]);
    assert!(own.stderr.contains("INFO starting"), "{own:?}");
    assert!(own.stderr.contains("INFO exiting code=0"), "{own:?}");
    // A target that names nothing here would hide every line (issue 25, item 8).
    for value in ["hello_onc=debug", "hello_loop=debug", "warn,tokio=trace"] {
        let refused = run(BIN, &[], &[("RUST_LOG", value)]);
        assert_bad_input(&refused, &["RUST_LOG", "hello_once, hello_core"]);
    }
}

// ---- An inherited signal mask (issue 25, item 9).

/// Started with SIGTERM, SIGINT and SIGALRM blocked by its parent (the mask survives fork and
/// exec), the delay and a blocked stdout still end at once on SIGTERM, plainly and as PID 1.
#[test]
fn an_inherited_blocked_mask_does_not_defeat_the_stop() {
    for as_pid1 in [false, true] {
        let launch = Launch {
            as_pid1,
            blocked: vec![SIGTERM, SIGINT, SIGALRM],
            ..Launch::default()
        };
        let args = [OsStr::new("--delay"), OsStr::new("1h")];
        let Some(running) = Running::launch(BIN, &args, &[], launch) else {
            return;
        };
        signal_during_delay(running, SIGTERM, 143, "SIGTERM");

        let blocked = [SIGTERM, SIGALRM];
        let Some((running, _pipe)) = spawn_on_full_stdout_masked(BIN, &[], as_pid1, &blocked)
        else {
            return;
        };
        let (took, done) = signal_and_time(running, SIGTERM);
        assert_eq!(done.code(), Some(143), "as PID 1: {as_pid1}: {done:?}");
        assert!(took < AT_ONCE, "took {took:?}");
    }
}

// ---- One line, whatever the value holds (issue 25, item 8).

#[test]
fn values_with_a_newline_are_refused_in_one_line_and_shown_escaped() {
    let cases: &[BadInput] = &[
        (
            &["--delay", "x\ny"],
            &[],
            &["--delay / HELLO_DELAY", "'x\\ny'"],
        ),
        (
            &[],
            &[("HELLO_EXIT_CODE", "1\n2")],
            &["--exit-code / HELLO_EXIT_CODE", "'1\\n2'"],
        ),
        (
            &["--exit-code=9\u{7}"],
            &[],
            &["--exit-code / HELLO_EXIT_CODE", "'9\\u{7}'"],
        ),
        (&["--bo\ngus"], &[], &["'--bo\\ngus'", "--help"]),
        (&[], &[("RUST_LOG", "warn\nx")], &["RUST_LOG", "'warn\\nx'"]),
    ];
    assert_all_refused(BIN, cases);
}

#[test]
fn a_missing_value_is_refused_with_the_accepted_form() {
    let required = "a value is required for ";
    let cases: &[BadInput] = &[
        (
            &["--delay"],
            &[],
            &[
                required,
                "--delay / HELLO_DELAY",
                "expected a duration like 2s",
            ],
        ),
        (
            &["--exit-code"],
            &[],
            &[required, "HELLO_EXIT_CODE", "a whole number from 0 to 255"],
        ),
        (
            &["--log-format"],
            &[],
            &[required, "HELLO_LOG_FORMAT", "one of text, json"],
        ),
    ];
    assert_all_refused(BIN, cases);
}

/// A disk that fills up half-way through the line (a file size limit stands in for it): the
/// error says how much of the line is in the file, as a line dropped on a blocked stdout does.
#[test]
fn a_disk_full_half_way_through_the_line_says_how_much_was_written() {
    let message = "x".repeat(30);
    let args = [OsStr::new("--message"), OsStr::new(&message)];
    let Some((done, written)) = run_into_full_file(BIN, &args, 10) else {
        return; // from an image, said why
    };
    assert_eq!(done.code(), Some(1), "{done:?}");
    assert_eq!(written, vec![b'x'; 10]);
    let errors = done.error_lines();
    assert_eq!(errors.len(), 1, "{}", done.stderr);
    assert!(
        errors[0].contains("File too large")
            && errors[0].contains("bytes_written=10 line_bytes=31"),
        "{}",
        done.stderr
    );
}
