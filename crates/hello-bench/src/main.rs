//! `make bench`: hello-once and hello-loop against the Python scripts they replace, measured here and
//! now in one invocation, as a table of medians with the targets from issue 2 beside them.
//!
//! A benchmark, not a test: it reports, it does not assert. It exits non-zero only when it cannot
//! measure (missing binary, wrong output, a program that does not start).

mod child;
mod http;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use child::{Argv, Pid1Stop, Result};

const USAGE: &str = "usage: hello-bench --bin-dir DIR [--python PATH] [--runs N] [--pid1-runs N]";
const HELP: &str = "\
Runs DIR/hello-once and DIR/hello-loop side by side with a Python baseline it writes itself
(print once; print in a loop sleeping 2 s; plain python3, no -u, no PYTHONUNBUFFERED) and prints
a table of medians with the targets from issue 2, plus the run time of the `hello-loop check` probe;
then hello-loop --listen against Python's http.server on loopback (latency at a fixed 1,000 req/s,
peak RSS under load, wrk's maximum throughput, failed requests when SIGTERM comes under load), with
the targets from issue 22. Needs Debian's wrk.

  --bin-dir DIR   directory holding the release hello-once and hello-loop binaries (required)
  --python PATH   interpreter for the baseline (default /usr/bin/python3, else python3 on PATH)
  --runs N        one-shot wall-time runs per program (default 100; peak RSS uses min(N, 20))
  --pid1-runs N   SIGTERM-as-PID-1 runs for hello-loop (default 20; the Python loop gets
                  min(N, 5), as each of its runs waits out the 2 s grace period)

The PID-1 row needs root (unshare --pid); otherwise it says it was skipped.";

const MESSAGE: &str = "Hello, World!";
const PY_ONCE: &str = "print(\"Hello, World!\")\n";
const PY_LOOP: &str =
    "import time\n\nwhile True:\n    print(\"Hello, World!\")\n    time.sleep(2)\n";

// Targets from issue 2, "Done when".
const TARGET_SIZE_BYTES: u64 = 1_200_000;
const TARGET_WALL: Duration = Duration::from_millis(2);
const TARGET_RSS_KIB: u64 = 3 * 1024;
const TARGET_PID1: Duration = Duration::from_millis(10);

/// How long the PID-1 run waits after SIGTERM before it calls the signal ignored and sends SIGKILL.
const GRACE: Duration = Duration::from_secs(2);
/// How long the loops run before SIGTERM in the peak-RSS runs: past start-up, asleep in the loop.
const LOOP_RSS_RUN: Duration = Duration::from_secs(1);
const LOOP_RSS_RUNS: usize = 3;
const PIPE_AFTER: Duration = Duration::from_secs(5);
const PIPE_RUNS: usize = 3;
const WARMUP: usize = 5;

#[derive(Debug)]
struct Opts {
    bin_dir: PathBuf,
    python: Option<PathBuf>,
    runs: usize,
    pid1_runs: usize,
}

fn main() -> ExitCode {
    let opts = match parse_args(std::env::args_os().skip(1)) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            println!("{USAGE}\n\n{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("hello-bench: {msg}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hello-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(
    mut args: impl Iterator<Item = OsString>,
) -> std::result::Result<Option<Opts>, String> {
    let mut bin_dir = None;
    let mut python = None;
    let mut runs = 100;
    let mut pid1_runs = 20;
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let mut value = || -> std::result::Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next().map(|v| v.to_string_lossy().into_owned()))
                .ok_or_else(|| format!("{flag} needs a value; {USAGE}"))
        };
        let count = |v: String, flag: &str| -> std::result::Result<usize, String> {
            v.parse::<usize>()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| format!("{flag} must be a whole number from 1 to 10000, got {v:?}"))
        };
        match flag.as_str() {
            "--bin-dir" => bin_dir = Some(PathBuf::from(value()?)),
            "--python" => python = Some(PathBuf::from(value()?)),
            "--runs" => runs = count(value()?, "--runs")?,
            "--pid1-runs" => pid1_runs = count(value()?, "--pid1-runs")?,
            _ => return Err(format!("unknown argument {arg:?}; {USAGE}")),
        }
    }
    let bin_dir = bin_dir.ok_or_else(|| format!("--bin-dir is required; {USAGE}"))?;
    Ok(Some(Opts {
        bin_dir,
        python,
        runs,
        pid1_runs,
    }))
}

/// The baseline scripts live in a fresh directory that is removed again at the end.
struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn progress(msg: &str) {
    eprintln!("hello-bench: {msg}");
}

fn argv(parts: &[&dyn AsRef<std::ffi::OsStr>]) -> Argv {
    parts.iter().map(|p| p.as_ref().to_os_string()).collect()
}

/// The 1-minute load average (/proc/loadavg): how busy the machine was around the measurement.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

fn run(opts: &Opts) -> Result<()> {
    let started = Instant::now();
    let load_before = load_average();
    let once = opts.bin_dir.join("hello-once");
    let hloop = opts.bin_dir.join("hello-loop");
    for bin in [&once, &hloop] {
        if !bin.is_file() {
            return Err(format!(
                "{} not found; build it first (make bench does: cargo build --release --target <arch>-unknown-linux-musl)",
                bin.display()
            )
            .into());
        }
    }
    let python = match &opts.python {
        Some(p) => p.clone(),
        // The distribution's interpreter, not a pyenv shim or a virtualenv wrapper on PATH: those
        // add their own start-up time (a pyenv shim costs ~90 ms per run) that is not Python's.
        None if Path::new("/usr/bin/python3").is_file() => "/usr/bin/python3".into(),
        None => child::which("python3".as_ref()).ok_or("python3 not found; pass --python")?,
    };
    let python = fs::canonicalize(&python).map_err(|e| format!("{}: {e}", python.display()))?;

    let scratch =
        ScratchDir(std::env::temp_dir().join(format!("hello-bench-{}", std::process::id())));
    fs::create_dir_all(&scratch.0)?;
    let py_once_path = scratch.0.join("once.py");
    let py_loop_path = scratch.0.join("loop.py");
    fs::write(&py_once_path, PY_ONCE)?;
    fs::write(&py_loop_path, PY_LOOP)?;

    let rust_once = argv(&[&once]);
    let py_once = argv(&[&python, &py_once_path]);
    let rust_loop = argv(&[&hloop]);
    let py_loop = argv(&[&python, &py_loop_path]);

    // Same output, or the comparison means nothing.
    for cmd in [&rust_once, &py_once] {
        let (out, status) = child::output(cmd)?;
        let want = format!("{MESSAGE}\n");
        if out != want.as_bytes() || status != 0 {
            return Err(format!(
                "{} printed {:?} ({}), expected {want:?} and exit 0",
                cmd.last().map(|a| a.to_string_lossy()).unwrap_or_default(),
                String::from_utf8_lossy(&out),
                child::describe(status)
            )
            .into());
        }
    }

    let py_version = child::output(&argv(&[&python, &"--version"]))
        .map(|(o, _)| String::from_utf8_lossy(&o).trim().to_string())
        .unwrap_or_default();
    let our_version = child::output(&argv(&[&once, &"--version"]))
        .map(|(o, _)| {
            String::from_utf8_lossy(&o)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();

    let mut table = Table::default();

    // ---- one-shot wall time
    progress(&format!(
        "one-shot wall time: {} runs each, interleaved, after {WARMUP} warm-up runs",
        opts.runs
    ));
    let [wall_rust, wall_py] = wall_times([&rust_once, &py_once], opts.runs)?;
    let (rust_med, rust_p90) = (median(&wall_rust), p90(&wall_rust));
    table.row(
        format!("One-shot wall time to exit (median of {}, p90)", opts.runs),
        format!("{} (p90 {})", ms(rust_med), ms(rust_p90)),
        format!("{} (p90 {})", ms(median(&wall_py)), ms(p90(&wall_py))),
        format!("≤ {}", ms(TARGET_WALL.as_secs_f64())),
        verdict(rust_med <= TARGET_WALL.as_secs_f64()),
    );

    // ---- the liveness probe: how long one `hello-loop check` of a fresh heartbeat takes
    let heartbeat = scratch.0.join("heartbeat");
    let (_, status) = child::output(&argv(&[
        &hloop,
        &"--count",
        &"1",
        &"--heartbeat-file",
        &heartbeat,
    ]))?;
    if status != 0 || !heartbeat.is_file() {
        return Err(format!(
            "hello-loop --count 1 --heartbeat-file ended with {} and wrote no heartbeat",
            child::describe(status)
        )
        .into());
    }
    // A max age of a day keeps the heartbeat fresh for the whole run, so every sample is the
    // healthy path a probe takes every few seconds.
    let rust_check = argv(&[
        &hloop,
        &"check",
        &"--heartbeat-file",
        &heartbeat,
        &"--max-age",
        &"24h",
    ]);
    progress(&format!(
        "hello-loop check: {} runs after {WARMUP} warm-up runs",
        opts.runs
    ));
    let [wall_check] = wall_times([&rust_check], opts.runs)?;
    let check_med = median(&wall_check);
    table.row(
        format!(
            "hello-loop check, fresh heartbeat: wall time (median of {}, p90)",
            opts.runs
        ),
        format!("{} (p90 {}), exit 0", ms(check_med), ms(p90(&wall_check))),
        "n/a: no probe".into(),
        format!("≤ {}", ms(TARGET_WALL.as_secs_f64())),
        verdict(check_med <= TARGET_WALL.as_secs_f64()),
    );

    // ---- peak RSS
    let rss_runs = opts.runs.min(20);
    progress(&format!(
        "peak RSS, one-shot: {rss_runs} runs each (traced, VmHWM at exit)"
    ));
    let mut rss_rust = Vec::new();
    let mut rss_py = Vec::new();
    for _ in 0..rss_runs {
        rss_rust.push(child::peak_rss(&rust_once, None)?.0 as f64);
        rss_py.push(child::peak_rss(&py_once, None)?.0 as f64);
    }
    rss_row(
        &mut table,
        format!("Peak RSS, one-shot (VmHWM at exit, median of {rss_runs})"),
        &rss_rust,
        &rss_py,
    );

    progress(&format!(
        "peak RSS, loop: {LOOP_RSS_RUNS} runs each, SIGTERM after {} s",
        LOOP_RSS_RUN.as_secs()
    ));
    let mut rss_rust = Vec::new();
    let mut rss_py = Vec::new();
    for _ in 0..LOOP_RSS_RUNS {
        let (kib, status) = child::peak_rss(&rust_loop, Some(LOOP_RSS_RUN))?;
        if status != 0 {
            return Err(format!(
                "hello-loop ended with {} after SIGTERM",
                child::describe(status)
            )
            .into());
        }
        rss_rust.push(kib as f64);
        rss_py.push(child::peak_rss(&py_loop, Some(LOOP_RSS_RUN))?.0 as f64);
    }
    rss_row(
        &mut table,
        format!("Peak RSS, loop (VmHWM at exit, median of {LOOP_RSS_RUNS})"),
        &rss_rust,
        &rss_py,
    );

    // ---- SIGTERM -> exit as PID 1
    pid1_row(&mut table, opts.pid1_runs, &rust_loop, &py_loop)?;

    // ---- lines through a pipe
    progress(&format!(
        "lines through a pipe after {} s: {PIPE_RUNS} runs each, all at once",
        PIPE_AFTER.as_secs()
    ));
    let rust_pipe = argv(&[&hloop, &"--interval", &"2s"]);
    let mut cmds = Vec::new();
    for _ in 0..PIPE_RUNS {
        cmds.push(rust_pipe.clone());
        cmds.push(py_loop.clone());
    }
    let counts = child::lines_after(&cmds, PIPE_AFTER)?;
    let rust_lines: Vec<f64> = counts.iter().step_by(2).map(|&n| n as f64).collect();
    let py_lines: Vec<f64> = counts
        .iter()
        .skip(1)
        .step_by(2)
        .map(|&n| n as f64)
        .collect();
    let expected = 1 + PIPE_AFTER.as_secs() / 2;
    table.row(
        format!(
            "Lines through a pipe after {} s (median of {PIPE_RUNS}; hello-loop --interval 2s)",
            PIPE_AFTER.as_secs()
        ),
        format!("{}", median(&rust_lines)),
        format!("{}", median(&py_lines)),
        format!("{expected} (each line flushed)"),
        verdict(median(&rust_lines) == expected as f64),
    );

    // ---- binary size and static linking
    let py_size = fs::metadata(&python)?.len();
    let py_static = child::elf_is_static(&python).unwrap_or(false);
    let mut all_static = true;
    let mut file_says = Vec::new();
    for bin in [&once, &hloop] {
        let size = fs::metadata(bin)?.len();
        table.row(
            format!(
                "Static binary size, {}",
                bin.file_name().unwrap_or_default().to_string_lossy()
            ),
            format!("{} ({} B)", mb(size), size),
            format!("n/a: needs {} ({}) + stdlib", python.display(), mb(py_size)),
            format!("≤ {}", mb(TARGET_SIZE_BYTES)),
            verdict(size <= TARGET_SIZE_BYTES),
        );
        all_static &= child::elf_is_static(bin)?;
        if let Some(desc) = child::file_description(bin) {
            file_says.extend(linkage(&desc));
        }
    }
    file_says.dedup();
    let how = if file_says.is_empty() {
        "ELF has no PT_INTERP".to_string()
    } else {
        format!("file: {}", file_says.join(", "))
    };
    table.row(
        "Statically linked (no dynamic loader)".into(),
        format!("{}, both ({how})", if all_static { "yes" } else { "NO" }),
        format!(
            "{} (the interpreter)",
            if py_static {
                "yes"
            } else {
                "no, dynamically linked"
            }
        ),
        "yes".into(),
        verdict(all_static),
    );

    // ---- the HTTP listener
    let http = http_table(&hloop, &python, &scratch.0)?;

    // ---- report
    println!();
    println!("hello-bench: medians over repeated runs; both sides run now, on this machine.");
    println!(
        "host: Linux {} {}, {} CPUs; load average (1 min) {load_before} at the start, {} at the end",
        fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim(),
        std::env::consts::ARCH,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    println!("ours: {} and hello-loop ({our_version})", once.display());
    println!(
        "baseline: {} ({py_version}) running print(\"{MESSAGE}\") and a print loop with time.sleep(2)",
        python.display()
    );
    println!();
    table.print();
    println!();
    println!(
        "How: wall = spawn until reaped by wait4, stdout and stderr on /dev/null. Peak RSS = VmHWM"
    );
    println!("of the program's own address space at its exit stop (ptrace); not wait4's ru_maxrss, which");
    println!(
        "also counts the spawning harness. PID 1 = `unshare --pid --fork`, SIGTERM from the parent"
    );
    println!(
        "namespace once the program sleeps in its loop (hello-loop: after its first line came"
    );
    println!(
        "through the pipe), timed until its pidfd reports exit. Pipe = lines readable on a pipe"
    );
    println!("{} s after start.", PIPE_AFTER.as_secs(),);
    println!();
    println!(
        "HTTP listener: hello-loop --listen 127.0.0.1:PORT against {} serving the same text",
        python.display()
    );
    println!(
        "(http.server.ThreadingHTTPServer, HTTP/1.1 keep-alive, no access log); {}.",
        http::wrk_version().unwrap_or_else(|| "wrk".into())
    );
    println!();
    http.print();
    println!();
    println!(
        "How: the fixed rate comes from hello-bench's own open-loop client (Debian's wrk 4 has no"
    );
    println!(
        "fixed-rate mode; wrk2 is not packaged): each request has a slot on a fixed schedule and"
    );
    println!("its latency runs from that slot to the full response, so a stall is not hidden. Peak RSS =");
    println!(
        "the server's VmHWM from /proc. Throughput and the drain runs use wrk (1 thread, so the"
    );
    println!(
        "single-threaded server has the other core). Failed = wrk's socket errors (connect, read,"
    );
    println!("write, timeout) + non-2xx responses.");
    println!(
        "Total bench time: {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

// Targets from issue 22 for the HTTP listener.
const HTTP_RATE: u32 = 1_000;
const HTTP_PACED_CONNS: usize = 10;
const HTTP_WARMUP: Duration = Duration::from_secs(1);
/// The fixed-rate run: HTTP_ROUNDS rounds of HTTP_ROUND per server, taking turns (10 s each).
const HTTP_ROUNDS: usize = 5;
const HTTP_ROUND: Duration = Duration::from_secs(2);
const WRK_CONNS: usize = 32;
/// Maximum throughput: WRK_ROUNDS wrk runs of WRK_RUN per server, taking turns.
const WRK_ROUNDS: usize = 5;
const WRK_RUN: Duration = Duration::from_secs(1);
const DRAIN_CONNS: usize = 16;
const DRAIN_DELAY: &str = "3s";
/// wrk runs this long and gets SIGTERM sent to the server `DRAIN_SIGTERM_AT` into it: it stops 2 s
/// after SIGTERM, inside the 3 s delay, as clients stop once the endpoint is gone.
const DRAIN_WRK_RUN: Duration = Duration::from_secs(3);
const DRAIN_SIGTERM_AT: Duration = Duration::from_secs(1);
const TARGET_HTTP_P99: Duration = Duration::from_millis(2);
const TARGET_HTTP_RSS_KIB: u64 = 4 * 1024;
const TARGET_THROUGHPUT_RATIO: f64 = 20.0;

/// What one server did in the load runs.
struct Loaded {
    paced: http::Paced,
    hwm_paced_kib: u64,
    wrk: http::Wrk,
    hwm_kib: u64,
}

/// Both servers under the same load, at the same time of day: the fixed-rate runs take turns
/// (`HTTP_ROUNDS` rounds each, so a busy spell on a shared machine hits both alike), then wrk on
/// each. The servers are stopped afterwards.
fn load_servers(servers: [(&str, &Path, &[&std::ffi::OsStr], u16); 2]) -> Result<[Loaded; 2]> {
    let mut started = Vec::new();
    for (name, program, args, port) in servers {
        started.push(http::Server::start(program, args, port).map_err(|e| format!("{name}: {e}"))?);
    }
    progress(&format!(
        "{HTTP_RATE} req/s over {HTTP_PACED_CONNS} connections: {HTTP_ROUNDS} rounds of {} s each (after {} s warm-up), taking turns",
        HTTP_ROUND.as_secs(),
        HTTP_WARMUP.as_secs()
    ));
    let mut paced: Vec<(http::Paced, u64)> = Vec::new();
    for round in 0..HTTP_ROUNDS {
        for (i, server) in started.iter().enumerate() {
            // The warm-up only before each server's first round: after that its connections are
            // open already; each round opens new ones, so every round has a short one.
            let warmup = if round == 0 {
                HTTP_WARMUP
            } else {
                Duration::from_millis(200)
            };
            let got = http::paced(server.addr, HTTP_RATE, HTTP_PACED_CONNS, warmup, HTTP_ROUND)?;
            let (hwm, _) = server.rss_kib()?;
            match paced.get_mut(i) {
                Some((p, kib)) => {
                    p.latencies.extend(got.latencies);
                    p.failed += got.failed;
                    p.achieved = p.achieved.min(got.achieved);
                    *kib = hwm;
                }
                None => paced.push((got, hwm)),
            }
        }
    }
    progress(&format!(
        "maximum throughput: wrk -t1 -c{WRK_CONNS} -d{}s, {WRK_ROUNDS} rounds each, taking turns",
        WRK_RUN.as_secs()
    ));
    let mut wrk = vec![http::Wrk::default(), http::Wrk::default()];
    for _ in 0..WRK_ROUNDS {
        for (server, sum) in started.iter().zip(&mut wrk) {
            let got = http::wrk(server.addr, WRK_CONNS, WRK_RUN)?;
            sum.requests += got.requests;
            sum.failed += got.failed;
            sum.tried += got.tried;
            // The mean of the rounds' rates.
            sum.per_sec += got.per_sec / WRK_ROUNDS as f64;
        }
    }
    let mut loaded = Vec::new();
    for ((server, paced), wrk) in started.into_iter().zip(paced).zip(wrk) {
        let (hwm_kib, _) = server.rss_kib()?;
        server.running.signal(libc::SIGTERM);
        // The Python server dies of SIGTERM; hello-loop exits 0. Either way it is gone.
        server.running.wait(Duration::from_secs(10));
        loaded.push(Loaded {
            paced: paced.0,
            hwm_paced_kib: paced.1,
            wrk,
            hwm_kib,
        });
    }
    let [rust, py]: [Loaded; 2] = loaded.try_into().map_err(|_| "two servers expected")?;
    Ok([rust, py])
}

/// wrk hammers the server; SIGTERM comes `DRAIN_SIGTERM_AT` into the run. What wrk counted, and
/// how the server ended (its exit status and the last line of its log).
fn drain_run(program: &Path, args: &[&std::ffi::OsStr], port: u16) -> Result<(http::Wrk, String)> {
    let server = http::Server::start(program, args, port)?;
    let wrk = http::wrk_command(server.addr, DRAIN_CONNS, DRAIN_WRK_RUN)
        .spawn()
        .map_err(|e| format!("cannot run wrk ({e})"))?;
    std::thread::sleep(DRAIN_SIGTERM_AT);
    server.running.signal(libc::SIGTERM);
    let out = wrk.wait_with_output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let counted =
        http::parse_wrk(&text).ok_or_else(|| format!("cannot read wrk's report:\n{text}"))?;
    let done = server.running.wait(Duration::from_secs(15));
    let how = match (done.code(), done.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(libc::SIGTERM)) => "killed by SIGTERM".into(),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => "gone".into(),
    };
    let drained = done
        .stderr
        .lines()
        .rev()
        .find_map(|l| l.find("drain served").map(|i| l[i..].trim().to_string()));
    Ok((
        counted,
        match drained {
            Some(line) => format!("{how}, log: {line}"),
            None => how,
        },
    ))
}

fn refs(v: &[std::ffi::OsString]) -> Vec<&std::ffi::OsStr> {
    v.iter().map(|a| a.as_os_str()).collect()
}

/// The HTTP listener's table: hello-loop --listen against Python's http.server, same text.
fn http_table(hloop: &Path, python: &Path, scratch: &Path) -> Result<Table> {
    let mut table = Table::new([
        "Measurement (loopback)",
        "hello-loop --listen (ours)",
        "Python http.server",
        "Target",
        "Result",
    ]);
    let py_server = scratch.join("server.py");
    fs::write(&py_server, http::PY_SERVER)?;
    let os = |s: String| std::ffi::OsString::from(s);
    let rust_args = |port: u16, extra: &[&str]| -> Vec<std::ffi::OsString> {
        let mut v = vec![os("--listen".into()), os(format!("127.0.0.1:{port}"))];
        v.extend(extra.iter().map(|s| os(s.to_string())));
        v
    };

    let rust_port = http::free_port()?;
    let ra = rust_args(rust_port, &[]);
    let py_port = http::free_port()?;
    let pa = vec![py_server.clone().into_os_string(), os(py_port.to_string())];
    let [rust, py] = load_servers([
        ("hello-loop --listen", hloop, &refs(&ra), rust_port),
        ("python http.server", python, &refs(&pa), py_port),
    ])?;

    let lat = |p: &http::Paced| -> String {
        let l = &p.latencies;
        format!(
            "p50 {} / p99 {} ({:.0} req/s, {} failed)",
            ms(percentile(l, 0.5)),
            ms(percentile(l, 0.99)),
            p.achieved,
            p.failed
        )
    };
    let p99 = percentile(&rust.paced.latencies, 0.99);
    table.row(
        format!(
            "Latency at a fixed {HTTP_RATE} req/s, {HTTP_ROUNDS}×{} s taking turns, {HTTP_PACED_CONNS} keep-alive connections (hello-bench's paced client)",
            HTTP_ROUND.as_secs()
        ),
        lat(&rust.paced),
        lat(&py.paced),
        format!("p99 ≤ {}", ms(TARGET_HTTP_P99.as_secs_f64())),
        verdict(p99 <= TARGET_HTTP_P99.as_secs_f64() && rust.paced.failed == 0),
    );
    let rss = |l: &Loaded| {
        format!(
            "{} at {HTTP_RATE} req/s; {} after wrk",
            mib(l.hwm_paced_kib as f64),
            mib(l.hwm_kib as f64)
        )
    };
    table.row(
        "Peak RSS under load (VmHWM after the fixed-rate run; after the wrk run)".into(),
        rss(&rust),
        rss(&py),
        format!("≤ {}", mib(TARGET_HTTP_RSS_KIB as f64)),
        verdict(rust.hwm_kib <= TARGET_HTTP_RSS_KIB),
    );
    let ratio = rust.wrk.per_sec / py.wrk.per_sec;
    let tput = |w: &http::Wrk| format!("{:.0} req/s ({} failed)", w.per_sec, w.failed);
    table.row(
        format!(
            "Maximum throughput (wrk -t1 -c{WRK_CONNS} -d{}s, mean of {WRK_ROUNDS} taking turns)",
            WRK_RUN.as_secs()
        ),
        format!("{}, {ratio:.1}× Python", tput(&rust.wrk)),
        tput(&py.wrk),
        format!("≥ {TARGET_THROUGHPUT_RATIO:.0}× Python"),
        verdict(ratio >= TARGET_THROUGHPUT_RATIO && rust.wrk.failed == 0),
    );

    progress(&format!(
        "drain under load: wrk -t1 -c{DRAIN_CONNS} -d{}s, SIGTERM {} s in; hello-loop with --shutdown-delay {DRAIN_DELAY}, without, and Python",
        DRAIN_WRK_RUN.as_secs(),
        DRAIN_SIGTERM_AT.as_secs()
    ));
    let port = http::free_port()?;
    let (drained, drained_end) = drain_run(
        hloop,
        &refs(&rust_args(port, &["--shutdown-delay", DRAIN_DELAY])),
        port,
    )?;
    let port = http::free_port()?;
    let (cut, cut_end) = drain_run(hloop, &refs(&rust_args(port, &[])), port)?;
    let port = http::free_port()?;
    let pa = vec![py_server.into_os_string(), os(port.to_string())];
    let (py_cut, py_end) = drain_run(python, &refs(&pa), port)?;
    let failed = |w: &http::Wrk, end: &str| format!("{} failed of {}; {end}", w.failed, w.tried);
    table.row(
        format!(
            "Failed requests, SIGTERM {} s into wrk -c{DRAIN_CONNS} -d{}s (it stops 2 s after): with --shutdown-delay {DRAIN_DELAY}",
            DRAIN_SIGTERM_AT.as_secs(),
            DRAIN_WRK_RUN.as_secs()
        ),
        failed(&drained, &drained_end),
        format!("{} (no drain)", failed(&py_cut, &py_end)),
        "0 failed".into(),
        verdict(drained.failed == 0 && drained_end.starts_with("exit 0")),
    );
    table.row(
        "The same without --shutdown-delay (what the drain prevents)".into(),
        failed(&cut, &cut_end),
        "(the row above)".into(),
        "n/a: for contrast".into(),
        "-".into(),
    );
    Ok(table)
}

/// Wall times in seconds of `runs` runs of each command, after WARMUP runs that are not kept.
/// The commands take turns, so a slow spell on the machine hits them alike. Each must exit 0.
fn wall_times<const N: usize>(cmds: [&Argv; N], runs: usize) -> Result<[Vec<f64>; N]> {
    let mut samples = std::array::from_fn(|_| Vec::with_capacity(runs));
    for i in 0..WARMUP + runs {
        for (cmd, kept) in cmds.iter().zip(&mut samples) {
            let (took, status) = child::timed_run(cmd)?;
            if status != 0 {
                return Err(format!("{cmd:?} ended with {}", child::describe(status)).into());
            }
            if i >= WARMUP {
                kept.push(took.as_secs_f64());
            }
        }
    }
    Ok(samples)
}

/// A peak-RSS row: medians of both sides (KiB samples) against the RSS target.
fn rss_row(table: &mut Table, label: String, rust_kib: &[f64], py_kib: &[f64]) {
    let rust = median(rust_kib);
    table.row(
        label,
        mib(rust),
        mib(median(py_kib)),
        format!("≤ {}", mib(TARGET_RSS_KIB as f64)),
        verdict(rust <= TARGET_RSS_KIB as f64),
    );
}

fn pid1_row(table: &mut Table, runs: usize, rust_loop: &Argv, py_loop: &Argv) -> Result<()> {
    let label = "SIGTERM → exit as PID 1 (unshare --pid --fork)";
    let target = format!("≤ {} median", ms(TARGET_PID1.as_secs_f64()));
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let skip = if euid != 0 {
        Some(format!(
            "skipped: needs root for unshare --pid (running as uid {euid})"
        ))
    } else if child::which("unshare".as_ref()).is_none() {
        Some("skipped: unshare (util-linux) not installed".to_string())
    } else {
        None
    };
    if let Some(why) = skip {
        progress(&format!("PID 1: {why}"));
        table.row(
            label.into(),
            why,
            "skipped".into(),
            target,
            "skipped".into(),
        );
        return Ok(());
    }

    let py_runs = runs.min(5);
    progress(&format!(
        "SIGTERM as PID 1: {runs} runs of hello-loop, {py_runs} of the Python loop ({} s grace each)",
        GRACE.as_secs()
    ));
    let describe = |results: &[Pid1Stop]| -> (String, Option<f64>) {
        let mut times = Vec::new();
        let mut statuses = Vec::new();
        let mut ignored = 0;
        for r in results {
            match r {
                Pid1Stop::Exited(took, status) => {
                    times.push(took.as_secs_f64());
                    statuses.push(child::describe(*status));
                }
                // unshare cannot pass a SIGKILL death on (it exits 1 instead), so no status here.
                Pid1Stop::Ignored => ignored += 1,
            }
        }
        statuses.sort();
        statuses.dedup();
        let n = results.len();
        if ignored == n {
            let text = format!(
                "ignored; needed SIGKILL ({ignored}/{n} runs, waited {} s each)",
                GRACE.as_secs()
            );
            return (text, None);
        }
        let med = median(&times);
        let mut text = format!(
            "{} (p90 {}), {}",
            ms(med),
            ms(p90(&times)),
            statuses.join(", ")
        );
        if ignored > 0 {
            text.push_str(&format!("; ignored in {ignored}/{n} runs"));
            return (text, None);
        }
        (text, Some(med))
    };

    let mut rust = Vec::new();
    for _ in 0..runs {
        rust.push(child::pid1_stop(rust_loop, true, GRACE)?);
    }
    let mut py = Vec::new();
    for _ in 0..py_runs {
        py.push(child::pid1_stop(py_loop, false, GRACE)?);
    }
    let (rust_text, rust_med) = describe(&rust);
    let (py_text, _) = describe(&py);
    table.row(
        format!("{label}, median of {runs} / {py_runs}"),
        rust_text,
        py_text,
        target,
        verdict(rust_med.is_some_and(|m| m <= TARGET_PID1.as_secs_f64())),
    );
    Ok(())
}

/// The linkage words from `file`'s description ("static-pie linked", "statically linked", ...).
fn linkage(desc: &str) -> Option<String> {
    desc.split(", ")
        .find(|part| part.ends_with(" linked"))
        .map(str::to_string)
}

struct Table {
    header: [String; 5],
    rows: Vec<[String; 5]>,
}

impl Default for Table {
    fn default() -> Self {
        Table::new([
            "Measurement",
            "Rust (ours)",
            "Python baseline",
            "Target",
            "Result",
        ])
    }
}

impl Table {
    fn new(header: [&str; 5]) -> Self {
        Table {
            header: header.map(String::from),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, what: String, ours: String, python: String, target: String, result: String) {
        self.rows.push([what, ours, python, target, result]);
    }

    /// A Markdown table, padded so it also reads well in a terminal.
    fn print(&self) {
        let header = &self.header;
        let mut widths = [0; 5];
        for row in std::iter::once(header).chain(&self.rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |row: &[String; 5]| {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                .collect();
            println!("| {} |", cells.join(" | "));
        };
        line(header);
        println!("|{}|", widths.map(|w| "-".repeat(w + 2)).join("|"));
        for row in &self.rows {
            line(row);
        }
    }
}

fn verdict(pass: bool) -> String {
    if pass { "pass" } else { "FAIL" }.into()
}

fn sorted(samples: &[f64]) -> Vec<f64> {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

fn median(samples: &[f64]) -> f64 {
    let v = sorted(samples);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// 90th percentile, nearest rank.
fn p90(samples: &[f64]) -> f64 {
    percentile(samples, 0.9)
}

/// The `q` quantile (0 < q ≤ 1), nearest rank.
fn percentile(samples: &[f64], q: f64) -> f64 {
    let v = sorted(samples);
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = (q * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

fn ms(secs: f64) -> String {
    format!("{:.2} ms", secs * 1e3)
}

fn mib(kib: f64) -> String {
    format!("{:.2} MiB", kib / 1024.0)
}

fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p90() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(p90(&v), 9.0);
        assert_eq!(p90(&[5.0]), 5.0);
    }

    #[test]
    fn args() {
        let parse = |a: &[&str]| parse_args(a.iter().map(OsString::from));
        let o = parse(&["--bin-dir", "d", "--runs=7"]).unwrap().unwrap();
        assert_eq!(
            (o.bin_dir, o.runs, o.pid1_runs),
            (PathBuf::from("d"), 7, 20)
        );
        assert!(parse(&["--help"]).unwrap().is_none());
        assert!(parse(&["--runs", "0", "--bin-dir", "d"])
            .unwrap_err()
            .contains("--runs"));
        assert!(parse(&["--runs", "x", "--bin-dir", "d"]).is_err());
        assert!(parse(&["--runs"]).unwrap_err().contains("needs a value"));
        assert!(parse(&[]).unwrap_err().contains("--bin-dir"));
        assert!(parse(&["--bogus"]).unwrap_err().contains("unknown"));
    }

    #[test]
    fn elf_linkage() {
        // This test binary has a dynamic loader exactly when it was built for glibc.
        let is_static = child::elf_is_static(Path::new("/proc/self/exe")).unwrap();
        assert_eq!(is_static, !cfg!(target_env = "gnu"));
        assert!(child::elf_is_static(Path::new("Cargo.toml")).is_err());
        assert_eq!(
            linkage("ELF 64-bit LSB pie executable, x86-64, static-pie linked, stripped"),
            Some("static-pie linked".to_string())
        );
    }
}
