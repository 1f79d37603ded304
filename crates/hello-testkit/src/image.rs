//! The image launcher: a program run from its image with `docker run`, as a container runtime runs
//! it (PID 1 of the container, the image's user and environment), the arm64 image under QEMU.
//!
//! Chosen by the environment of the test run, so every behaviour test runs against the built images
//! unchanged (`make test-rust-images`):
//! - `HELLO_TEST_IMAGE_ONCE`, `HELLO_TEST_IMAGE_LOOP`: the image that stands for a program named
//!   `hello-once` / `hello-loop` (e.g. `hello-loop:0.1.0-arm64`); unset or empty, the built binary
//!   runs as before.
//! - `HELLO_TEST_PLATFORM`: `linux/amd64` or `linux/arm64`, passed as `docker run --platform`; the
//!   image must be of that platform (empty: the engine's own).
//! - `HELLO_TEST_LABEL`: the containers' label (default `hello-k8s.test=hello-testkit`).
//!
//! Signals go to the container's process as the host sees it (`docker inspect -f
//! {{.State.Pid}}`), as `docker kill` has runc do, and the exit status is `docker run`'s (the
//! container's). A test that cannot apply to an image says so and skips ([`crate::not_for_images`]).

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The image a program runs from, and how.
#[derive(Debug)]
pub(crate) struct Image {
    pub(crate) reference: String,
    pub(crate) platform: Option<String>,
    /// A foreign architecture: the process the host sees is QEMU's interpreter running the program.
    pub(crate) emulated: bool,
}

/// The image `program` runs from in this test run, if the environment names one.
pub(crate) fn image_for(program: &str) -> Option<&'static Image> {
    static ONCE: OnceLock<Option<Image>> = OnceLock::new();
    static LOOP: OnceLock<Option<Image>> = OnceLock::new();
    let (cell, variable) = match Path::new(program).file_name()?.to_str()? {
        "hello-once" => (&ONCE, "HELLO_TEST_IMAGE_ONCE"),
        "hello-loop" => (&LOOP, "HELLO_TEST_IMAGE_LOOP"),
        _ => return None,
    };
    cell.get_or_init(|| Image::from_env(variable)).as_ref()
}

/// Docker's name of this machine's architecture.
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

impl Image {
    /// Reads `variable` and HELLO_TEST_PLATFORM; a wrong value or a missing image fails the test
    /// with one line saying what to fix.
    fn from_env(variable: &str) -> Option<Image> {
        let reference = std::env::var(variable).ok().filter(|v| !v.is_empty())?;
        let platform = std::env::var("HELLO_TEST_PLATFORM")
            .ok()
            .filter(|p| !p.is_empty());
        let want_arch = match platform.as_deref() {
            None => host_arch(),
            Some("linux/amd64") => "amd64",
            Some("linux/arm64") => "arm64",
            Some(other) => panic!(
                "HELLO_TEST_PLATFORM: expected linux/amd64 or linux/arm64 (or empty), got {other:?}"
            ),
        };
        let inspect = Command::new("docker")
            .args([
                "image",
                "inspect",
                "-f",
                "{{.Os}}/{{.Architecture}}",
                &reference,
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{variable}={reference}: cannot run docker ({e})"));
        assert!(
            inspect.status.success(),
            "{variable}={reference}: no such image in the engine (make images): {}",
            String::from_utf8_lossy(&inspect.stderr).trim()
        );
        let found = String::from_utf8_lossy(&inspect.stdout).trim().to_string();
        assert_eq!(
            found,
            format!("linux/{want_arch}"),
            "{variable}={reference} is {found}, but HELLO_TEST_PLATFORM asks for linux/{want_arch}"
        );
        let emulated = want_arch != host_arch();
        if emulated {
            let qemu = if want_arch == "arm64" {
                "aarch64"
            } else {
                "x86_64"
            };
            assert!(
                Path::new(&format!("/proc/sys/fs/binfmt_misc/qemu-{qemu}")).exists(),
                "{variable}={reference} is linux/{want_arch}: register QEMU first (images/register-qemu {want_arch})"
            );
        }
        eprintln!(
            "{variable}: running {reference} ({found}{})",
            if emulated { ", under QEMU" } else { "" }
        );
        Some(Image {
            reference,
            platform,
            emulated,
        })
    }

    /// How much longer than for a direct run a bound may be: the container's start (and QEMU's).
    pub(crate) fn allowance(&self) -> Duration {
        Duration::from_secs(if self.emulated { 60 } else { 20 })
    }

    /// `docker run` of this image with `args` and `env` (`-e`), named `name`, its stdin empty and
    /// its stdout and stderr piped through the client; as `--user 123456:123456` when `stranger`.
    pub(crate) fn command(
        &self,
        name: &str,
        stranger: bool,
        args: &[&std::ffi::OsStr],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Command {
        let mut c = Command::new("docker");
        c.args(["run", "--rm", "--name", name]);
        // HELLO_TEST_LABEL: a label of the caller's own, so it can remove what a killed test run
        // left running (images/test-rust-images does) and nothing of anyone else's.
        let label = std::env::var("HELLO_TEST_LABEL")
            .ok()
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "hello-k8s.test=hello-testkit".into());
        c.arg("--label").arg(label);
        // The host's network, so a test reaches a listener at the address it gave the program
        // (127.0.0.1:PORT), as it does in a direct run.
        c.args(["--network", "host"]);
        if let Some(platform) = &self.platform {
            c.args(["--platform", platform]);
        }
        if stranger {
            c.args(["--user", "123456:123456"]);
        }
        if let Some(root) = shared_root_if_made() {
            let root = root.to_str().expect("a UTF-8 temp path");
            c.arg("--volume").arg(format!("{root}:{root}"));
        }
        for (key, value) in env {
            let mut pair = OsString::from(key);
            pair.push("=");
            pair.push(value);
            c.arg("--env").arg(pair);
        }
        c.arg(&self.reference).args(args);
        c
    }
}

/// A container name of its own, for this test process.
pub(crate) fn container_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("hello-testkit-{}-{n}", std::process::id())
}

/// The host's PID of the container's process, once it runs; `None` if it never did or is over.
pub(crate) fn container_pid(name: &str) -> Option<i32> {
    let out = Command::new("docker")
        .args(["inspect", "-f", "{{.State.Pid}}", name])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let pid: i32 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    (pid > 0).then_some(pid)
}

/// Removes the container, running or not (the end of a test that failed half-way).
pub(crate) fn remove(name: &str) {
    let _ = Command::new("docker")
        .args(["rm", "-f", name])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn shared_root() -> PathBuf {
    std::env::temp_dir().join(format!("hello-testkit-shared-{}", std::process::id()))
}

fn shared_root_if_made() -> Option<PathBuf> {
    let root = shared_root();
    root.is_dir().then_some(root)
}

/// A fresh, empty folder named `name` for files a test and the program share: under the temp dir,
/// writable by anyone (the image's user is not root), and in image runs mounted into the container
/// at the same path.
pub fn scratch_dir(name: &str) -> PathBuf {
    let root = shared_root();
    let _ = fs::create_dir(&root);
    fs::set_permissions(&root, fs::Permissions::from_mode(0o777)).expect("chmod the shared root");
    let dir = root.join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir(&dir).expect("create a scratch folder");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).expect("chmod the scratch folder");
    dir
}
