//! Liveness without a port: the worker records each bit of progress in a file, and a probe
//! (`hello-loop check`, run by a Kubernetes exec probe or a Docker HEALTHCHECK) reads its age.

use std::fs::{self, OpenOptions};
use std::hash::{BuildHasher, RandomState};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The age after which a heartbeat is stale when nothing says otherwise: three intervals (one
/// late line is no failure), at least 1 s (probes and clocks are not that precise).
pub fn default_max_age(interval: Duration) -> Duration {
    (interval * 3).max(Duration::from_secs(1))
}

/// The heartbeat file the loop writes. It holds one line of three numbers: the time of the beat
/// (milliseconds since the Unix epoch), the lines printed so far, and the age in milliseconds
/// after which the beat is stale. The last one is what lets `check` judge the heartbeat right
/// however the loop was configured (flags are invisible to a probe that only shares the
/// environment).
#[derive(Debug, Clone)]
pub struct Heartbeat {
    path: PathBuf,
    max_age: Duration,
}

impl Heartbeat {
    pub fn new(path: &Path, max_age: Duration) -> Self {
        Heartbeat {
            path: path.to_path_buf(),
            max_age,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records progress: the beat goes to a new staging file beside the heartbeat, which then
    /// takes the heartbeat's place, so a reader sees the old beat or the new one, never half of
    /// one.
    ///
    /// Whatever is at the path must be a regular file (or nothing): a device, a FIFO, a directory
    /// or a symlink is never replaced, not even one swapped in after the path was looked at. The
    /// staging file gets a name of its own (process id and a random number) and is created
    /// exclusively without following symlinks, so a file already there (a planted symlink, a
    /// FIFO, another loop's staging file) is never opened; it is removed again when anything
    /// fails.
    pub fn beat(&self, lines: u64) -> io::Result<()> {
        match fs::symlink_metadata(&self.path) {
            Ok(meta) if !meta.file_type().is_file() => return Err(not_regular()),
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let beat = format!("{} {lines} {}\n", now.as_millis(), self.max_age.as_millis());
        let (staging, mut file) = self.create_staging()?;
        let written = file
            .write_all(beat.as_bytes())
            .and_then(|()| self.put_in_place(&staging));
        if written.is_err() {
            remove_if_ours(&staging, &file);
        }
        written
    }

    /// Puts the written staging file at the path without ever replacing what is not a regular
    /// file, closing the gap between the look at the path and a plain rename(2), which replaces
    /// whatever is there by then. The two are exchanged atomically (renameat2 RENAME_EXCHANGE):
    /// the staging name then holds what was at the path; a regular file (the previous beat) is
    /// removed, anything else is exchanged back at once and the beat refused. Nothing at the path
    /// (the first beat): renamed without replacing (RENAME_NOREPLACE), and exchanged after all if
    /// something appeared meanwhile. A filesystem that has neither (NFS, some FUSE ones) gets a
    /// plain rename, and the gap.
    fn put_in_place(&self, staging: &Path) -> io::Result<()> {
        for _ in 0..8 {
            match renameat2(staging, &self.path, RENAME_EXCHANGE) {
                Ok(()) => {
                    let previous = fs::symlink_metadata(staging);
                    if previous.as_ref().is_ok_and(|m| !m.file_type().is_file()) {
                        // Swapped in since the look: put it back where it was.
                        renameat2(staging, &self.path, RENAME_EXCHANGE)?;
                        return Err(not_regular());
                    }
                    let _ = fs::remove_file(staging); // the previous beat
                    return Ok(());
                }
                Err(err) if err.kind() == io::ErrorKind::NotFound => {
                    match renameat2(staging, &self.path, RENAME_NOREPLACE) {
                        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                        Err(err) if unsupported(&err) => return fs::rename(staging, &self.path),
                        done => return done,
                    }
                }
                Err(err) if unsupported(&err) => return fs::rename(staging, &self.path),
                Err(err) => return Err(err),
            }
        }
        Err(io::Error::other(
            "the path kept changing while the beat was put in place",
        ))
    }

    fn create_staging(&self) -> io::Result<(PathBuf, fs::File)> {
        let name = self
            .path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
        let name = name.to_string_lossy();
        let mut attempts = 0;
        loop {
            let random = RandomState::new().hash_one(attempts);
            let staging = self
                .path
                .with_file_name(format!(".{name}.{}.{random:016x}.tmp", std::process::id()));
            let created = OpenOptions::new()
                .write(true)
                .create_new(true) // O_CREAT | O_EXCL: never an existing file, never via a symlink
                .custom_flags(libc::O_NOFOLLOW)
                .open(&staging);
            match created {
                Ok(file) => return Ok((staging, file)),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists && attempts < 8 => {
                    attempts += 1
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// How far ahead of the probe's clock a beat may be dated and still count (as 0 s old): enough
/// for a clock slewed or stepped back by a little, far less than any maximum age (at least 1 s).
pub const FUTURE_TOLERANCE: Duration = Duration::from_secs(1);

/// The most a heartbeat can hold: three numbers of up to 20 digits, two spaces and a newline are
/// 63 bytes. Anything longer is not one the loop wrote.
pub const MAX_BYTES: u64 = 256;

/// The heartbeat's text, read the way a probe must: only from a regular file (what the loop
/// writes), never through a symlink, and at most [`MAX_BYTES`]. A FIFO would block `open` for
/// ever, a device such as /dev/zero would never end, and a huge file would be read whole; each
/// is refused with one line instead. What is at the path is looked at first (lstat, so a device
/// is not even opened), and the file opened is checked again (fstat), in case it was swapped in
/// between.
fn read(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let failed = |err: io::Error| match err.kind() {
        io::ErrorKind::NotFound => format!("heartbeat {shown} is missing"),
        _ if err.raw_os_error() == Some(libc::ELOOP) => {
            format!("heartbeat {shown} is a symlink, not a regular file (hello-loop writes one)")
        }
        _ => format!("heartbeat {shown} cannot be read: {err}"),
    };
    let not_regular = |kind: fs::FileType| {
        format!(
            "heartbeat {shown} is {}, not a regular file (hello-loop writes one)",
            file_kind(kind)
        )
    };
    let meta = fs::symlink_metadata(path).map_err(failed)?;
    if !meta.file_type().is_file() {
        return Err(not_regular(meta.file_type()));
    }
    let file = OpenOptions::new()
        .read(true)
        // Never through a symlink, never waiting for a FIFO's writer, never a controlling tty.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(failed)?;
    let meta = file.metadata().map_err(failed)?;
    if !meta.file_type().is_file() {
        return Err(not_regular(meta.file_type()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(format!(
            "heartbeat {shown} holds more than {MAX_BYTES} bytes: not a heartbeat hello-loop wrote"
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("heartbeat {shown} holds no timestamp"))
}

/// What a file that is not a regular one is, for the line that refuses it.
fn file_kind(kind: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symlink"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "an unknown kind of file"
    }
}

const RENAME_EXCHANGE: libc::c_uint = 2; // linux/fs.h
const RENAME_NOREPLACE: libc::c_uint = 1;

/// renameat2(2) through syscall(2): the C libraries (musl included) need not wrap it.
fn renameat2(from: &Path, to: &Path, flags: libc::c_uint) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in the path"))
    };
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: two valid C strings that outlive the call; AT_FDCWD for both directories.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            flags,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The kernel or the filesystem cannot do this kind of renameat2.
fn unsupported(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS))
}

fn not_regular() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "it exists and is not a regular file (a device, FIFO, directory or symlink is never \
         replaced)",
    )
}

/// Removes the staging file after a failure, if the name still holds it (the file `ours` was
/// created as): never something else that was moved there.
fn remove_if_ours(staging: &Path, ours: &fs::File) {
    use std::os::unix::fs::MetadataExt;
    let same = |a: &fs::Metadata, b: &fs::Metadata| a.dev() == b.dev() && a.ino() == b.ino();
    if let (Ok(there), Ok(mine)) = (fs::symlink_metadata(staging), ours.metadata()) {
        if same(&there, &mine) {
            let _ = fs::remove_file(staging);
        }
    }
}

/// The verdict of a check: the line to print, and whether the heartbeat is fresh. The maximum
/// age is `max_age` when given (`--max-age`), else the one the heartbeat carries, else (a file
/// written by an older hello-loop, with two numbers) `fallback`.
pub fn check(path: &Path, max_age: Option<Duration>, fallback: Duration) -> Result<String, String> {
    let text = read(path)?;
    let mut numbers = text.split_whitespace().map(str::parse::<u64>);
    let millis = match numbers.next() {
        Some(Ok(millis)) => millis,
        _ => return Err(format!("heartbeat {} holds no timestamp", path.display())),
    };
    let carried = match (numbers.next(), numbers.next()) {
        (Some(Ok(_lines)), Some(Ok(max_ms))) => Some(Duration::from_millis(max_ms)),
        (Some(Ok(_lines)), None) => None,
        _ => {
            return Err(format!(
                "heartbeat {} is not in the expected form 'MILLIS LINES MAX_AGE_MS'",
                path.display()
            ))
        }
    };
    let max_age = max_age.or(carried).unwrap_or(fallback);
    let max = crate::values::display(max_age);
    // In whole milliseconds, as written: no SystemTime arithmetic to overflow on a forged number.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let millis = u128::from(millis);
    if millis > now + FUTURE_TOLERANCE.as_millis() {
        // Not proof of life: a clock set back while the loop was stalled would otherwise keep a
        // dead worker healthy until the clock caught up (and `u64::MAX` for ever).
        let ahead = Duration::from_millis(u64::try_from(millis - now).unwrap_or(u64::MAX));
        return Err(format!(
            "unhealthy: heartbeat {} is dated {} in the future (at most {} ahead is accepted; \
             was the clock set back?)",
            path.display(),
            crate::values::display_rounded(ahead),
            crate::values::display(FUTURE_TOLERANCE)
        ));
    }
    let age = Duration::from_millis(u64::try_from(now.saturating_sub(millis)).unwrap_or(u64::MAX));
    let shown = crate::values::display_rounded(age);
    if age <= max_age {
        Ok(format!("healthy: heartbeat {shown} old (max {max})"))
    } else {
        Err(format!(
            "unhealthy: heartbeat {} is {shown} old (max {max})",
            path.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hello-heartbeat-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    const FIVE_S: Duration = Duration::from_secs(5);

    #[test]
    fn beat_then_check_is_fresh_carries_its_max_age_and_leaves_no_staging_file() {
        let dir = scratch_dir("fresh");
        let heartbeat = Heartbeat::new(&dir.join("beat"), Duration::from_secs(180));
        heartbeat.beat(7).unwrap();
        let fresh = check(heartbeat.path(), None, FIVE_S).unwrap();
        assert!(
            fresh.starts_with("healthy") && fresh.ends_with("(max 3m)"),
            "{fresh}"
        );
        let overridden = check(heartbeat.path(), Some(FIVE_S), FIVE_S).unwrap();
        assert!(overridden.ends_with("(max 5s)"), "{overridden}");
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "only the heartbeat remains"
        );
        assert!(fs::read_to_string(dir.join("beat"))
            .unwrap()
            .ends_with(" 7 180000\n"));
    }

    #[test]
    fn old_missing_and_garbled_heartbeats_fail_with_a_reason() {
        let dir = scratch_dir("stale");
        let path = dir.join("beat");
        assert!(check(&path, None, FIVE_S).unwrap_err().contains("missing"));
        let ten_minutes_ago = SystemTime::now() - Duration::from_secs(600);
        let millis = ten_minutes_ago
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        // The two-number form of older versions is still read, with the fallback maximum.
        fs::write(&path, format!("{millis} 3\n")).unwrap();
        let stale = check(&path, None, FIVE_S).unwrap_err();
        assert!(
            stale.starts_with("unhealthy") && stale.contains("10m") && stale.contains("(max 5s)"),
            "{stale}"
        );
        fs::write(&path, "garbage").unwrap();
        assert!(check(&path, None, FIVE_S)
            .unwrap_err()
            .contains("no timestamp"));
        fs::write(&path, format!("{millis} three\n")).unwrap();
        assert!(check(&path, None, FIVE_S)
            .unwrap_err()
            .contains("expected form"));
    }

    #[test]
    fn never_replaces_what_is_not_a_regular_file_and_never_follows_a_planted_link() {
        let dir = scratch_dir("clobber");
        let target = dir.join("target");
        fs::write(&target, "precious").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        for path in [link.as_path(), dir.as_path()] {
            let err = Heartbeat::new(path, FIVE_S).beat(1).unwrap_err();
            assert!(err.to_string().contains("not a regular file"), "{err}");
        }
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&target).unwrap(), "precious");
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            2,
            "no staging file left"
        );
    }
}
