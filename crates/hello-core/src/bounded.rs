//! Writes that cannot hold the program hostage. A full pipe nobody reads (`docker run … | less`,
//! a FIFO held open) or a terminal paused with Ctrl-S makes write(2) sleep in the kernel, and
//! signal-hook installs its handlers with SA_RESTART, so a SIGTERM alone would not wake it: the
//! program would sit there until SIGKILL. So every write here is one attempt bounded in time.
//!
//! The bound is a repeating timer (timer_create, SIGALRM every [`ATTEMPT`]) armed around the single
//! write(2), with a SIGALRM handler installed *without* SA_RESTART: a write that sleeps is cut short
//! by the next tick with EINTR, or with the count of bytes it already took. The timer repeats, so a
//! tick that lands just before the write starts is followed by another one. Nothing about the file
//! descriptor changes: no O_NONBLOCK, which would be shared with every other holder of the same
//! open file description (the shell's terminal, a pipe other processes write to) and could outlive
//! us if we were SIGKILLed at the wrong moment.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The longest one write may sleep in the kernel before the caller gets control back.
pub const ATTEMPT: Duration = Duration::from_millis(10);

static DISABLED: AtomicBool = AtomicBool::new(false);

/// From now on, writes are plain write(2) calls with no timer and no SIGALRM handler: for
/// `hello-loop --signals ignore` (the naive program on purpose, which installs no handler of any
/// kind) and for `hello-loop check` (a probe that installs no handler).
pub fn disable() {
    DISABLED.store(true, Ordering::Relaxed);
}

/// Makes this thread's write timer now (installing the SIGALRM handler) and unblocks SIGALRM, in
/// case the parent started us with it blocked (the mask survives execve(2)): a blocked tick
/// would never interrupt a write, and a write to a blocked stdout would sleep for ever. The
/// handler comes first, so a SIGALRM already pending is harmless. Nothing happens after
/// [`disable`], or when no timer can be made (writes are then plain write(2) calls anyway).
pub fn prepare() -> io::Result<()> {
    if DISABLED.load(Ordering::Relaxed) || TIMER.with(Option::is_none) {
        return Ok(());
    }
    crate::shutdown::unblock(&[libc::SIGALRM])
}

/// Writes as much of `buf` to `fd` as the kernel takes within about [`ATTEMPT`]: `Ok(n)` with
/// `n` the bytes taken, 0 when the file is blocked (a full pipe, a paused terminal). Errors other
/// than blocking (a broken pipe, a full disk, a read-only descriptor) are returned as they are.
pub fn write_bounded(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    let _alarm = (!DISABLED.load(Ordering::Relaxed)).then(Alarm::arm);
    // SAFETY: the pointer and length describe `buf`, which outlives the call.
    let n = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    if let Ok(n) = usize::try_from(n) {
        return Ok(n);
    }
    let err = io::Error::last_os_error();
    match err.kind() {
        io::ErrorKind::Interrupted => Ok(0),
        // Someone else set O_NONBLOCK on the shared description: wait for room (or the next
        // tick) here rather than spin in the caller.
        io::ErrorKind::WouldBlock => {
            let mut pollfd = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLOUT,
                revents: 0,
            };
            // SAFETY: one valid pollfd; the result only tells us when to try again.
            unsafe { libc::poll(&mut pollfd, 1, ATTEMPT.as_millis() as libc::c_int) };
            Ok(0)
        }
        _ => Err(err),
    }
}

/// Writes `line` and a newline to stderr in one bounded attempt, ignoring what cannot be
/// written: a message about the program must never change how the program ends (a panicking
/// `eprintln!` on a full or closed stderr would turn exit 2 into an abort).
pub fn stderr_line(line: &str) {
    let mut text = String::with_capacity(line.len() + 1);
    text.push_str(line);
    text.push('\n');
    let _ = write_bounded(io::stderr().as_fd(), text.as_bytes());
}

/// The writer behind the logs: one bounded attempt per log line, whatever stderr does not take
/// is dropped and errors are ignored, for the reasons of [`stderr_line`].
pub struct BestEffortStderr;

impl io::Write for BestEffortStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = write_bounded(io::stderr().as_fd(), buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The armed timer; dropping it disarms it.
struct Alarm;

impl Alarm {
    fn arm() -> Alarm {
        let tick = libc::timespec {
            tv_sec: 0,
            tv_nsec: ATTEMPT.as_nanos() as libc::c_long,
        };
        set_timer(tick, tick);
        Alarm
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        set_timer(zero, zero);
    }
}

thread_local! {
    /// This thread's timer. The tick is sent to the thread that writes (SIGEV_THREAD_ID), not to
    /// the process, so it interrupts the right write(2) even where other threads exist (tests).
    /// `None` if no timer could be made: writes are then unbounded, as plain write(2) is.
    static TIMER: Option<libc::timer_t> = new_timer();
}

fn new_timer() -> Option<libc::timer_t> {
    // SAFETY: a handler that does nothing is async-signal-safe; sa_flags 0 means no SA_RESTART,
    // which is the point: the interrupted write returns instead of resuming. timer_create gets a
    // fully initialised sigevent naming this thread.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_alarm as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        if libc::sigaction(libc::SIGALRM, &action, std::ptr::null_mut()) != 0 {
            return None;
        }
        let mut event: libc::sigevent = std::mem::zeroed();
        event.sigev_notify = libc::SIGEV_THREAD_ID;
        event.sigev_signo = libc::SIGALRM;
        event.sigev_notify_thread_id = libc::syscall(libc::SYS_gettid) as libc::c_int;
        let mut timer: libc::timer_t = std::mem::zeroed();
        (libc::timer_create(libc::CLOCK_MONOTONIC, &mut event, &mut timer) == 0).then_some(timer)
    }
}

fn set_timer(value: libc::timespec, interval: libc::timespec) {
    TIMER.with(|timer| {
        if let Some(timer) = *timer {
            let spec = libc::itimerspec {
                it_interval: interval,
                it_value: value,
            };
            // SAFETY: a timer this thread created and a valid itimerspec.
            unsafe { libc::timer_settime(timer, 0, &spec, std::ptr::null_mut()) };
        }
    });
}

extern "C" fn on_alarm(_: libc::c_int) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::time::Instant;

    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: pipe(2) fills two descriptors we then own.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: both are fresh descriptors owned by nobody else.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    #[test]
    fn a_full_pipe_returns_within_the_attempt_instead_of_sleeping() {
        let (_read, write) = pipe();
        let chunk = vec![b'x'; 4096];
        let mut total = 0;
        // Fill the pipe (64 KiB by default): each call either takes bytes or comes back empty.
        let started = Instant::now();
        loop {
            let n = write_bounded(write.as_fd(), &chunk).unwrap();
            if n == 0 {
                break;
            }
            total += n;
            assert!(started.elapsed() < Duration::from_secs(5), "never blocked");
        }
        assert!(total > 0);
        let blocked = Instant::now();
        assert_eq!(write_bounded(write.as_fd(), &chunk).unwrap(), 0);
        let waited = blocked.elapsed();
        assert!(
            waited >= ATTEMPT / 2 && waited < Duration::from_secs(1),
            "{waited:?}"
        );
        // The descriptor is untouched: still blocking.
        // SAFETY: F_GETFL on a descriptor we own.
        let flags = unsafe { libc::fcntl(write.as_raw_fd(), libc::F_GETFL) };
        assert_eq!(flags & libc::O_NONBLOCK, 0);
    }
}
