//! hello-loop, run as built: lines and their flushing, count, signals (first, second, drain,
//! ignore mode), broken pipe, threads and idling, directly and as PID 1 of a new PID namespace;
//! or from its image (HELLO_TEST_IMAGE_LOOP, see hello-testkit), where what cannot apply to a
//! container skips, saying why.

use std::time::{Duration, Instant};

use hello_testkit::{
    assert_all_refused, assert_bad_input, assert_help_and_version, image_of, not_for_images,
    not_under_emulation, read_one_line_then_close, run, run_as_stranger, run_into_full_file,
    signal_and_time, spawn_on_full_stdout_masked, BadInput, Launch, Running, Streams, PROMPTLY,
    SIGALRM, SIGINT, SIGKILL, SIGTERM,
};

const BIN: &str = env!("CARGO_BIN_EXE_hello-loop");

/// The signals hello-loop handles by default: SIGTERM and SIGINT, and SIGALRM for bounded writes.
const OUR_HANDLERS: u64 = 1 << (SIGTERM - 1) | 1 << (SIGINT - 1) | 1 << (libc::SIGALRM - 1);

/// An interval no test waits out: if a test passes with it, the program did not wait for it.
const HOUR: &str = "1h";

#[test]
fn count_prints_exactly_that_many_lines_then_exits_0() {
    let done = run(BIN, &["--interval", "20ms", "--count", "3"], &[]);
    assert_eq!(done.code(), Some(0), "{done:?}");
    assert_eq!(done.stdout, "Hello, World!\n".repeat(3));
    assert!(
        done.stderr.contains("printed every line asked for"),
        "{}",
        done.stderr
    );
}

#[test]
fn flags_win_over_variables() {
    let env = [
        ("HELLO_COUNT", "5"),
        ("HELLO_INTERVAL", HOUR),
        ("HELLO_MESSAGE", "env"),
    ];
    let done = run(
        BIN,
        &["--count", "2", "--interval", "10ms", "--message", "flag"],
        &env,
    );
    assert_eq!(done.stdout, "flag\nflag\n");
    let from_env = run(
        BIN,
        &[],
        &[("HELLO_COUNT", "2"), ("HELLO_INTERVAL", "0.01")],
    );
    assert_eq!(from_env.stdout, "Hello, World!\nHello, World!\n");
}

#[test]
fn first_line_comes_at_once_and_each_line_is_flushed_through_a_pipe() {
    let running = Running::spawn(BIN, &["--interval", "100ms"], &[]);
    // Each line arrives on its own through the pipe: nothing waits in a buffer.
    for _ in 0..3 {
        assert_eq!(running.next_line(PROMPTLY), "Hello, World!");
    }
    running.signal(SIGTERM);
    assert_eq!(running.wait(PROMPTLY).code(), Some(0));
}

/// Starts hello-loop with an hour-long interval and waits for its first line, so the handlers
/// are in place when the test signals it.
fn started(running: Running) -> Running {
    assert_eq!(running.next_line(PROMPTLY), "Hello, World!");
    running
}

fn assert_graceful(running: Running, signal: i32, name: &str) {
    running.signal(signal);
    let done = running.wait(PROMPTLY);
    assert_eq!(done.code(), Some(0), "{done:?}");
    let stderr = &done.stderr;
    assert!(
        stderr.contains(&format!("received {name}, shutting down gracefully")),
        "{stderr}"
    );
    assert!(
        stderr.contains("lines=1 ") && stderr.contains("uptime="),
        "{stderr}"
    );
    assert!(stderr.contains("exiting code=0"), "{stderr}");
}

#[test]
fn sigterm_and_sigint_stop_at_once_without_waiting_out_the_interval() {
    assert_graceful(
        started(Running::spawn(BIN, &["--interval", HOUR], &[])),
        SIGTERM,
        "SIGTERM",
    );
    let env = [("HELLO_INTERVAL", HOUR)];
    assert_graceful(started(Running::spawn(BIN, &[], &env)), SIGINT, "SIGINT");
}

fn assert_drains_then_exits_0(running: Running) {
    running.signal(SIGTERM);
    let signalled = Instant::now();
    let done = running.wait(PROMPTLY);
    assert!(
        signalled.elapsed() >= Duration::from_millis(400),
        "drained too early"
    );
    assert_eq!(done.code(), Some(0), "{done:?}");
    assert!(
        done.stderr.contains("draining before exit drain=400ms"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("drained, stopped gracefully"),
        "{}",
        done.stderr
    );
}

#[test]
fn shutdown_delay_drains_then_exits_0() {
    let args = ["--interval", HOUR, "--shutdown-delay", "400ms"];
    assert_drains_then_exits_0(started(Running::spawn(BIN, &args, &[])));
}

#[test]
fn lines_keep_coming_during_the_drain() {
    let args = ["--interval", "50ms", "--shutdown-delay", HOUR];
    let running = started(Running::spawn(BIN, &args, &[]));
    running.signal(SIGTERM);
    running.wait_for_log("draining before exit", PROMPTLY);
    for _ in 0..3 {
        assert_eq!(running.next_line(PROMPTLY), "Hello, World!");
    }
    running.signal(SIGTERM);
    assert_eq!(running.wait(PROMPTLY).code(), Some(143));
}

fn assert_second_signal_exits_at_once(running: Running, second: i32, code: i32) {
    running.signal(SIGTERM);
    running.wait_for_log("draining before exit", PROMPTLY);
    running.signal(second);
    let done = running.wait(PROMPTLY);
    assert_eq!(done.code(), Some(code), "{done:?}");
    assert!(done.stderr.contains("during the drain"), "{}", done.stderr);
}

#[test]
fn a_second_signal_during_the_drain_exits_at_once_with_128_plus_signal() {
    let args = ["--interval", HOUR, "--shutdown-delay", HOUR];
    assert_second_signal_exits_at_once(started(Running::spawn(BIN, &args, &[])), SIGINT, 130);
    assert_second_signal_exits_at_once(started(Running::spawn(BIN, &args, &[])), SIGTERM, 143);
}

#[test]
fn ignore_mode_outside_a_container_dies_of_sigterm() {
    if not_for_images(
        BIN,
        "in a container the program is PID 1: as_pid1_ignore_mode_survives_sigterm_and_sigint_\
         and_dies_to_sigkill is the test there",
    ) {
        return;
    }
    let running = started(Running::spawn(
        BIN,
        &["--interval", HOUR, "--signals", "ignore"],
        &[],
    ));
    running.wait_for_log("no signal handlers installed", PROMPTLY);
    // None of ours: not even the SIGALRM that bounds writes in the default mode. (Rust's own
    // stack-overflow handlers for SIGSEGV and SIGBUS are there, as in any Rust program.)
    assert_eq!(running.caught_signals() & OUR_HANDLERS, 0, "SigCgt");
    running.signal(SIGTERM);
    let done = running.wait(PROMPTLY);
    assert_eq!(
        done.signal(),
        Some(SIGTERM),
        "killed by the default action: {done:?}"
    );
    assert!(!done.stderr.contains("exiting"), "{}", done.stderr);
}

#[test]
fn broken_pipe_is_a_prompt_graceful_exit_with_one_line() {
    if not_for_images(
        BIN,
        "a reader that goes away breaks docker run's pipe, not the container's",
    ) {
        return;
    }
    let (first, done) = read_one_line_then_close(BIN, &["--interval", "10ms"]);
    assert_eq!(first, "Hello, World!\n");
    assert_eq!(done.code(), Some(0), "{done:?}");
    let about_pipe: Vec<&str> = done
        .stderr
        .lines()
        .filter(|l| l.contains("broken pipe"))
        .collect();
    assert_eq!(about_pipe.len(), 1, "{}", done.stderr);
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
}

#[test]
fn runs_one_thread_and_idles_between_lines() {
    if not_under_emulation(BIN, "the threads and handlers the host sees are QEMU's") {
        return;
    }
    let mut running = started(Running::spawn(BIN, &["--interval", HOUR], &[]));
    assert_eq!(running.thread_count(), 1, "current-thread runtime");
    assert_eq!(
        running.caught_signals() & OUR_HANDLERS,
        OUR_HANDLERS,
        "SigCgt: SIGTERM, SIGINT and the write timer's SIGALRM"
    );
    let before = running.cpu_ticks();
    assert!(running.still_running_after(Duration::from_secs(1)));
    // A busy wait would burn ~100 ticks (a whole CPU second); an idle process burns none.
    let burned = running.cpu_ticks() - before;
    assert!(
        burned <= 5,
        "{burned} clock ticks of CPU in a second of waiting"
    );
    assert_eq!(running.thread_count(), 1);
    running.signal(SIGTERM);
    assert_eq!(running.wait(PROMPTLY).code(), Some(0));
}

#[test]
fn refuses_bad_input_with_one_line_and_status_2() {
    let interval = ["--interval / HELLO_INTERVAL", "like 2s, 500ms or 1m30s"];
    let count = ["--count / HELLO_COUNT", "whole number"];
    let cases: &[BadInput] = &[
        (&["--interval", "fast"], &[], &interval),
        (
            &["--interval", "0"],
            &[],
            &["greater than zero", "--interval / HELLO_INTERVAL"],
        ),
        (&["--interval", "0s"], &[], &["greater than zero"]),
        (
            &["--interval", "-2s"],
            &[],
            &["negative", "--interval / HELLO_INTERVAL"],
        ),
        (&["--interval=-1"], &[], &["negative"]),
        (&["--interval", "9999999999h"], &[], &["too long"]),
        (
            &["--interval", "1ns"],
            &[],
            &["--interval / HELLO_INTERVAL", "shorter than 1ms"],
        ),
        (&[], &[("HELLO_INTERVAL", "999us")], &["shorter than 1ms"]),
        (&[], &[("HELLO_INTERVAL", "2 fortnights")], &interval),
        (
            &["--shutdown-delay", "-1s"],
            &[],
            &["--shutdown-delay / HELLO_SHUTDOWN_DELAY"],
        ),
        (
            &[],
            &[("HELLO_SHUTDOWN_DELAY", "later")],
            &["HELLO_SHUTDOWN_DELAY"],
        ),
        (&["--count", "many"], &[], &count),
        (&["--count", "0"], &[], &count),
        (&["--count", "-3"], &[], &count),
        (&[], &[("HELLO_COUNT", "3.5")], &count),
        (
            &[],
            &[("HELLO_SIGNALS", "bogus")],
            &["--signals / HELLO_SIGNALS", "handle, ignore"],
        ),
        (&["--signals", "trap"], &[], &["handle, ignore"]),
        (&["--loop-forever"], &[], &["'--loop-forever'", "--help"]),
    ];
    assert_all_refused(BIN, cases);
}

#[test]
fn help_and_version_go_to_stdout_with_status_0() {
    let version = env!("CARGO_PKG_VERSION");
    assert_help_and_version(
        BIN,
        "hello-loop",
        version,
        &[
            "--interval",
            "--count",
            "--shutdown-delay",
            "--signals",
            "HELLO_SIGNALS",
            "--heartbeat-file",
            "--stall-after",
            "check",
        ],
    );
}

#[test]
fn runs_as_a_uid_without_a_passwd_entry() {
    let Some(done) = run_as_stranger(BIN, &["--count", "1"]) else {
        return;
    };
    assert_eq!(done.code(), Some(0), "{done:?}");
    assert_eq!(done.stdout, "Hello, World!\n");
}

// ---- As PID 1 of a new PID namespace: what a container runtime gives the program.

/// Starts hello-loop as PID 1 and waits until it is up; `None` when that cannot be done here.
fn started_as_pid1(args: &[&str]) -> Option<Running> {
    let running = Running::spawn_as_pid1(BIN, args, &[])?;
    running.wait_for_log("pid=1\n", PROMPTLY);
    Some(started(running))
}

#[test]
fn as_pid1_sigterm_and_sigint_stop_gracefully() {
    for (signal, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
        let Some(running) = started_as_pid1(&["--interval", HOUR]) else {
            return;
        };
        assert_graceful(running, signal, name);
    }
}

#[test]
fn as_pid1_shutdown_delay_and_second_signal() {
    let Some(draining) = started_as_pid1(&["--interval", HOUR, "--shutdown-delay", "400ms"]) else {
        return;
    };
    assert_drains_then_exits_0(draining);
    let forever = ["--interval", HOUR, "--shutdown-delay", HOUR];
    let second = started_as_pid1(&forever).expect("as above");
    assert_second_signal_exits_at_once(second, SIGINT, 130);
}

#[test]
fn as_pid1_ignore_mode_survives_sigterm_and_sigint_and_dies_to_sigkill() {
    if not_under_emulation(
        BIN,
        "QEMU catches every signal to emulate it, so the kernel's PID-1 rule (a signal without \
         a handler is dropped) never applies: a SIGTERM stops the emulated program's output",
    ) {
        return;
    }
    let Some(mut running) = started_as_pid1(&["--interval", "100ms", "--signals", "ignore"]) else {
        return;
    };
    running.signal(SIGTERM);
    running.signal(SIGINT);
    // The kernel drops both: PID 1 has no handler for them. It keeps printing.
    assert!(running.still_running_after(Duration::from_millis(500)));
    assert_eq!(running.next_line(PROMPTLY), "Hello, World!");
    running.signal(SIGKILL);
    let done = running.wait(PROMPTLY);
    assert!(!done.status.success(), "{done:?}");
    assert!(
        !done.stderr.contains("exiting"),
        "no goodbye after SIGKILL: {}",
        done.stderr
    );
}

#[test]
fn as_pid1_runs_one_thread() {
    if not_under_emulation(BIN, "the threads the host sees are QEMU's") {
        return;
    }
    let Some(running) = started_as_pid1(&["--interval", HOUR]) else {
        return;
    };
    assert_eq!(running.thread_count(), 1);
    running.signal(SIGTERM);
    assert_eq!(running.wait(PROMPTLY).code(), Some(0));
}

// ---- The count and the stall hold during the drain too (issue 16, item 4).

#[test]
fn the_count_is_an_upper_bound_during_the_drain() {
    let args = [
        "--count",
        "5",
        "--interval",
        "100ms",
        "--shutdown-delay",
        "2s",
    ];
    let running = started(Running::spawn(BIN, &args, &[]));
    std::thread::sleep(Duration::from_millis(150));
    running.signal(SIGTERM);
    let done = running.wait(PROMPTLY);
    assert_eq!(done.code(), Some(0), "{done:?}");
    assert_eq!(done.stdout, "Hello, World!\n".repeat(5));
    assert!(
        done.stderr.contains("draining before exit"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("printed every line asked for"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_stall_holds_during_the_drain() {
    let args = [
        "--interval",
        "20ms",
        "--stall-after",
        "300ms",
        "--shutdown-delay",
        HOUR,
    ];
    let mut running = started(Running::spawn(BIN, &args, &[]));
    running.signal(SIGTERM);
    running.wait_for_log("draining before exit", PROMPTLY);
    running.wait_for_log("stalling on purpose", PROMPTLY);
    let stalled_at = running.stdout_so_far().lines().count();
    assert!(running.still_running_after(Duration::from_millis(300)));
    assert_eq!(
        running.stdout_so_far().lines().count(),
        stalled_at,
        "printed after the stall"
    );
    running.signal(SIGTERM);
    assert_eq!(running.wait(PROMPTLY).code(), Some(143));
}

// ---- Durations logged exactly (item 5); JSON fields as plain values (item 9).

#[test]
fn json_logs_hold_plain_values_and_exact_durations() {
    let args = [
        "--count",
        "2",
        "--interval",
        "1500us",
        "--log-format",
        "json",
    ];
    let done = run(BIN, &args, &[]);
    assert_eq!(done.code(), Some(0), "{done:?}");
    let start: serde_json::Value =
        serde_json::from_str(done.stderr.lines().next().unwrap()).unwrap();
    assert_eq!(start["text"], "Hello, World!");
    assert_eq!(start["count"], 2);
    assert_eq!(start["interval"], "1ms 500us");
    assert!(start["pid"].is_u64(), "{start}");
    let text = run(BIN, &["--count", "1", "--interval", "1500us"], &[]);
    assert!(
        text.stderr.contains("interval=1ms 500us"),
        "{}",
        text.stderr
    );
}

#[test]
fn non_utf8_variables_name_their_flag_and_variable() {
    if not_for_images(BIN, "the Docker API carries variables as UTF-8 text") {
        return;
    }
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"\xff");
    for (var, flag) in [
        ("HELLO_INTERVAL", "--interval / HELLO_INTERVAL"),
        (
            "HELLO_HEARTBEAT_FILE",
            "--heartbeat-file / HELLO_HEARTBEAT_FILE",
        ),
        ("HELLO_COUNT", "--count / HELLO_COUNT"),
    ] {
        let running =
            Running::spawn_with(BIN, &[], &[(var, bad)], Streams::default(), false).unwrap();
        assert_bad_input(&running.wait(PROMPTLY), &[flag, "not valid UTF-8"]);
    }
    let check = [std::ffi::OsStr::new("check")];
    let env = [
        ("HELLO_HEARTBEAT_FILE", std::ffi::OsStr::new("/x")),
        ("HELLO_MAX_AGE", bad),
    ];
    let running = Running::spawn_with(BIN, &check, &env, Streams::default(), false).unwrap();
    assert_bad_input(
        &running.wait(PROMPTLY),
        &["--max-age / HELLO_MAX_AGE", "UTF-8"],
    );
}

#[test]
fn a_read_only_stdout_is_an_error() {
    let streams = Streams {
        stdout: Some(std::fs::File::open("/dev/null").unwrap().into()),
        stderr: None,
    };
    let args = [std::ffi::OsStr::new("--count"), std::ffi::OsStr::new("1")];
    let Some(running) = Running::spawn_with(BIN, &args, &[], streams, false) else {
        return; // from an image, said why
    };
    let done = running.wait(PROMPTLY);
    assert_eq!(done.code(), Some(1), "{done:?}");
    assert!(
        done.stderr.contains("Bad file descriptor"),
        "{}",
        done.stderr
    );
}

// ---- An inherited signal mask (issue 25, item 9).

/// A parent can start the program with signals blocked, and the mask survives fork and exec
/// (sigprocmask(2), execve(2)): a blocked SIGTERM would then stay pending for ever, and a blocked
/// SIGALRM would leave a write to a blocked stdout unbounded. Both must still stop it, plainly
/// and as PID 1.
#[test]
fn an_inherited_blocked_mask_does_not_defeat_the_stop() {
    for as_pid1 in [false, true] {
        let launch = Launch {
            as_pid1,
            blocked: vec![SIGTERM, SIGINT, SIGALRM],
            ..Launch::default()
        };
        let args = [
            std::ffi::OsStr::new("--interval"),
            std::ffi::OsStr::new(HOUR),
        ];
        let Some(running) = Running::launch(BIN, &args, &[], launch) else {
            return;
        };
        assert_graceful(started(running), SIGTERM, "SIGTERM");

        let blocked = [SIGALRM];
        let Some((running, _pipe)) =
            spawn_on_full_stdout_masked(BIN, &["--interval", HOUR], as_pid1, &blocked)
        else {
            return;
        };
        let (took, done) = signal_and_time(running, SIGTERM);
        assert_eq!(done.code(), Some(0), "as PID 1: {as_pid1}: {done:?}");
        assert!(took < Duration::from_millis(500), "took {took:?}");
    }
}

// ---- One line, whatever the value holds (issue 25, item 8).

/// A value with a newline (or another control character) is shown escaped, so the refusal stays
/// one line: a flag, a variable, an unknown argument, RUST_LOG, a heartbeat path.
#[test]
fn values_with_a_newline_are_refused_in_one_line_and_shown_escaped() {
    let cases: &[BadInput] = &[
        (
            &["--interval", "x\ny"],
            &[],
            &["--interval / HELLO_INTERVAL", "'x\\ny'"],
        ),
        (
            &[],
            &[("HELLO_INTERVAL", "x\ny")],
            &["--interval / HELLO_INTERVAL", "'x\\ny'"],
        ),
        (
            &["--signals", "a\r\nb"],
            &[],
            &["--signals / HELLO_SIGNALS", "'a\\r\\nb'"],
        ),
        (
            &[],
            &[("HELLO_LOG_FORMAT", "x\ny")],
            &["HELLO_LOG_FORMAT", "'x\\ny'"],
        ),
        (&[], &[("RUST_LOG", "info\nx")], &["RUST_LOG", "'info\\nx'"]),
        (&["--bo\ngus"], &[], &["'--bo\\ngus'", "--help"]),
        (&["ch\neck"], &[], &["'ch\\neck'", "--help"]),
        (
            &["--count", "1\u{1b}[2J"],
            &[],
            &["--count / HELLO_COUNT", "'1\\u{1b}[2J'"],
        ),
        (
            &["--heartbeat-file", "/nonexistent/a\nb"],
            &[],
            &[
                "--heartbeat-file / HELLO_HEARTBEAT_FILE",
                "'/nonexistent/a\\nb'",
            ],
        ),
        (
            &["check"],
            &[("HELLO_HEARTBEAT_FILE", "/x"), ("HELLO_MAX_AGE", "1\n2")],
            &["--max-age / HELLO_MAX_AGE", "'1\\n2'"],
        ),
    ];
    assert_all_refused(BIN, cases);
}

/// A flag given without its value gets the accepted form, like any other refusal (not
/// "expected one of " with nothing after it).
#[test]
fn a_missing_value_is_refused_with_the_accepted_form() {
    let required = "a value is required for ";
    let duration = "expected a duration like 2s, 500ms or 1m30s";
    let cases: &[BadInput] = &[
        (
            &["--interval"],
            &[],
            &[required, "--interval / HELLO_INTERVAL", duration],
        ),
        (
            &["--shutdown-delay"],
            &[],
            &[required, "HELLO_SHUTDOWN_DELAY", duration],
        ),
        (
            &["--count"],
            &[],
            &[required, "--count / HELLO_COUNT", "whole number of lines"],
        ),
        (
            &["--signals"],
            &[],
            &[
                required,
                "--signals / HELLO_SIGNALS",
                "one of handle, ignore",
            ],
        ),
        (
            &["--message"],
            &[],
            &[
                required,
                "--message / HELLO_MESSAGE",
                "expected --message <MESSAGE>",
            ],
        ),
        (
            &["--heartbeat-file"],
            &[],
            &[
                required,
                "HELLO_HEARTBEAT_FILE",
                "expected --heartbeat-file <PATH>",
            ],
        ),
        (
            &["check", "--max-age"],
            &[("HELLO_HEARTBEAT_FILE", "/x")],
            &[required, "--max-age / HELLO_MAX_AGE", duration],
        ),
    ];
    assert_all_refused(BIN, cases);
}

/// RUST_LOG's targets: the program's own name covers every line it writes, the exit line (logged
/// from hello_core) included; a target that names nothing here would hide every line, so it is
/// refused.
#[test]
fn rust_log_targets_cover_the_programs_lines_and_unknown_ones_are_refused() {
    for value in [
        "hello_loop=info",
        "warn,hello_loop=info",
        "off,hello_loop=debug",
    ] {
        let done = run(BIN, &["--count", "1"], &[("RUST_LOG", value)]);
        assert_eq!(done.code(), Some(0), "{done:?}");
        assert!(
            done.stderr.contains("INFO starting"),
            "{value}: {}",
            done.stderr
        );
        assert!(
            done.stderr.contains("INFO exiting code=0"),
            "{value}: {}",
            done.stderr
        );
    }
    let quiet = run(
        BIN,
        &["--count", "1"],
        &[("RUST_LOG", "info,hello_core::exit=off")],
    );
    assert!(!quiet.stderr.contains("exiting"), "{}", quiet.stderr);
    assert!(quiet.stderr.contains("starting"), "{}", quiet.stderr);
    let cases: &[BadInput] = &[
        (
            &[],
            &[("RUST_LOG", "hello_lop=debug")],
            &["RUST_LOG", "'hello_lop'", "hello_loop, hello_core"],
        ),
        (
            &[],
            &[("RUST_LOG", "info,hello_once=debug")],
            &["RUST_LOG", "'hello_once'"],
        ),
        (
            &[],
            &[("RUST_LOG", "hello_core::exitt=info")],
            &["RUST_LOG", "'hello_core::exitt'"],
        ),
    ];
    assert_all_refused(BIN, cases);
}

/// A disk that fills up half-way through a line (a file size limit stands in for it): the error
/// says how much of that last line is in the file.
#[test]
fn a_disk_full_half_way_through_a_line_says_how_much_was_written() {
    let args = ["--interval", "1ms", "--count", "3"].map(std::ffi::OsStr::new);
    let Some((done, written)) = run_into_full_file(BIN, &args, 20) else {
        return; // from an image, said why
    };
    assert_eq!(done.code(), Some(1), "{done:?}");
    assert_eq!(String::from_utf8_lossy(&written), "Hello, World!\nHello,");
    let errors = done.error_lines();
    assert_eq!(errors.len(), 1, "{}", done.stderr);
    assert!(
        errors[0].contains("File too large") && errors[0].contains("bytes_written=6 line_bytes=14"),
        "{}",
        done.stderr
    );
}

/// With JSON logs, a refusal made once the format is known is a JSON object too, one line, with
/// the refusal as its reason, whatever RUST_LOG lets through.
#[test]
fn refusals_are_json_once_the_log_format_is_known() {
    let json = ("HELLO_LOG_FORMAT", "json");
    // The image sets HELLO_HEARTBEAT_FILE: empty, the variable names no heartbeat there either.
    let no_heartbeat = match image_of(BIN) {
        Some(_) => vec![json, ("HELLO_HEARTBEAT_FILE", "")],
        None => vec![json],
    };
    type Case<'a> = (&'a [&'a str], Vec<(&'a str, &'a str)>, &'a str);
    let cases: [Case; 4] = [
        (
            &["--heartbeat-file", "/nonexistent/heartbeat"],
            vec![json],
            "--heartbeat-file / HELLO_HEARTBEAT_FILE",
        ),
        (
            &["--heartbeat-file", "/nonexistent/heartbeat"],
            vec![json, ("RUST_LOG", "off")],
            "--heartbeat-file / HELLO_HEARTBEAT_FILE",
        ),
        (&["check"], no_heartbeat, "no heartbeat to check"),
        (&[], vec![json, ("RUST_LOG", "loud")], "RUST_LOG"),
    ];
    for (args, env, names) in cases {
        let done = run(BIN, args, &env);
        assert_bad_input(&done, &[names]);
        let line: serde_json::Value = serde_json::from_str(done.stderr.trim_end())
            .unwrap_or_else(|e| panic!("{args:?} {env:?}: not JSON ({e}): {:?}", done.stderr));
        assert_eq!(line["level"], "ERROR", "{line}");
        assert_eq!(line["message"], "exiting", "{line}");
        assert_eq!(line["code"], 2, "{line}");
        let reason = line["reason"].as_str().unwrap_or_default();
        assert!(
            reason.starts_with("hello-loop") && reason.contains(names),
            "{line}"
        );
    }
    // Before the format is known (the command line itself is refused), the plain line.
    let early = run(BIN, &["--log-format", "json", "--interval", "x"], &[]);
    assert_bad_input(&early, &["hello-loop: invalid value 'x' for --interval"]);
}
