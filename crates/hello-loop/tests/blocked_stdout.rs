//! A stdout nobody reads (a full pipe, a paused terminal) must not make hello-loop unstoppable:
//! a signal stops it at once with the documented code, one thread, the descriptor untouched.

use std::time::Duration;

use hello_testkit::{
    early_sigterm_sweep_as_pid1, signal_and_time, spawn_blocked_on_stdout, PROMPTLY, SIGINT,
    SIGTERM,
};

const BIN: &str = env!("CARGO_BIN_EXE_hello-loop");

/// Far above the ~10 ms the bounded writes give, far below "waits for a reader forever": a
/// generous bound for a loaded 2-core CI machine (`make bench` style figures are in the report).
const AT_ONCE: Duration = Duration::from_millis(500);

fn assert_stops_at_once(as_pid1: bool) {
    let Some((mut running, pipe)) = spawn_blocked_on_stdout(BIN, &["--interval", "1h"], as_pid1)
    else {
        return;
    };
    assert!(running.still_running_after(Duration::from_millis(100)));
    assert_eq!(running.thread_count(), 1, "still one thread while blocked");
    let (took, done) = signal_and_time(running, SIGTERM);
    assert!(took < AT_ONCE, "took {took:?}");
    assert_eq!(done.code(), Some(0), "{done:?}");
    assert!(
        done.stderr
            .contains("received SIGTERM, shutting down gracefully"),
        "{}",
        done.stderr
    );
    // The first line is partly in the pipe (its buffer is smaller than the line): the log says
    // how much, and that the rest is dropped.
    assert!(
        done.stderr
            .contains("stdout is blocked: the line being written is dropped bytes_written="),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("exiting code=0"), "{}", done.stderr);
    assert!(pipe.is_blocking(), "the shared pipe was left non-blocking");
}

#[test]
fn sigterm_while_stdout_is_blocked_stops_at_once() {
    assert_stops_at_once(false);
}

#[test]
fn as_pid1_sigterm_while_stdout_is_blocked_stops_at_once() {
    assert_stops_at_once(true);
}

#[test]
fn a_blocked_drain_ends_at_its_deadline_with_0() {
    let args = ["--interval", "1h", "--shutdown-delay", "300ms"];
    let Some((running, pipe)) = spawn_blocked_on_stdout(BIN, &args, true) else {
        return;
    };
    let (took, done) = signal_and_time(running, SIGTERM);
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(300) + AT_ONCE,
        "took {took:?}"
    );
    assert_eq!(done.code(), Some(0), "{done:?}");
    assert!(
        done.stderr.contains("drained, stopped gracefully"),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("the line being written is dropped"));
    assert!(pipe.is_blocking());
}

#[test]
fn a_second_signal_during_a_blocked_drain_exits_with_128_plus_signal() {
    let args = ["--interval", "1h", "--shutdown-delay", "1h"];
    let Some((running, _pipe)) = spawn_blocked_on_stdout(BIN, &args, true) else {
        return;
    };
    running.signal(SIGTERM);
    running.wait_for_log("draining before exit", PROMPTLY);
    let (took, done) = signal_and_time(running, SIGINT);
    assert!(took < AT_ONCE, "took {took:?}");
    assert_eq!(done.code(), Some(130), "{done:?}");
    assert!(done.stderr.contains("second SIGINT during the drain"));
}

/// Stoppable from the first moment as PID 1, with stdout and stderr both full pipes before it
/// starts (issue 25, item 1: hello-once was not).
#[test]
fn as_pid1_sigterm_from_the_first_moment_with_stderr_blocked_exits_0_at_once() {
    early_sigterm_sweep_as_pid1(BIN, &["--interval", "1h"], true, 0, AT_ONCE);
}
