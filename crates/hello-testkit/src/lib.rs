//! Runs the built binaries the way a container runtime does: empty environment, stdout and
//! stderr as pipes, real signals, and (as root) PID 1 of a new PID namespace; or, when the
//! environment names their images (`HELLO_TEST_IMAGE_ONCE`, `HELLO_TEST_IMAGE_LOOP`,
//! `HELLO_TEST_PLATFORM`: see the `image` module), from those images with `docker run`.
//!
//! Timeouts here are generous upper bounds that keep a broken build from hanging CI; speed is
//! measured by `make bench`, never asserted by a test.

pub mod http;

use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

pub use libc::{SIGALRM, SIGINT, SIGKILL, SIGTERM};

mod image;
pub use image::scratch_dir;

/// The image `program` runs from in this test run (`HELLO_TEST_IMAGE_ONCE` /
/// `HELLO_TEST_IMAGE_LOOP`), or `None`: the built binary runs.
pub fn image_of(program: &str) -> Option<String> {
    image::image_for(program).map(|image| image.reference.clone())
}

/// True, saying why on stderr, when `program` runs from an image in this test run: the caller
/// skips a test that cannot apply to one (`why`: what the test needs that a container lacks).
pub fn not_for_images(program: &str, why: &str) -> bool {
    let Some(image) = image::image_for(program) else {
        return false;
    };
    skipped(&format!("skipped for the image {}: {why}", image.reference));
    true
}

/// Says a test skipped, on stderr, and as a line `BINARY::TEST<TAB>WHY` appended to
/// `HELLO_TEST_SKIP_LOG` when set (images/test-rust-images counts from it the tests that ran
/// against an image).
fn skipped(why: &str) {
    eprintln!("{why}");
    let Some(log) = std::env::var_os("HELLO_TEST_SKIP_LOG").filter(|l| !l.is_empty()) else {
        return;
    };
    // The test binary (cargo's name for it, without the hash) and the test, which the harness
    // names the thread after.
    let exe = std::env::current_exe().unwrap_or_default();
    let exe = exe.file_stem().unwrap_or_default().to_string_lossy();
    let binary = exe.rsplit_once('-').map_or(&*exe, |(name, _hash)| name);
    let test = thread::current().name().unwrap_or("unnamed").to_string();
    let line = format!("{binary}::{test}\t{}\n", why.replace(['\t', '\n'], " "));
    // One write(2) of a short line with O_APPEND: lines from parallel tests do not interleave.
    let written = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .and_then(|mut file| std::io::Write::write_all(&mut file, line.as_bytes()));
    written.unwrap_or_else(|e| panic!("HELLO_TEST_SKIP_LOG={}: {e}", log.to_string_lossy()));
}

/// True, saying why, when `program` runs from an image of a foreign architecture: the process the
/// host sees is then QEMU's interpreter (its threads, its signal handlers, its syscalls), not the
/// program, and a test that inspects that process skips.
pub fn not_under_emulation(program: &str, why: &str) -> bool {
    let Some(image) = image::image_for(program).filter(|image| image.emulated) else {
        return false;
    };
    skipped(&format!(
        "skipped for the image {} under QEMU: {why}",
        image.reference
    ));
    true
}

/// Upper bound for anything that should happen "at once".
pub const PROMPTLY: Duration = Duration::from_secs(5);

/// What a finished run left behind.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn signal(&self) -> Option<i32> {
        std::os::unix::process::ExitStatusExt::signal(&self.status)
    }

    /// The log lines at level ERROR.
    pub fn error_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.contains("ERROR"))
            .collect()
    }
}

/// Runs a program with its stdout a fresh file that cannot grow past `limit` bytes (a disk that
/// fills up half-way through a line; [`Launch::max_file_size`]), and returns the run and what
/// reached the file. None from an image: a container's stdout is the runtime's (said why).
pub fn run_into_full_file(
    program: &str,
    args: &[&OsStr],
    limit: u64,
) -> Option<(Finished, Vec<u8>)> {
    let name = Path::new(program)
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let file = std::env::temp_dir().join(format!("{name}-partial-{}", std::process::id()));
    let launch = Launch {
        streams: Streams {
            stdout: Some(
                fs::File::create(&file)
                    .expect("create the stdout file")
                    .into(),
            ),
            stderr: None,
        },
        max_file_size: Some(limit),
        ..Launch::default()
    };
    let running = Running::launch(program, args, &[], launch);
    let done = running.map(|running| running.wait(PROMPTLY));
    let written = fs::read(&file).expect("read the stdout file");
    let _ = fs::remove_file(&file);
    done.map(|done| (done, written))
}

/// Runs a program to completion with the given environment only (no PATH, no HOME).
pub fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> Finished {
    Running::spawn(program, args, env).wait(Duration::from_secs(20))
}

/// Asserts the contract for refused input: status 2, nothing on stdout, exactly one line on
/// stderr, and that line names what was wrong (`expect`, e.g. the flag and its variable).
pub fn assert_bad_input(run: &Finished, expect: &[&str]) {
    assert_eq!(run.code(), Some(2), "{run:?}");
    assert_eq!(run.stdout, "", "stdout must stay empty: {run:?}");
    assert_eq!(
        run.stderr.lines().count(),
        1,
        "one line on stderr: {:?}",
        run.stderr
    );
    for needle in expect {
        assert!(
            run.stderr.contains(needle),
            "stderr lacks {needle:?}: {:?}",
            run.stderr
        );
    }
}

/// One refused input: arguments, environment, and what the error line must name.
pub type BadInput<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a [&'a str]);

/// Runs every case and asserts [`assert_bad_input`] for each.
pub fn assert_all_refused(program: &str, cases: &[BadInput]) {
    for (args, env, expect) in cases {
        assert_bad_input(&run(program, args, env), expect);
    }
}

/// `--help` lists each of `flags` and `--version` prints `NAME VERSION`, both on stdout with
/// status 0.
pub fn assert_help_and_version(program: &str, name: &str, version: &str, flags: &[&str]) {
    let help = run(program, &["--help"], &[]);
    assert_eq!(help.code(), Some(0), "{help:?}");
    for flag in flags {
        assert!(help.stdout.contains(flag), "help lacks {flag}");
    }
    for flag in ["--version", "-V"] {
        let shown = run(program, &[flag], &[]);
        assert_eq!(shown.code(), Some(0));
        assert_eq!(shown.stdout, format!("{name} {version}\n"));
    }
    // A stdout that cannot take them is the exit status 1 of any failed write, with one line;
    // a reader that went away is the graceful end of any other write, 0.
    if not_for_images(
        program,
        "a container's stdout is the runtime's pipe: /dev/full or a closed pipe given to \
         docker run is the client's",
    ) {
        return;
    }
    for flag in ["--help", "--version"] {
        let full = Streams {
            stdout: Some(fs::File::create("/dev/full").expect("/dev/full").into()),
            stderr: None,
        };
        let done = Running::spawn_with(program, &[OsStr::new(flag)], &[], full, false)
            .expect("a plain run")
            .wait(PROMPTLY);
        assert_eq!(done.code(), Some(1), "{flag} > /dev/full: {done:?}");
        assert_eq!(done.stderr.lines().count(), 1, "{flag}: {:?}", done.stderr);
        assert!(
            done.stderr
                .contains("cannot write to stdout: No space left on device"),
            "{flag}: {:?}",
            done.stderr
        );
        let closed = UnreadPipe::new();
        let streams = Streams {
            stdout: Some(closed.writer()),
            stderr: None,
        };
        drop(closed); // both ends here; the child holds the only writer and no reader is left
        let done = Running::spawn_with(program, &[OsStr::new(flag)], &[], streams, false)
            .expect("a plain run")
            .wait(PROMPTLY);
        assert_eq!(done.code(), Some(0), "{flag} into a closed pipe: {done:?}");
    }
}

/// Runs a program as a user with no entry in /etc/passwd (uid and gid 123456), as
/// `docker run --user 123456:123456` would; `None` (saying so) when not root.
pub fn run_as_stranger(program: &str, args: &[&str]) -> Option<Finished> {
    if image::image_for(program).is_some() {
        // docker run --user 123456:123456 itself.
        return Some(
            Running::start(Wrapper::Stranger, program, args, &[]).wait(Duration::from_secs(20)),
        );
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the tests as root"
        );
        eprintln!("skipped: switching to another uid needs root");
        return None;
    }
    // The stranger may not be able to reach the build tree (a checkout under /root, or in a
    // `mktemp -d` folder, is mode 0700), so it runs a copy from a folder anyone can enter.
    let copy = WorldReadableCopy::of(program);
    Some(Running::start(Wrapper::Stranger, copy.path(), args, &[]).wait(Duration::from_secs(20)))
}

/// A copy of a program in a fresh mode-0755 folder under the temp dir, removed on drop.
struct WorldReadableCopy {
    dir: PathBuf,
    program: String,
}

impl WorldReadableCopy {
    fn of(program: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hello-testkit-{}-{n}", std::process::id()));
        fs::create_dir(&dir).expect("create a folder for the copy");
        let copy = Self {
            program: dir
                .join(Path::new(program).file_name().expect("a program file name"))
                .to_str()
                .expect("a UTF-8 temp path")
                .to_string(),
            dir,
        };
        fs::set_permissions(&copy.dir, fs::Permissions::from_mode(0o755)).expect("chmod");
        fs::copy(program, &copy.program).expect("copy the program");
        fs::set_permissions(&copy.program, fs::Permissions::from_mode(0o755)).expect("chmod");
        copy
    }

    fn path(&self) -> &str {
        &self.program
    }
}

impl Drop for WorldReadableCopy {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Reads one line from the program's stdout, then closes the pipe, as `| head -1` does.
pub fn read_one_line_then_close(program: &str, args: &[&str]) -> (String, Finished) {
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut first)
        .expect("read a line");
    // The reader is gone now: the next write meets a broken pipe.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("still running after its stdout was closed");
        }
        thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    let finished = Finished {
        status,
        stdout: String::new(),
        stderr,
    };
    (first, finished)
}

/// Where a program's stdout and stderr go; `None` (the default) captures them.
#[derive(Default)]
pub struct Streams {
    pub stdout: Option<Stdio>,
    pub stderr: Option<Stdio>,
}

/// How to start a program, beyond its arguments and environment ([`Running::launch`]).
#[derive(Default)]
pub struct Launch {
    pub streams: Streams,
    /// As PID 1 of a new PID namespace (`unshare --pid --fork`), as in a container.
    pub as_pid1: bool,
    /// Signals the program inherits blocked, from a parent that blocked them before it started:
    /// the mask survives fork(2) and execve(2), `unshare` included.
    pub blocked: Vec<i32>,
    /// RLIMIT_FSIZE, with SIGXFSZ ignored: a write that would make a file larger than this takes
    /// what fits and the next one fails with EFBIG, like a disk that fills up half-way through
    /// a line.
    pub max_file_size: Option<u64>,
    /// RLIMIT_AS: a program that reads without end fails within this much memory instead of
    /// taking the machine's.
    pub max_memory: Option<u64>,
}

/// setrlimit(2), soft and hard limit alike; async-signal-safe, for `pre_exec`.
fn set_limit(resource: LimitResource, bytes: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    // SAFETY: a valid rlimit.
    if unsafe { libc::setrlimit(resource, &limit) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(target_env = "gnu")]
type LimitResource = libc::__rlimit_resource_t;
#[cfg(not(target_env = "gnu"))]
type LimitResource = libc::c_int;

/// A pipe that is held open and never read, like `docker run … | less` left on its first page:
/// once its buffer is full, every write(2) to it blocks.
pub struct UnreadPipe {
    read: OwnedFd,
    write: OwnedFd,
}

impl UnreadPipe {
    pub fn new() -> Self {
        let mut fds = [0; 2];
        // SAFETY: pipe2(2) fills two descriptors we then own (close-on-exec: only the copy
        // given to the child as its stdout is inherited).
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: both are fresh descriptors owned by nobody else.
        unsafe {
            UnreadPipe {
                read: OwnedFd::from_raw_fd(fds[0]),
                write: OwnedFd::from_raw_fd(fds[1]),
            }
        }
    }

    /// A pipe that is full before the program starts: its very first write blocks, as stderr
    /// does when a terminal is paused or a log reader stalled before the program ran.
    pub fn full() -> Self {
        let pipe = Self::new();
        // SAFETY: F_GETPIPE_SZ on a pipe we own.
        let capacity = unsafe { libc::fcntl(pipe.write.as_raw_fd(), libc::F_GETPIPE_SZ) };
        let filler = vec![b'.'; usize::try_from(capacity).expect("a pipe size")];
        // Exactly the capacity fits, so this blocking write returns at once.
        // SAFETY: the pointer and length describe `filler`.
        let n =
            unsafe { libc::write(pipe.write.as_raw_fd(), filler.as_ptr().cast(), filler.len()) };
        assert_eq!(n, capacity as isize, "fill the pipe");
        pipe
    }

    /// The writing end, for a child's stdout.
    pub fn writer(&self) -> Stdio {
        Stdio::from(self.write.try_clone().expect("dup the pipe"))
    }

    /// Waits until the pipe's buffer is full, so the writer is blocked in write(2).
    pub fn wait_until_full(&self, timeout: Duration) {
        // SAFETY: F_GETPIPE_SZ and FIONREAD on a pipe we own.
        let capacity = unsafe { libc::fcntl(self.read.as_raw_fd(), libc::F_GETPIPE_SZ) };
        let deadline = Instant::now() + timeout;
        loop {
            let mut queued: libc::c_int = 0;
            // SAFETY: as above.
            unsafe { libc::ioctl(self.read.as_raw_fd(), libc::FIONREAD, &mut queued) };
            if queued >= capacity {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "pipe holds {queued} of {capacity} bytes"
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Whether the pipe's shared file status still says "blocking" (nobody set O_NONBLOCK on it).
    pub fn is_blocking(&self) -> bool {
        [&self.read, &self.write].iter().all(|fd| {
            // SAFETY: F_GETFL on a descriptor we own.
            let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
            flags >= 0 && flags & libc::O_NONBLOCK == 0
        })
    }
}

impl Default for UnreadPipe {
    fn default() -> Self {
        Self::new()
    }
}

/// Starts `program` with `--message` longer than a pipe's buffer and stdout on an [`UnreadPipe`],
/// and waits until the first line has filled the pipe: the program is then asleep in write(2).
/// `None` when a PID namespace is asked for and cannot be made here.
pub fn spawn_blocked_on_stdout(
    program: &str,
    args: &[&str],
    as_pid1: bool,
) -> Option<(Running, UnreadPipe)> {
    let pipe = UnreadPipe::new();
    let message = "x".repeat(100_000);
    let mut all = vec![OsStr::new("--message"), OsStr::new(&message)];
    all.extend(args.iter().map(OsStr::new));
    let streams = Streams {
        stdout: Some(pipe.writer()),
        stderr: None,
    };
    let running = Running::spawn_with(program, &all, &[], streams, as_pid1)?;
    pipe.wait_until_full(PROMPTLY);
    Some((running, pipe))
}

/// Starts `program` with stdout on a pipe that is full before it starts and `blocked` signals
/// in the mask it inherits, and waits until it sleeps in its first write to stdout. Its write
/// has taken nothing yet, so a signal handler installed with SA_RESTART (signal-hook's) resumes
/// it: only the write timer's SIGALRM cuts it short. `None` as in [`Running::launch`].
pub fn spawn_on_full_stdout_masked(
    program: &str,
    args: &[&str],
    as_pid1: bool,
    blocked: &[i32],
) -> Option<(Running, UnreadPipe)> {
    let pipe = UnreadPipe::full();
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    let launch = Launch {
        streams: Streams {
            stdout: Some(pipe.writer()),
            stderr: None,
        },
        as_pid1,
        blocked: blocked.to_vec(),
        ..Launch::default()
    };
    let running = Running::launch(program, &args, &[], launch)?;
    assert!(
        running.seen_blocked_writing(1, PROMPTLY),
        "never blocked on stdout; stderr:\n{}",
        running.stderr()
    );
    Some((running, pipe))
}

/// Sends `signal` and waits for the exit: how long it took, and what the run left behind. For a
/// run from an image, the time is until the program's process ended (a pidfd), not until `docker
/// run` reported it: the engine's own tear-down is not the program's.
pub fn signal_and_time(running: Running, signal: i32) -> (Duration, Finished) {
    let exit = running
        .container
        .as_ref()
        .map(|_| ProcessExit::watch(running.pid()));
    let sent = Instant::now();
    running.signal(signal);
    let took = match exit {
        Some(exit) => exit.wait(PROMPTLY + running.allowance),
        None => None,
    };
    let done = running.wait(PROMPTLY);
    (took.unwrap_or_else(|| sent.elapsed()), done)
}

/// A pidfd on a process that need not be our child (a container's), to see when it ends.
struct ProcessExit(OwnedFd);

impl ProcessExit {
    fn watch(pid: i32) -> Self {
        // SAFETY: pidfd_open(2) with no flags returns a new descriptor we then own.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        assert!(
            fd >= 0,
            "pidfd_open({pid}): {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: a fresh descriptor owned by nobody else.
        Self(unsafe { OwnedFd::from_raw_fd(fd as i32) })
    }

    /// Waits until the process has ended (the pidfd is readable): how long after the call that
    /// was seen; `None` after `timeout`.
    fn wait(self, timeout: Duration) -> Option<Duration> {
        let started = Instant::now();
        let mut pollfd = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        while started.elapsed() < timeout {
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut pollfd, 1, 10) } > 0 {
                return Some(started.elapsed());
            }
        }
        None
    }
}

/// How a program is started.
enum Wrapper {
    Direct,
    /// `unshare --pid --fork`: the program is PID 1 of a new PID namespace, as in a container.
    PidNamespace,
    /// As uid/gid 123456, which no passwd file knows.
    Stranger,
}

/// A program being run, with its output collected in the background.
pub struct Running {
    child: Child,
    /// The program's PID as seen from here (for `--pid` runs, the child of `unshare`; for runs
    /// from an image, the container's process, known once it runs).
    pid: OnceLock<i32>,
    /// The container's name, for runs from an image (`child` is then `docker run`).
    container: Option<String>,
    /// How much longer than for a direct run the bounds on waits are (the container's start).
    allowance: Duration,
    stdout_lines: Receiver<String>,
    /// The threads reading stdout and stderr; each ends at EOF.
    readers: [thread::JoinHandle<()>; 2],
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    pub fn spawn(program: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start(Wrapper::Direct, program, args, env)
    }

    /// Starts the program as PID 1 of a new PID namespace, or returns `None` (saying so) when
    /// this process may not create one. Under CI (`CI` set) that is a failure, not a skip: CI runs
    /// as root, and these are the tests that prove the container behaviour.
    /// From an image, the program is PID 1 of its container anyway.
    pub fn spawn_as_pid1(program: &str, args: &[&str], env: &[(&str, &str)]) -> Option<Self> {
        (image::image_for(program).is_some() || pid_namespace_usable())
            .then(|| Self::start(Wrapper::PidNamespace, program, args, env))
    }

    /// Like [`Running::spawn`], with stdout and/or stderr given instead of captured, and
    /// arguments and variables that need not be UTF-8; as PID 1 of a new PID namespace when
    /// `as_pid1` (`None` when that cannot be done here, as in [`Running::spawn_as_pid1`]).
    pub fn spawn_with(
        program: &str,
        args: &[&OsStr],
        env: &[(&str, &OsStr)],
        streams: Streams,
        as_pid1: bool,
    ) -> Option<Self> {
        let launch = Launch {
            streams,
            as_pid1,
            ..Launch::default()
        };
        Self::launch(program, args, env, launch)
    }

    /// Starts a program as `launch` says (see [`Launch`]); `None` when it asks for PID 1 and
    /// that cannot be done here, as in [`Running::spawn_as_pid1`], and (saying why) when it
    /// asks for what `docker run` cannot give a container and the program runs from an image.
    pub fn launch(
        program: &str,
        args: &[&OsStr],
        env: &[(&str, &OsStr)],
        launch: Launch,
    ) -> Option<Self> {
        if image::image_for(program).is_some() {
            let why = if launch.streams.stdout.is_some() || launch.streams.stderr.is_some() {
                Some(
                    "a container's stdout and stderr are the runtime's pipes: a file or pipe \
                     given to docker run is the client's",
                )
            } else if !launch.blocked.is_empty() {
                Some("a container's parent is the runtime: no signal mask is handed down to it")
            } else if launch.max_file_size.is_some() || launch.max_memory.is_some() {
                Some(
                    "the tests pair these limits with a stdout file or our own child's \
                     /proc/PID/io, which a container does not give",
                )
            } else {
                None
            };
            if let Some(why) = why {
                not_for_images(program, why);
                return None;
            }
            return Some(Self::start_os(
                Wrapper::PidNamespace,
                program,
                args,
                env,
                launch,
            ));
        }
        if launch.as_pid1 && !pid_namespace_usable() {
            return None;
        }
        let wrapper = if launch.as_pid1 {
            Wrapper::PidNamespace
        } else {
            Wrapper::Direct
        };
        Some(Self::start_os(wrapper, program, args, env, launch))
    }

    fn start(wrapper: Wrapper, program: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, OsStr::new(v))).collect();
        Self::start_os(wrapper, program, &args, &env, Launch::default())
    }

    fn start_os(
        wrapper: Wrapper,
        program: &str,
        args: &[&OsStr],
        env: &[(&str, &OsStr)],
        launch: Launch,
    ) -> Self {
        let Launch {
            streams,
            as_pid1: _,
            blocked,
            max_file_size,
            max_memory,
        } = launch;
        if let Some(image) = image::image_for(program) {
            let name = image::container_name();
            let mut command = image.command(&name, matches!(wrapper, Wrapper::Stranger), args, env);
            command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let child = command
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start docker run {}: {e}", image.reference));
            return Self::collect(child, OnceLock::new(), Some(name), image.allowance());
        }
        let mut command = match wrapper {
            Wrapper::Direct => Command::new(program),
            Wrapper::Stranger => {
                let mut c = Command::new(program);
                std::os::unix::process::CommandExt::uid(&mut c, 123_456);
                std::os::unix::process::CommandExt::gid(&mut c, 123_456);
                c
            }
            Wrapper::PidNamespace => {
                let mut c = Command::new(unshare());
                c.args(["--pid", "--fork", "--", program]);
                c
            }
        };
        command
            .args(args)
            .env_clear()
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(streams.stdout.unwrap_or_else(Stdio::piped))
            .stderr(streams.stderr.unwrap_or_else(Stdio::piped));
        if !blocked.is_empty() || max_file_size.is_some() || max_memory.is_some() {
            // SAFETY: only async-signal-safe calls (sigprocmask, signal, setrlimit) between fork
            // and exec, on memory prepared before the fork.
            unsafe {
                let mut mask: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut mask);
                for &signal in &blocked {
                    libc::sigaddset(&mut mask, signal);
                }
                std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
                    if libc::sigprocmask(libc::SIG_BLOCK, &mask, std::ptr::null_mut()) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    if let Some(bytes) = max_file_size {
                        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                        set_limit(libc::RLIMIT_FSIZE, bytes)?;
                    }
                    if let Some(bytes) = max_memory {
                        set_limit(libc::RLIMIT_AS, bytes)?;
                    }
                    Ok(())
                });
            }
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let pid = match wrapper {
            Wrapper::Direct | Wrapper::Stranger => child.id() as i32,
            Wrapper::PidNamespace => forked_child_of(&mut child),
        };
        Self::collect(child, OnceLock::from(pid), None, Duration::ZERO)
    }

    /// Reads the child's stdout and stderr in the background.
    fn collect(
        mut child: Child,
        pid: OnceLock<i32>,
        container: Option<String>,
        allowance: Duration,
    ) -> Self {
        let (line_tx, stdout_lines) = mpsc::channel();
        let stdout = Arc::new(Mutex::new(String::new()));
        let stdout_all = Arc::clone(&stdout);
        let stdout_pipe = child.stdout.take();
        let stdout_reader = thread::spawn(move || {
            let Some(stdout_pipe) = stdout_pipe else {
                return; // given, not captured
            };
            let mut reader = BufReader::new(stdout_pipe);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                stdout_all.lock().unwrap().push_str(&line);
                let _ = line_tx.send(line.trim_end_matches('\n').to_string());
                line.clear();
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_pipe = child.stderr.take();
        let stderr_all = Arc::clone(&stderr);
        let stderr_reader = thread::spawn(move || {
            let Some(mut stderr_pipe) = stderr_pipe else {
                return;
            };
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = stderr_pipe.read(&mut chunk) {
                stderr_all
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        Running {
            child,
            pid,
            container,
            allowance,
            stdout_lines,
            readers: [stdout_reader, stderr_reader],
            stdout,
            stderr,
        }
    }

    /// The program's PID as seen from here; for a run from an image, the container's process
    /// (QEMU's interpreter under emulation), which this waits for.
    pub fn pid(&self) -> i32 {
        *self.pid.get_or_init(|| {
            let name = self
                .container
                .as_deref()
                .expect("a direct run's PID is known");
            let deadline = Instant::now() + PROMPTLY + self.allowance;
            loop {
                if let Some(pid) = image::container_pid(name) {
                    return pid;
                }
                assert!(
                    Instant::now() < deadline,
                    "container {name} never ran; stderr:\n{}",
                    self.stderr()
                );
                thread::sleep(Duration::from_millis(20));
            }
        })
    }

    /// Waits until the program itself runs: for a PID-1 run, until the child `unshare` forked
    /// has exec'd it. From that moment on, a container runtime could signal it. (From an image:
    /// until the container runs.)
    pub fn wait_for_exec(&self, program: &str) {
        if self.container.is_some() {
            self.pid();
            return;
        }
        let want = fs::canonicalize(program).expect("the program's path");
        let exe = format!("/proc/{}/exe", self.pid());
        let deadline = Instant::now() + PROMPTLY;
        while fs::read_link(&exe).ok().as_ref() != Some(&want) {
            assert!(Instant::now() < deadline, "{program} was never exec'd");
            thread::sleep(Duration::from_micros(100));
        }
    }

    /// Waits for the next line on stdout.
    pub fn next_line(&self, timeout: Duration) -> String {
        let timeout = timeout + self.allowance;
        self.stdout_lines.recv_timeout(timeout).unwrap_or_else(|e| {
            panic!(
                "no stdout line within {timeout:?} ({e}); stderr:\n{}",
                self.stderr()
            )
        })
    }

    /// Waits until stderr contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) {
        let timeout = timeout + self.allowance;
        let deadline = Instant::now() + timeout;
        while !self.stderr().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "stderr has no {needle:?} after {timeout:?}:\n{}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// What the program has printed on stdout so far.
    pub fn stdout_so_far(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends a real signal to the program (not to `unshare`).
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) with a PID we started and still own as a (grand)child.
        let pid = self.pid();
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal}) failed");
    }

    /// Whether the program still runs after `grace`.
    pub fn still_running_after(&mut self, grace: Duration) -> bool {
        thread::sleep(grace);
        let exited = self.child.try_wait().expect("try_wait").is_some();
        // A zombie has exited too; its parent (unshare) just has not reaped it yet.
        !exited && process_state(self.pid()).is_some_and(|state| state != 'Z')
    }

    /// The kernel's view of the program: its threads.
    pub fn thread_count(&self) -> usize {
        fs::read_dir(format!("/proc/{}/task", self.pid()))
            .map(|dir| dir.count())
            .unwrap_or(0)
    }

    /// The signals the program has a handler for (`SigCgt` in `/proc/PID/status`), as a mask
    /// with bit `n - 1` for signal `n`.
    pub fn caught_signals(&self) -> u64 {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .expect("SigCgt in /proc/PID/status")
    }

    /// CPU time (user + system) used so far, in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // Fields after the command name, which sits in parentheses and may contain spaces.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        ticks(11) + ticks(12)
    }

    /// Whether the program is seen asleep in a write(2) to `fd` (a full pipe) within `within`, as
    /// `/proc/PID/syscall` shows it: the syscall number, then its first argument, the descriptor.
    /// A write that is over before this thread looks (a loaded machine) is not seen.
    pub fn seen_blocked_writing(&self, fd: i32, within: Duration) -> bool {
        let want = format!("{} {fd:#x} ", libc::SYS_write);
        let syscall = format!("/proc/{}/syscall", self.pid());
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if fs::read_to_string(&syscall).is_ok_and(|now| now.starts_with(&want)) {
                return true;
            }
            thread::sleep(Duration::from_micros(200));
        }
        false
    }

    /// Like [`Running::wait`], and how many bytes the program read: `rchar` of
    /// `/proc/PID/io`, read from the exited process before it is reaped (waitid(2) with
    /// WNOWAIT). Every read(2) counts, the dynamic loader's and the runtime's included. Not for
    /// PID-1 runs (their parent is `unshare`).
    pub fn wait_counting_reads(mut self, timeout: Duration) -> (Finished, u64) {
        assert!(
            self.container.is_none(),
            "wait_counting_reads needs our own child: not for runs from an image"
        );
        let deadline = Instant::now() + timeout;
        loop {
            // SAFETY: waitid on our own child, with a zeroed siginfo it fills in.
            let exited = unsafe {
                let mut info: libc::siginfo_t = std::mem::zeroed();
                let flags = libc::WEXITED | libc::WNOWAIT | libc::WNOHANG;
                let rc = libc::waitid(libc::P_PID, self.pid() as libc::id_t, &mut info, flags);
                assert_eq!(rc, 0, "waitid: {}", std::io::Error::last_os_error());
                info.si_pid() != 0
            };
            if exited {
                break;
            }
            if Instant::now() >= deadline {
                self.kill_after(timeout);
            }
            thread::sleep(Duration::from_millis(2));
        }
        let io = fs::read_to_string(format!("/proc/{}/io", self.pid())).expect("/proc/PID/io");
        let rchar = io
            .lines()
            .find_map(|l| l.strip_prefix("rchar:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("rchar in /proc/PID/io");
        (self.wait(timeout), rchar)
    }

    /// The end of a run that overstayed `timeout`: killed, and the test fails.
    fn kill_after(&mut self, timeout: Duration) -> ! {
        self.end_now();
        let _ = self.child.wait();
        panic!(
            "did not exit within {timeout:?}; stderr:\n{}",
            self.stderr()
        );
    }

    /// Waits for the exit, killing the program if it does not come within `timeout`.
    pub fn wait(mut self, timeout: Duration) -> Finished {
        let timeout = timeout + self.allowance;
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() >= deadline {
                self.kill_after(timeout);
            }
            thread::sleep(Duration::from_millis(5));
        };
        // The reader threads finish at EOF, which follows the exit (unless something the program
        // started still holds a pipe): wait for them, within bounds, so no output is missed on
        // a busy machine.
        let settle = Instant::now() + Duration::from_secs(2);
        while !self.readers.iter().all(thread::JoinHandle::is_finished) && Instant::now() < settle {
            thread::sleep(Duration::from_millis(2));
        }
        Finished {
            status,
            stdout: self.stdout_so_far(),
            stderr: self.stderr(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Never leave a program behind when an assertion fails half-way.
        if let Ok(None) = self.child.try_wait() {
            self.end_now();
            let _ = self.child.wait();
        }
    }
}

impl Running {
    /// SIGKILL for the program and what started it; a container is removed.
    fn end_now(&mut self) {
        if let Some(name) = &self.container {
            image::remove(name);
        } else if let Some(&pid) = self.pid.get() {
            // SAFETY: as in `signal`.
            unsafe { libc::kill(pid, SIGKILL) };
        }
        let _ = self.child.kill();
    }
}

fn unshare() -> &'static str {
    ["/usr/bin/unshare", "/bin/unshare"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("unshare")
}

/// Whether a PID namespace can be made here; when not, says why (a skip), or fails under CI.
fn pid_namespace_usable() -> bool {
    let Some(reason) = pid_namespace_unavailable() else {
        return true;
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "PID-namespace test cannot run under CI: {reason}"
    );
    eprintln!("skipped: {reason}");
    false
}

/// Why a PID namespace cannot be made here, if it cannot.
fn pid_namespace_unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("PID-namespace tests need root (unshare --pid)".into());
    }
    let probe = Command::new(unshare())
        .args(["--pid", "--fork", "--", "/bin/true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match probe {
        Ok(status) if status.success() => None,
        Ok(status) => Some(format!("unshare --pid --fork failed here ({status})")),
        Err(e) => Some(format!("unshare not available ({e})")),
    }
}

/// The PID of the process `unshare --fork` started: the program, PID 1 inside its namespace.
/// A program that has already come and gone leaves only `unshare`, whose PID is returned then.
fn forked_child_of(unshare: &mut Child) -> i32 {
    let unshare_pid = unshare.id() as i32;
    let children = format!("/proc/{unshare_pid}/task/{unshare_pid}/children");
    let deadline = Instant::now() + PROMPTLY;
    loop {
        let listed = fs::read_to_string(&children).unwrap_or_default();
        if let Some(pid) = listed.split_whitespace().next() {
            return pid.parse().expect("a PID");
        }
        if unshare.try_wait().expect("try_wait").is_some() {
            return unshare_pid;
        }
        assert!(Instant::now() < deadline, "unshare started no child");
        thread::sleep(Duration::from_millis(2));
    }
}

/// The state letter of a process (R, S, Z, ...), if it exists.
fn process_state(pid: i32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// A stop that comes while the program's first write waits on a blocked stderr. The program is
/// started as PID 1 with stderr (and, when `stdout_blocked`, stdout) on a pipe that is full
/// before it starts, so its first write (the "starting" line) sleeps in the kernel until its
/// 10 ms attempt is over; SIGTERM is sent 0, 1, 2 … 20 ms after that write began, one run each.
/// A handler installed only after that line lets the kernel drop the signal (PID 1), and the
/// run never ends. Every run must end with `code` within `bound`. Returns the time from the
/// signal to the exit of each run (printed with their median, for the record), or `None` when a
/// PID namespace cannot be made here.
///
/// The clock starts at the first write, not at exec: between execve(2) and the program's first
/// instruction (the dynamic loader, Rust's runtime start-up) no program has a handler, and a
/// signal there is dropped whatever the program does.
pub fn early_sigterm_sweep_as_pid1(
    program: &str,
    args: &[&str],
    stdout_blocked: bool,
    code: i32,
    bound: Duration,
) -> Option<Vec<Duration>> {
    if not_for_images(
        program,
        "its stdout and stderr must be pipes full before it starts, which docker run cannot hand \
         to a container",
    ) {
        return None;
    }
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    let mut took = Vec::new();
    for after_ms in 0..=20 {
        // The first write lasts one 10 ms attempt: a run in which this thread did not get to look
        // in time is started again.
        let (running, _pipes) = (0..5)
            .find_map(|_| {
                let pipes = (UnreadPipe::full(), UnreadPipe::full());
                let streams = Streams {
                    stdout: stdout_blocked.then(|| pipes.0.writer()),
                    stderr: Some(pipes.1.writer()),
                };
                let running = Running::spawn_with(program, &args, &[], streams, true)?;
                running.wait_for_exec(program);
                running
                    .seen_blocked_writing(2, Duration::from_secs(1))
                    .then_some((running, pipes))
            })
            .expect("the first write to stderr seen in one of 5 runs");
        thread::sleep(Duration::from_millis(after_ms));
        eprintln!("SIGTERM {after_ms} ms into the first write");
        let sent = Instant::now();
        running.signal(SIGTERM);
        let done = running.wait(PROMPTLY);
        let elapsed = sent.elapsed();
        assert_eq!(
            done.code(),
            Some(code),
            "SIGTERM {after_ms} ms into the first write: {done:?}"
        );
        assert!(
            elapsed < bound,
            "SIGTERM {after_ms} ms into the first write: exit after {elapsed:?}"
        );
        took.push(elapsed);
    }
    let mut sorted = took.clone();
    sorted.sort();
    eprintln!(
        "{program} {args:?}: SIGTERM 0-20 ms into its first write as PID 1, stderr blocked: \
         exit {:?} after it (median of {}; max {:?})",
        sorted[sorted.len() / 2],
        sorted.len(),
        sorted[sorted.len() - 1]
    );
    Some(took)
}
