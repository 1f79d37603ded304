//! Liveness without a port: the worker records each bit of progress in a file, and a probe
//! (`hello-loop check`, run by a Kubernetes exec probe or a Docker HEALTHCHECK) reads its age.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The heartbeat file and its staging twin beside it.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    path: PathBuf,
    staging: PathBuf,
}

impl Heartbeat {
    pub fn new(path: &Path) -> Self {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        Heartbeat {
            path: path.to_path_buf(),
            staging: path.with_file_name(format!(".{name}.tmp")),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records progress: the time and the line count go to a staging file that is then renamed
    /// over the heartbeat, so a reader sees the old value or the new one, never half of one.
    pub fn beat(&self, lines: u64) -> io::Result<()> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        fs::write(&self.staging, format!("{} {lines}\n", now.as_millis()))?;
        fs::rename(&self.staging, &self.path)
    }

    /// How old the last beat is, or why it cannot be told.
    pub fn age(&self) -> Result<Duration, String> {
        let text = fs::read_to_string(&self.path).map_err(|err| match err.kind() {
            io::ErrorKind::NotFound => format!("heartbeat {} is missing", self.path.display()),
            _ => format!("heartbeat {} cannot be read: {err}", self.path.display()),
        })?;
        let millis: u64 = text
            .split_whitespace()
            .next()
            .and_then(|m| m.parse().ok())
            .ok_or_else(|| format!("heartbeat {} holds no timestamp", self.path.display()))?;
        let beat = UNIX_EPOCH + Duration::from_millis(millis);
        // A beat "from the future" (clock stepped back) counts as fresh rather than as a failure.
        Ok(SystemTime::now().duration_since(beat).unwrap_or_default())
    }
}

/// The verdict of a check: the line to print, and whether the heartbeat is fresh.
pub fn check(heartbeat: &Heartbeat, max_age: Duration) -> Result<String, String> {
    let age = heartbeat.age()?;
    let shown = crate::values::display(age);
    let max = crate::values::display(max_age);
    if age <= max_age {
        Ok(format!("healthy: heartbeat {shown} old (max {max})"))
    } else {
        Err(format!(
            "unhealthy: heartbeat {} is {shown} old (max {max})",
            heartbeat.path.display()
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

    #[test]
    fn beat_then_check_is_fresh_and_leaves_no_staging_file() {
        let dir = scratch_dir("fresh");
        let heartbeat = Heartbeat::new(&dir.join("beat"));
        heartbeat.beat(7).unwrap();
        assert!(check(&heartbeat, Duration::from_secs(5))
            .unwrap()
            .starts_with("healthy"));
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "only the heartbeat remains"
        );
        assert!(fs::read_to_string(dir.join("beat"))
            .unwrap()
            .ends_with(" 7\n"));
    }

    #[test]
    fn old_missing_and_garbled_heartbeats_fail_with_a_reason() {
        let dir = scratch_dir("stale");
        let heartbeat = Heartbeat::new(&dir.join("beat"));
        assert!(check(&heartbeat, Duration::from_secs(5))
            .unwrap_err()
            .contains("missing"));
        let ten_minutes_ago = SystemTime::now() - Duration::from_secs(600);
        let millis = ten_minutes_ago
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        fs::write(dir.join("beat"), format!("{millis} 3\n")).unwrap();
        let stale = check(&heartbeat, Duration::from_secs(5)).unwrap_err();
        assert!(
            stale.starts_with("unhealthy") && stale.contains("10m"),
            "{stale}"
        );
        fs::write(dir.join("beat"), "garbage").unwrap();
        assert!(check(&heartbeat, Duration::from_secs(5))
            .unwrap_err()
            .contains("no timestamp"));
    }
}
