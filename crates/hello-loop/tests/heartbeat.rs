//! The heartbeat and `hello-loop check`: liveness without a port.

use std::path::PathBuf;
use std::time::Duration;

use hello_testkit::{assert_bad_input, run, Finished, Running, PROMPTLY, SIGTERM};

const BIN: &str = env!("CARGO_BIN_EXE_hello-loop");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hello-loop-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("heartbeat")
}

fn check(file: &str, max_age: &str) -> Finished {
    run(
        BIN,
        &["check", "--max-age", max_age],
        &[("HELLO_HEARTBEAT_FILE", file)],
    )
}

#[test]
fn heartbeat_is_fresh_while_running_then_stale_after_a_stall_and_sigterm_still_works() {
    let file = scratch("stall");
    let file = file.to_str().unwrap();
    let args = [
        "--interval",
        "50ms",
        "--heartbeat-file",
        file,
        "--stall-after",
        "300ms",
    ];
    let mut running = Running::spawn(BIN, &args, &[]);
    assert_eq!(running.next_line(PROMPTLY), "Hello, World!");

    let fresh = check(file, "250ms");
    assert_eq!(fresh.code(), Some(0), "{fresh:?}");
    assert!(fresh.stdout.starts_with("healthy: heartbeat "), "{fresh:?}");

    running.wait_for_log("stalling on purpose", PROMPTLY);
    // Stalled: no more beats, so the heartbeat ages past the limit, while the process lives on.
    assert!(running.still_running_after(Duration::from_millis(600)));
    let stale = check(file, "250ms");
    assert_eq!(stale.code(), Some(1), "{stale:?}");
    assert_eq!(stale.stderr.lines().count(), 1);
    assert!(
        stale.stderr.starts_with("unhealthy: heartbeat ")
            && stale.stderr.contains(" old (max 250ms)")
    );

    running.signal(SIGTERM);
    let done = running.wait(PROMPTLY);
    assert_eq!(
        done.code(),
        Some(0),
        "a stalled worker still stops gracefully: {done:?}"
    );
}

#[test]
fn check_default_max_age_follows_the_interval() {
    let file = scratch("default-age");
    let file = file.to_str().unwrap();
    let env = [("HELLO_HEARTBEAT_FILE", file), ("HELLO_INTERVAL", "100ms")];
    assert_eq!(run(BIN, &["--count", "1"], &env).code(), Some(0));
    // Default max age: 3 intervals, at least 1 s.
    let fresh = run(BIN, &["check"], &env);
    assert!(fresh.stdout.contains("(max 1s)"), "{fresh:?}");
    let long = [("HELLO_HEARTBEAT_FILE", file), ("HELLO_INTERVAL", "10s")];
    assert!(run(BIN, &["check"], &long).stdout.contains("(max 30s)"));
}

#[test]
fn check_fails_with_one_line_when_the_heartbeat_is_missing() {
    let file = scratch("missing");
    let done = check(file.to_str().unwrap(), "5s");
    assert_eq!(done.code(), Some(1));
    assert_eq!(done.stdout, "");
    assert_eq!(
        done.stderr,
        format!("heartbeat {} is missing\n", file.display())
    );
}

#[test]
fn an_unwritable_heartbeat_path_is_refused_at_start() {
    let done = run(
        BIN,
        &["--heartbeat-file", "/nonexistent/dir/heartbeat"],
        &[],
    );
    assert_bad_input(
        &done,
        &[
            "--heartbeat-file / HELLO_HEARTBEAT_FILE",
            "writable directory",
        ],
    );
    let check_without_file = run(BIN, &["check"], &[]);
    assert_bad_input(&check_without_file, &["HELLO_HEARTBEAT_FILE"]);
    let bad_age = run(
        BIN,
        &["check", "--max-age", "0"],
        &[("HELLO_HEARTBEAT_FILE", "/x")],
    );
    assert_bad_input(
        &bad_age,
        &["--max-age / HELLO_MAX_AGE", "greater than zero"],
    );
    let bad_stall = run(BIN, &[], &[("HELLO_STALL_AFTER", "-1s")]);
    assert_bad_input(&bad_stall, &["--stall-after / HELLO_STALL_AFTER"]);
}

#[test]
fn an_empty_heartbeat_variable_switches_the_heartbeat_off() {
    let done = run(BIN, &["--count", "1"], &[("HELLO_HEARTBEAT_FILE", "")]);
    assert_eq!(done.code(), Some(0), "{done:?}");
    assert!(
        done.stderr.contains("heartbeat_file=none"),
        "{}",
        done.stderr
    );
}
