//! Running the programs under test: spawn, reap with wait4, peak RSS at exit (ptrace), stop as PID 1
//! (started by hello-testkit's PID-1 runner, as the integration tests do).

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use hello_testkit::{Running, Streams};

pub type Error = Box<dyn std::error::Error>;
pub type Result<T> = std::result::Result<T, Error>;

/// A command line: program and arguments.
pub type Argv = Vec<OsString>;

/// How long to wait for a program to start (first line, or asleep in its loop) before giving up.
const START_TIMEOUT: Duration = Duration::from_secs(5);

/// A command with a neutral environment: no HELLO_* or PYTHON* variables (so no PYTHONUNBUFFERED
/// sneaks in from the caller's shell) and no RUST_LOG, so both sides run with their defaults.
pub fn command(argv: &[OsString]) -> Command {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("HELLO_") || k.starts_with("PYTHON") || k == "RUST_LOG" {
            cmd.env_remove(&key);
        }
    }
    cmd
}

/// Kills (SIGKILL) and reaps a child if we return early, so a failed measurement leaves nothing behind.
struct Reaper(Option<i32>);

impl Reaper {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            signal(pid, libc::SIGKILL);
            let _ = wait4(pid, libc::__WALL);
        }
    }
}

pub fn signal(pid: i32, sig: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; a stale pid only yields ESRCH.
    unsafe { libc::kill(pid, sig) };
}

/// wait4(2), retried on EINTR. `None` only with WNOHANG when the child has not changed state.
fn wait4(pid: i32, flags: i32) -> io::Result<Option<(i32, libc::rusage)>> {
    let mut status = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both out-pointers are valid for writes for the duration of the call.
        let r = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        match r {
            -1 => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            0 => return Ok(None),
            _ => return Ok(Some((status, usage))),
        }
    }
}

fn wait_exit(pid: i32) -> io::Result<i32> {
    loop {
        if let Some((status, _)) = wait4(pid, libc::__WALL)? {
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                return Ok(status);
            }
        }
    }
}

/// "exit 0", "killed by SIGKILL", ... for a wait status.
pub fn describe(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("exit {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        match libc::WTERMSIG(status) {
            libc::SIGKILL => "killed by SIGKILL".into(),
            libc::SIGTERM => "killed by SIGTERM".into(),
            sig => format!("killed by signal {sig}"),
        }
    } else {
        format!("wait status {status:#x}")
    }
}

fn spawn_error(argv: &[OsString], e: io::Error) -> Error {
    format!("cannot run {}: {e}", argv[0].to_string_lossy()).into()
}

/// Runs `argv` to completion with stdin, stdout and stderr on /dev/null; returns the wall time from
/// just before spawning to the moment wait4 reaped it, and the wait status.
pub fn timed_run(argv: &[OsString]) -> Result<(Duration, i32)> {
    let mut cmd = command(argv);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let start = Instant::now();
    let child = cmd.spawn().map_err(|e| spawn_error(argv, e))?;
    let status = wait_exit(child.id() as i32)?;
    Ok((start.elapsed(), status))
}

/// Runs `argv` with stdout captured; returns stdout and the wait status (a correctness check first).
pub fn output(argv: &[OsString]) -> Result<(Vec<u8>, i32)> {
    let out = command(argv)
        .stderr(Stdio::null())
        .output()
        .map_err(|e| spawn_error(argv, e))?;
    Ok((out.stdout, out.status.into_raw()))
}

/// Peak resident set size (VmHWM, KiB) of `argv`'s own address space, read at its exit.
///
/// Why not wait4's ru_maxrss: Linux folds the RSS of the address space a process had *before*
/// execve (the harness's, copied by fork or shared by vfork/posix_spawn) into ru_maxrss, so a
/// 1 MB program spawned from a 3 MB parent reports at least 3 MB. Instead the child is traced
/// (PTRACE_TRACEME, PTRACE_O_TRACEEXIT) and /proc/PID/status VmHWM is read at the exit stop, when
/// the exec'd image's memory is still mapped. Tracing slows the run, so these runs are separate from
/// the timed ones.
///
/// `run_for`: for a program that does not exit by itself, send SIGTERM after this long (outside a
/// PID namespace, so the Python loop dies of it too).
pub fn peak_rss(argv: &[OsString], run_for: Option<Duration>) -> Result<(u64, i32)> {
    let mut cmd = command(argv);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: the closure runs between fork and exec and only makes one async-signal-safe syscall.
    unsafe {
        cmd.pre_exec(|| {
            let r = libc::ptrace(
                libc::PTRACE_TRACEME,
                0,
                std::ptr::null_mut::<libc::c_void>(),
                std::ptr::null_mut::<libc::c_void>(),
            );
            if r == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|e| spawn_error(argv, e))?;
    let pid = child.id() as i32;
    let mut reaper = Reaper(Some(pid));

    // The tracee stops with SIGTRAP right after execve succeeded.
    let (status, _) = wait4(pid, libc::__WALL)?.ok_or("no exec stop")?;
    if !(libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == libc::SIGTRAP) {
        return Err(format!("expected an exec stop, got {}", describe(status)).into());
    }
    let options = libc::PTRACE_O_TRACEEXIT | libc::PTRACE_O_EXITKILL;
    ptrace_setoptions(pid, options)?;
    ptrace_cont(pid, 0)?;

    let deadline = run_for.map(|d| Instant::now() + d);
    let mut terminated = deadline.is_none();
    let mut hwm = None;
    loop {
        let flags = libc::__WALL | if terminated { 0 } else { libc::WNOHANG };
        let Some((status, _)) = wait4(pid, flags)? else {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                signal(pid, libc::SIGTERM);
                terminated = true;
            } else {
                sleep(Duration::from_millis(5));
            }
            continue;
        };
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            reaper.disarm();
            let hwm = hwm.ok_or("the exit stop was never reported")?;
            return Ok((hwm, status));
        }
        if libc::WIFSTOPPED(status) {
            if status >> 8 == (libc::SIGTRAP | (libc::PTRACE_EVENT_EXIT << 8)) {
                hwm = Some(vm_hwm_kib(pid)?);
                ptrace_cont(pid, 0)?;
            } else {
                // A signal on its way to the tracee: deliver it unchanged.
                ptrace_cont(pid, libc::WSTOPSIG(status))?;
            }
        }
    }
}

fn ptrace_setoptions(pid: i32, options: libc::c_int) -> io::Result<()> {
    // SAFETY: PTRACE_SETOPTIONS takes an integer in `data` and no pointers.
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_SETOPTIONS,
            pid,
            std::ptr::null_mut::<libc::c_void>(),
            options as usize as *mut libc::c_void,
        )
    };
    check(r)
}

/// Resumes the tracee, delivering `sig` (0 for none).
fn ptrace_cont(pid: i32, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: PTRACE_CONT takes a signal number in `data` and no pointers.
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_CONT,
            pid,
            std::ptr::null_mut::<libc::c_void>(),
            sig as usize as *mut libc::c_void,
        )
    };
    check(r)
}

fn check(r: libc::c_long) -> io::Result<()> {
    if r == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn vm_hwm_kib(pid: i32) -> Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("no VmHWM in /proc/{pid}/status").into())
}

/// How a program answered SIGTERM as PID 1.
pub enum Pid1Stop {
    /// Exited this long after SIGTERM was sent; the wait status unshare passed on.
    Exited(Duration, i32),
    /// Still running after the grace period; it took SIGKILL.
    Ignored,
}

/// Starts `argv` as PID 1 of a new PID namespace with hello-testkit's runner (`unshare --pid
/// --fork`, empty environment, as the integration tests and a container runtime start it), waits
/// until it has started, sends SIGTERM from the parent namespace (as a container runtime does) and
/// measures the time until it is gone (pidfd readable). If it is still running after `grace`,
/// SIGKILL.
///
/// Started means: running the expected executable (not unshare's fork before exec), asleep in a
/// wait syscall (its loop's sleep or event wait), and, when `first_line` is set, its first line
/// has arrived through the stdout pipe. The Python loop's first line cannot arrive (block buffer).
pub fn pid1_stop(argv: &[OsString], first_line: bool, grace: Duration) -> Result<Pid1Stop> {
    let exe = fs::canonicalize(&argv[0])?;
    let program = exe.to_str().ok_or("program path is not UTF-8")?;
    let args: Vec<&OsStr> = argv[1..].iter().map(OsString::as_os_str).collect();
    let streams = Streams {
        stdout: None, // captured: the first line is waited for
        stderr: Some(Stdio::null()),
    };
    let running = Running::spawn_with(program, &args, &[], streams, true)
        .ok_or("a PID namespace cannot be made here")?;
    running.wait_for_exec(program);
    let target = running.pid();
    if first_line {
        running.next_line(START_TIMEOUT);
    }
    let deadline = Instant::now() + START_TIMEOUT;
    poll_until(deadline, || is_waiting(target).then_some(()))
        .ok_or_else(|| format!("{} did not settle within 5 s", exe.display()))?;

    let pidfd = pidfd_open(target)?;
    let start = Instant::now();
    running.signal(libc::SIGTERM);
    let result = if readable(&pidfd, grace)? {
        let took = start.elapsed();
        // The wait status unshare passed on.
        Pid1Stop::Exited(took, running.wait(START_TIMEOUT).status.into_raw())
    } else {
        running.signal(libc::SIGKILL);
        if !readable(&pidfd, START_TIMEOUT)? {
            return Err("the program survived SIGKILL".into());
        }
        running.wait(START_TIMEOUT);
        Pid1Stop::Ignored
    };
    Ok(result)
}

fn poll_until<T>(deadline: Instant, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        sleep(Duration::from_micros(500));
    }
}

/// Asleep (state S) in a syscall that waits for time or events: the program is in its loop.
fn is_waiting(pid: i32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    if state != Some('S') {
        return false;
    }
    match fs::read_to_string(format!("/proc/{pid}/syscall")) {
        Ok(s) => s
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<libc::c_long>().ok())
            .is_some_and(|n| WAIT_SYSCALLS.contains(&n)),
        // No /proc/PID/syscall on this kernel: state S has to do.
        Err(_) => true,
    }
}

#[cfg(target_arch = "x86_64")]
const WAIT_SYSCALLS: &[libc::c_long] = &[
    libc::SYS_epoll_wait,
    libc::SYS_epoll_pwait,
    libc::SYS_epoll_pwait2,
    libc::SYS_clock_nanosleep,
    libc::SYS_nanosleep,
    libc::SYS_select,
    libc::SYS_pselect6,
    libc::SYS_poll,
    libc::SYS_ppoll,
    libc::SYS_futex,
];
#[cfg(not(target_arch = "x86_64"))]
const WAIT_SYSCALLS: &[libc::c_long] = &[
    libc::SYS_epoll_pwait,
    libc::SYS_epoll_pwait2,
    libc::SYS_clock_nanosleep,
    libc::SYS_nanosleep,
    libc::SYS_pselect6,
    libc::SYS_ppoll,
    libc::SYS_futex,
];

fn pidfd_open(pid: i32) -> Result<OwnedFd> {
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd == -1 {
        return Err(format!("pidfd_open: {}", io::Error::last_os_error()).into());
    }
    // SAFETY: fd is a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// A pidfd becomes readable when the process has terminated.
fn readable(fd: &OwnedFd, timeout: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        if poll_in(
            fd.as_raw_fd(),
            deadline.saturating_duration_since(Instant::now()),
        )? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
    }
}

fn poll_in(fd: RawFd, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // Round up so a sub-millisecond remainder does not become a busy poll(0).
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    // SAFETY: pfd is one valid pollfd.
    match unsafe { libc::poll(&mut pfd, 1, ms) } {
        -1 => {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e)
            }
        }
        0 => Ok(false),
        _ => Ok(true),
    }
}

/// Starts every command with stdout on a pipe, and `after` its own start counts the lines that
/// have come through, then stops it (SIGTERM, SIGKILL after 2 s). All run at the same time.
pub fn lines_after(cmds: &[Argv], after: Duration) -> Result<Vec<usize>> {
    let mut running = Vec::new();
    for argv in cmds {
        let mut child = command(argv)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| spawn_error(argv, e))?;
        let start = Instant::now();
        let pid = child.id() as i32;
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        running.push((start, Reaper(Some(pid)), stdout));
    }
    let mut counts = Vec::new();
    for (start, mut reaper, stdout) in running {
        sleep((start + after).saturating_duration_since(Instant::now()));
        counts.push(count_available_lines(stdout)?);
        if let Some(pid) = reaper.0 {
            stop(pid)?;
            reaper.disarm();
        }
    }
    Ok(counts)
}

fn count_available_lines(mut stdout: ChildStdout) -> Result<usize> {
    let fd = stdout.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own; only toggles O_NONBLOCK.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    let mut data = Vec::new();
    match stdout.read_to_end(&mut data) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e.into()),
    }
    Ok(data.iter().filter(|&&b| b == b'\n').count())
}

fn stop(pid: i32) -> io::Result<()> {
    signal(pid, libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if wait4(pid, libc::WNOHANG)?.is_some() {
            return Ok(());
        }
        sleep(Duration::from_millis(5));
    }
    signal(pid, libc::SIGKILL);
    wait_exit(pid).map(drop)
}

/// Whether an ELF file is statically linked: it has no PT_INTERP (no dynamic loader to run it).
pub fn elf_is_static(path: &Path) -> Result<bool> {
    let b = fs::read(path)?;
    if b.len() < 64 || &b[..4] != b"\x7fELF" {
        return Err(format!("{} is not an ELF file", path.display()).into());
    }
    let le = b[5] == 1;
    let u16_at = |o: usize| {
        let v = [b[o], b[o + 1]];
        if le {
            u16::from_le_bytes(v)
        } else {
            u16::from_be_bytes(v)
        }
    };
    let u32_at = |o: usize| {
        let v = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        if le {
            u32::from_le_bytes(v)
        } else {
            u32::from_be_bytes(v)
        }
    };
    let (phoff, phentsize, phnum) = if b[4] == 2 {
        let lo = u32_at(0x20) as u64;
        let hi = u32_at(0x24) as u64;
        let off = if le { lo | (hi << 32) } else { (lo << 32) | hi };
        (off as usize, u16_at(0x36) as usize, u16_at(0x38) as usize)
    } else {
        (
            u32_at(0x1c) as usize,
            u16_at(0x2a) as usize,
            u16_at(0x2c) as usize,
        )
    };
    const PT_INTERP: u32 = 3;
    for i in 0..phnum {
        let o = phoff + i * phentsize;
        if o + 4 > b.len() {
            return Err(format!("{}: truncated program headers", path.display()).into());
        }
        if u32_at(o) == PT_INTERP {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `file -b` on a path, for the human-readable verdict ("static-pie linked", ...), if `file` exists.
pub fn file_description(path: &Path) -> Option<String> {
    let out = Command::new("file").arg("-b").arg(path).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Finds `name` on PATH.
pub fn which(name: &OsStr) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file()))
}
