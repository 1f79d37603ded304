//! The heartbeat and `hello-loop check`: liveness without a port. The files a test shares with
//! the program are in a scratch folder that a run from the image sees too (hello-testkit's
//! `scratch_dir`); whatever a test puts there for the program to leave alone is writable by
//! anyone, so the image's user (not root) could clobber it as root could.

use std::path::PathBuf;
use std::time::Duration;

use hello_testkit::{
    assert_bad_input, image_of, not_for_images, run, scratch_dir, Finished, Launch, Running,
    Streams, PROMPTLY, SIGTERM,
};

const BIN: &str = env!("CARGO_BIN_EXE_hello-loop");

fn scratch(name: &str) -> PathBuf {
    scratch_dir(&format!("hello-loop-{name}")).join("heartbeat")
}

/// A file the program must leave alone, writable by anyone (so only the program's care keeps it).
fn precious(path: &std::path::Path) {
    std::fs::write(path, "keep me").unwrap();
    let anyone = std::os::unix::fs::PermissionsExt::from_mode(0o666);
    std::fs::set_permissions(path, anyone).unwrap();
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
    // From an image, the probe is a container of its own, whose start can take longer than 300 ms:
    // the stall must come after the first probe.
    let stall_after = match image_of(BIN) {
        Some(_) => "5s",
        None => "300ms",
    };
    let args = [
        "--interval",
        "50ms",
        "--heartbeat-file",
        file,
        "--stall-after",
        stall_after,
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
fn check_judges_by_the_max_age_the_heartbeat_carries_whatever_set_the_interval() {
    let file = scratch("default-age");
    let file = file.to_str().unwrap();
    let beat_env = [("HELLO_HEARTBEAT_FILE", file)];
    // The interval given as a flag, which a probe sharing only the environment cannot see.
    let written = run(BIN, &["--count", "1", "--interval", "1m"], &beat_env);
    assert_eq!(written.code(), Some(0), "{written:?}");
    let fresh = run(BIN, &["check"], &beat_env);
    assert_eq!(fresh.code(), Some(0), "{fresh:?}");
    assert!(fresh.stdout.contains("(max 3m)"), "{fresh:?}");
    // The probe's own interval no longer matters; --max-age still overrides.
    let with_env = [("HELLO_HEARTBEAT_FILE", file), ("HELLO_INTERVAL", "10ms")];
    assert!(run(BIN, &["check"], &with_env).stdout.contains("(max 3m)"));
    assert!(check(file, "5s").stdout.contains("(max 5s)"));
    // Default: 3 intervals, at least 1 s.
    assert_eq!(
        run(BIN, &["--count", "1", "--interval", "100ms"], &beat_env).code(),
        Some(0)
    );
    assert!(run(BIN, &["check"], &beat_env).stdout.contains("(max 1s)"));
}

#[test]
fn a_heartbeat_from_an_older_loop_is_still_read_with_the_probes_interval() {
    let file = scratch("old-format");
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    std::fs::write(&file, format!("{millis} 4\n")).unwrap();
    let env = [
        ("HELLO_HEARTBEAT_FILE", file.to_str().unwrap()),
        ("HELLO_INTERVAL", "10s"),
    ];
    let fresh = run(BIN, &["check"], &env);
    assert_eq!(fresh.code(), Some(0), "{fresh:?}");
    assert!(fresh.stdout.contains("(max 30s)"), "{fresh:?}");
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
    // The image sets HELLO_HEARTBEAT_FILE: empty, it names no heartbeat there either.
    let unset: &[(&str, &str)] = match image_of(BIN) {
        Some(_) => &[("HELLO_HEARTBEAT_FILE", "")],
        None => &[],
    };
    let check_without_file = run(BIN, &["check"], unset);
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

// ---- Nothing at the path is ever clobbered (issue 16, item 2).

fn refused_path(path: &str) -> Finished {
    run(BIN, &["--count", "1", "--heartbeat-file", path], &[])
}

/// Makes a special file with mknod(2): a FIFO, or (root only) a character device.
fn mknod(path: &std::path::Path, mode: libc::mode_t, device: libc::dev_t) -> bool {
    let path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    unsafe { libc::mknod(path.as_ptr(), mode, device) == 0 }
}

#[test]
fn devices_fifos_directories_and_symlinks_are_refused_and_left_alone() {
    let file = scratch("not-regular");
    let dir = file.parent().unwrap();
    // A device of our own, the same as /dev/null (1, 3): a broken build must never get to
    // replace the real /dev/null of the machine running the tests.
    let null = dir.join("null");
    let have_device = mknod(&null, libc::S_IFCHR | 0o666, libc::makedev(1, 3));
    assert!(
        have_device || std::env::var_os("CI").is_none(),
        "CI runs as root: mknod"
    );
    let fifo = dir.join("fifo");
    assert!(mknod(&fifo, libc::S_IFIFO | 0o600, 0));
    let target = dir.join("precious");
    precious(&target);
    let link = dir.join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mut paths = vec![fifo.as_path(), dir, link.as_path()];
    if have_device {
        paths.push(&null);
    }
    for path in paths {
        let done = refused_path(path.to_str().unwrap());
        assert_bad_input(
            &done,
            &[
                "--heartbeat-file / HELLO_HEARTBEAT_FILE",
                "not a regular file",
            ],
        );
    }
    if have_device {
        let kept = std::fs::metadata(&null).unwrap().file_type();
        assert!(std::os::unix::fs::FileTypeExt::is_char_device(&kept));
    }
    let fifo_kept = std::fs::metadata(&fifo).unwrap().file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&fifo_kept));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert_eq!(staging_files(dir), Vec::<String>::new());
}

#[test]
fn a_symlink_planted_at_the_old_staging_name_is_never_followed() {
    let file = scratch("planted");
    let dir = file.parent().unwrap();
    let target = dir.join("precious");
    precious(&target);
    std::os::unix::fs::symlink(&target, dir.join(".heartbeat.tmp")).unwrap();
    let done = run(
        BIN,
        &[
            "--count",
            "2",
            "--interval",
            "10ms",
            "--heartbeat-file",
            file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(done.code(), Some(0), "{done:?}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert!(std::fs::read_to_string(&file).unwrap().split(' ').nth(1) == Some("2"));
}

#[test]
fn two_loops_sharing_a_path_never_collide_and_leave_no_staging_file() {
    let file = scratch("shared");
    let args = [
        "--interval",
        "1ms",
        "--count",
        "300",
        "--heartbeat-file",
        file.to_str().unwrap(),
    ];
    let a = Running::spawn(BIN, &args, &[]);
    let b = Running::spawn(BIN, &args, &[]);
    for done in [a.wait(PROMPTLY), b.wait(PROMPTLY)] {
        assert_eq!(done.code(), Some(0), "{done:?}");
        assert!(
            !done.stderr.contains("heartbeat not written"),
            "{}",
            done.stderr
        );
    }
    assert_eq!(staging_files(file.parent().unwrap()), Vec::<String>::new());
}

#[test]
fn a_failed_first_beat_is_refused_and_removes_its_staging_file() {
    if not_for_images(
        BIN,
        "the file size limit needs SIGXFSZ ignored, which docker run cannot set for a container",
    ) {
        return;
    }
    // A file size limit of 0 makes the write fail after the staging file was created.
    let file = scratch("efbig");
    let mut command = std::process::Command::new(BIN);
    command
        .args(["--count", "1", "--heartbeat-file", file.to_str().unwrap()])
        .env_clear();
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let zero = libc::rlimit {
                rlim_cur: 0,
                rlim_max: libc::RLIM_INFINITY,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &zero);
            Ok(())
        });
    }
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(file.parent().unwrap()).unwrap().count(),
        0,
        "nothing left behind"
    );
}

/// The hidden staging files left in a directory.
fn staging_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp") && name.starts_with('.') && name != ".heartbeat.tmp")
        .collect()
}

// ---- A missing heartbeat directory is said once, and again when it recovers (item 9).

#[test]
fn a_failing_heartbeat_is_logged_once_and_its_recovery_once() {
    let file = scratch("recovers");
    let dir = file.parent().unwrap().to_path_buf();
    let args = [
        "--interval",
        "2ms",
        "--heartbeat-file",
        file.to_str().unwrap(),
    ];
    let running = Running::spawn(BIN, &args, &[]);
    running.next_line(PROMPTLY);
    // Moved away at once (the loop may put a staging file in it while it is being emptied).
    let gone = dir.with_extension("gone");
    std::fs::rename(&dir, &gone).unwrap();
    let _ = std::fs::remove_dir_all(&gone);
    running.wait_for_log("heartbeat not written", PROMPTLY);
    std::thread::sleep(Duration::from_millis(200)); // ~100 lines without a heartbeat
    std::fs::create_dir(&dir).unwrap();
    let anyone = std::os::unix::fs::PermissionsExt::from_mode(0o777);
    std::fs::set_permissions(&dir, anyone).unwrap();
    running.wait_for_log("heartbeat written again", PROMPTLY);
    running.signal(SIGTERM);
    let done = running.wait(PROMPTLY);
    assert_eq!(done.code(), Some(0), "{done:?}");
    assert_eq!(
        done.stderr.matches("heartbeat not written").count(),
        1,
        "{}",
        done.stderr
    );
    assert_eq!(done.stderr.matches("heartbeat written again").count(), 1);
}

// ---- The probe's messages never change its status (item 6).

#[test]
fn check_keeps_its_status_when_stderr_is_full() {
    let file = scratch("check-full");
    for (as_pid1, env_file) in [(false, file.as_os_str()), (true, file.as_os_str())] {
        let streams = Streams {
            stdout: None,
            stderr: Some(std::fs::File::create("/dev/full").unwrap().into()),
        };
        let env = [("HELLO_HEARTBEAT_FILE", env_file)];
        let args = [std::ffi::OsStr::new("check")];
        let Some(running) = Running::spawn_with(BIN, &args, &env, streams, as_pid1) else {
            return;
        };
        assert_eq!(
            running.wait(PROMPTLY).code(),
            Some(1),
            "missing heartbeat: 1, not an abort"
        );
    }
}

// ---- The probe reads a heartbeat and nothing else, and only a few bytes (issue 25, item 3).

/// `hello-loop check` on `path`, limited to 256 MiB of memory (a runaway read fails fast instead
/// of taking the machine's): the run, and how many bytes it read in all.
fn probe_counting_reads(path: &std::path::Path) -> (Finished, u64) {
    let launch = Launch {
        max_memory: Some(256 << 20),
        ..Launch::default()
    };
    let args = [std::ffi::OsStr::new("check")];
    let env = [("HELLO_HEARTBEAT_FILE", path.as_os_str())];
    Running::launch(BIN, &args, &env, launch)
        .unwrap()
        .wait_counting_reads(PROMPTLY)
}

#[test]
fn check_refuses_what_is_not_a_regular_file_and_reads_a_bounded_size() {
    if not_for_images(
        BIN,
        "the bytes read are counted in /proc/PID/io of our own unreaped child",
    ) {
        return;
    }
    let file = scratch("bounded");
    let dir = file.parent().unwrap();
    let beat_env = [("HELLO_HEARTBEAT_FILE", file.to_str().unwrap())];
    assert_eq!(run(BIN, &["--count", "1"], &beat_env).code(), Some(0));
    // What the probe reads anyway (the loader, the runtime): its reads of a real heartbeat.
    let (fresh, baseline) = probe_counting_reads(&file);
    assert_eq!(fresh.code(), Some(0), "{fresh:?}");

    let fifo = dir.join("fifo");
    assert!(mknod(&fifo, libc::S_IFIFO | 0o600, 0));
    let zero_link = dir.join("zero-link");
    std::os::unix::fs::symlink("/dev/zero", &zero_link).unwrap();
    let huge = dir.join("huge");
    // 1 GiB, sparse: no disk used, and far more than a heartbeat.
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let cases: [(&std::path::Path, &str); 5] = [
        (&fifo, "is a FIFO, not a regular file"),
        (
            std::path::Path::new("/dev/zero"),
            "is a character device, not a regular file",
        ),
        (&zero_link, "is a symlink, not a regular file"),
        (dir, "is a directory, not a regular file"),
        (&huge, "holds more than 256 bytes"),
    ];
    for (path, reason) in cases {
        let (done, reads) = probe_counting_reads(path);
        assert_eq!(done.code(), Some(1), "{path:?}: {done:?}");
        assert_eq!(done.stdout, "", "{path:?}");
        assert_eq!(
            done.stderr.lines().count(),
            1,
            "{path:?}: {:?}",
            done.stderr
        );
        assert!(
            done.stderr
                .contains(&format!("heartbeat {} {reason}", path.display())),
            "{path:?}: {:?}",
            done.stderr
        );
        let extra = reads.saturating_sub(baseline);
        assert!(
            extra <= 4096,
            "{path:?}: read {extra} bytes more than for a real heartbeat"
        );
        eprintln!(
            "{}: {extra} bytes read beyond a real heartbeat's",
            path.display()
        );
    }
}

// ---- A beat from the future is no proof of life (issue 25, item 10).

/// A heartbeat dated ahead of the probe's clock (a clock set back while the loop stalled, or a
/// forged file) must not be healthy until the clock catches up: beyond a second ahead it is stale.
#[test]
fn a_heartbeat_dated_in_the_future_is_stale() {
    let file = scratch("future");
    let env = [("HELLO_HEARTBEAT_FILE", file.to_str().unwrap())];
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    };
    let future = " in the future (at most 1s ahead is accepted";
    let cases = [
        (now_ms() + 300, None),
        (now_ms() + 5_000, Some(future)),
        (now_ms() + 3_600_000, Some(future)),
        (u64::MAX, Some(future)),
    ];
    for (millis, stale) in cases {
        // A day's maximum age: only the date can make these stale.
        std::fs::write(&file, format!("{millis} 1 86400000\n")).unwrap();
        let done = run(BIN, &["check"], &env);
        match stale {
            None => assert_eq!(done.code(), Some(0), "{millis}: {done:?}"),
            Some(reason) => {
                assert_eq!(done.code(), Some(1), "{millis}: {done:?}");
                assert_eq!(done.stderr.lines().count(), 1, "{done:?}");
                assert!(
                    done.stderr.starts_with("unhealthy: heartbeat ")
                        && done.stderr.contains(reason),
                    "{millis}: {:?}",
                    done.stderr
                );
            }
        }
    }
}

// ---- A symlink swapped in while the loop runs is never replaced (issue 25, item 4).

/// Waits for the loop to create its next staging file (inotify IN_CREATE on the directory): it
/// has then looked at the path and not yet put its beat in place, the gap a racer aims for.
/// False after 5 s without one.
fn next_staging_created(inotify: i32) -> bool {
    let mut buf = [0u8; 4096];
    // Drop the events of earlier beats, then wait for a fresh one.
    // SAFETY: reads into a buffer we own, from a descriptor we own.
    while unsafe { libc::read(inotify, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    let deadline = std::time::Instant::now() + PROMPTLY;
    while std::time::Instant::now() < deadline {
        let mut pollfd = libc::pollfd {
            fd: inotify,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pollfd, 1, 100) };
        // SAFETY: as above.
        let n = unsafe { libc::read(inotify, buf.as_mut_ptr().cast(), buf.len()) };
        let mut at = 0;
        while n > 0 && at < n as usize {
            // struct inotify_event: wd, mask, cookie, len, then `len` bytes of name.
            let len = u32::from_ne_bytes(buf[at + 12..at + 16].try_into().unwrap()) as usize;
            if buf[at + 16..at + 16 + len].starts_with(b".heartbeat.") {
                return true;
            }
            at += 16 + len;
        }
    }
    false
}

#[test]
fn a_symlink_swapped_in_while_the_loop_runs_is_never_replaced() {
    if not_for_images(
        BIN,
        "the test's own rename(2) over the path often lands between the beat's two exchanges \
         when the beat runs in a container, and then replaces the beat's file itself: the test \
         cannot tell its doing from the program's; the exchange logic is proven on the native binary",
    ) {
        return;
    }
    // 300 by default; the run length with HELLO_TEST_RACE_SWAPS=3485.
    let swaps: u32 = std::env::var("HELLO_TEST_RACE_SWAPS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let file = scratch("race");
    let dir = file.parent().unwrap();
    let target = dir.join("precious");
    precious(&target);
    let planted = dir.join("planted");
    let args = [
        "--interval",
        "1ms",
        "--heartbeat-file",
        file.to_str().unwrap(),
    ];
    let running = Running::spawn(BIN, &args, &[]);
    running.next_line(PROMPTLY);
    let dir_c = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
    // SAFETY: plain inotify calls on a descriptor we own and close below.
    let inotify = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
    assert!(inotify >= 0);
    // SAFETY: as above, with a valid C string.
    assert!(unsafe { libc::inotify_add_watch(inotify, dir_c.as_ptr(), libc::IN_CREATE) } >= 0);
    let until = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + PROMPTLY;
        while !done() {
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: staging files {:?}, the path a symlink: {}; stderr:\n{}",
                staging_files(dir),
                std::fs::symlink_metadata(&file).is_ok_and(|m| m.file_type().is_symlink()),
                running.stderr()
            );
            std::thread::sleep(Duration::from_micros(100));
        }
    };
    let mut replaced = 0;
    for swap in 0..swaps {
        std::os::unix::fs::symlink(&target, &planted).unwrap();
        assert!(
            next_staging_created(inotify),
            "no beat for 5 s at swap {swap}, {replaced} replaced"
        );
        std::fs::rename(&planted, &file).unwrap();
        // The beat under way (this one, or a later one that looked at the path before the swap)
        // is over once no staging file is left: any beat that looks after the swap finds the
        // symlink and makes none, unless the symlink was replaced. Only then is the path's state
        // final (a beat exchanges the symlink out and back in between).
        until("the beat never finished", &|| staging_files(dir).is_empty());
        if std::fs::symlink_metadata(&file).is_ok_and(|m| m.file_type().is_symlink()) {
            std::fs::remove_file(&file).unwrap();
        } else {
            replaced += 1;
        }
        // The loop writes a new heartbeat once the path is free again.
        until("no heartbeat again", &|| {
            std::fs::symlink_metadata(&file).is_ok_and(|m| m.file_type().is_file())
        });
    }
    // SAFETY: our own descriptor.
    unsafe { libc::close(inotify) };
    running.signal(SIGTERM);
    let done = running.wait(PROMPTLY);
    assert_eq!(done.code(), Some(0), "{done:?}");
    eprintln!("{replaced} of {swaps} symlinks swapped in mid-beat were replaced");
    assert_eq!(replaced, 0, "of {swaps} symlinks swapped in mid-beat");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert_eq!(staging_files(dir), Vec::<String>::new());
}

// ---- A heartbeat path cannot forge a log line (issue 25, item 8).

#[test]
fn a_heartbeat_path_with_a_newline_cannot_forge_a_log_line() {
    let file = scratch("forge");
    let forged = "2026-01-01T00:00:00.000000Z  INFO exiting code=0 reason=\"forged\"";
    let path = file.with_file_name(format!("beat\n{forged}"));
    let done = run(
        BIN,
        &["--count", "1", "--heartbeat-file", path.to_str().unwrap()],
        &[],
    );
    assert_eq!(done.code(), Some(0), "{done:?}");
    assert_eq!(
        done.stderr.lines().count(),
        2,
        "starting, exiting: {}",
        done.stderr
    );
    assert!(
        !done
            .stderr
            .lines()
            .any(|line| line.starts_with("2026-01-01")),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("beat\\n2026-01-01"), "{}", done.stderr);
    // The probe's verdict names the path too, and stays one line.
    let env = [("HELLO_HEARTBEAT_FILE", path.to_str().unwrap())];
    let healthy = run(BIN, &["check"], &env);
    assert_eq!(healthy.code(), Some(0), "{healthy:?}");
    assert_eq!(healthy.stdout.lines().count(), 1, "{healthy:?}");
    let stale = run(BIN, &["check", "--max-age", "1ms"], &env);
    assert_eq!(stale.code(), Some(1), "{stale:?}");
    assert_eq!(stale.stderr.lines().count(), 1, "{stale:?}");
    assert!(stale.stderr.contains("beat\\n2026-01-01"), "{stale:?}");
    // JSON strings escape it themselves: the value there is the path as it is.
    let json = run(
        BIN,
        &[
            "--count",
            "1",
            "--log-format",
            "json",
            "--heartbeat-file",
            path.to_str().unwrap(),
        ],
        &[],
    );
    let start: serde_json::Value =
        serde_json::from_str(json.stderr.lines().next().unwrap()).unwrap();
    assert_eq!(start["heartbeat_file"], path.to_str().unwrap());
}
