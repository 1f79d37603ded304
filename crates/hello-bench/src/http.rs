//! The HTTP listener (`hello-loop --listen`) against Python's `http.server`: latency at a fixed
//! rate, peak RSS under load, maximum throughput (wrk) and failed requests during a drain.
//!
//! wrk 4.1 (Debian's) has no fixed-rate mode (that is wrk2, which Debian does not package), so the
//! fixed 1,000 requests/s comes from [`paced`], a small open-loop client here: every request has a
//! start time on a fixed schedule, and its latency is counted from that time, not from when it was
//! sent, so a stall on the server's side is not hidden (no coordinated omission).

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use hello_testkit::{http, Launch, Running, Streams};

use crate::child::Result;

/// The baseline server: `http.server` (the stdlib's, threaded like `python3 -m http.server`)
/// answering every GET with the same text, HTTP/1.1 with keep-alive like hyper, no access log
/// (hello-loop logs no request either). TCP_NODELAY (`disable_nagle_algorithm`, as hyper's
/// listener sets it too): http.server writes the head and the body in two writes, and with Nagle
/// the body waits for the client's delayed ACK, 40 ms a request on Linux.
pub const PY_SERVER: &str = r#"import http.server
import sys

BODY = b"Hello, World!\n"


class Hello(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Hello).serve_forever()
"#;

/// The body both servers must answer `GET /` with.
pub const BODY: &[u8] = b"Hello, World!\n";
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: hello-bench\r\n\r\n";
/// Bounded: a request that takes longer than this counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
const START_TIMEOUT: Duration = Duration::from_secs(5);

/// A free loopback port: bound, read and released again (the server binds it right after).
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A server under test, started with stdout on /dev/null and stderr captured, environment empty.
pub struct Server {
    pub running: Running,
    pub addr: SocketAddr,
}

impl Server {
    pub fn start(program: &Path, args: &[&OsStr], port: u16) -> Result<Server> {
        let launch = Launch {
            streams: Streams {
                stdout: Some(Stdio::null()),
                stderr: None,
            },
            ..Launch::default()
        };
        let program = program.to_str().ok_or("program path is not UTF-8")?;
        let running = Running::launch(program, args, &[], launch).ok_or("cannot start")?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + START_TIMEOUT;
        // Up when it answers GET / with the expected body: the comparison means nothing otherwise.
        loop {
            match get_once(addr) {
                Ok(body) if body == BODY => break,
                Ok(body) => {
                    return Err(format!(
                        "{program} answered GET / with {:?}, expected {:?}",
                        String::from_utf8_lossy(&body),
                        String::from_utf8_lossy(BODY)
                    )
                    .into())
                }
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!(
                        "{program} did not answer on {addr} within 5 s ({e}); stderr: {}",
                        running.stderr().trim()
                    )
                    .into())
                }
                Err(_) => thread::sleep(Duration::from_millis(20)),
            }
        }
        Ok(Server { running, addr })
    }

    /// `VmHWM` and `VmRSS` of the server process now, KiB.
    pub fn rss_kib(&self) -> Result<(u64, u64)> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.running.pid()))?;
        let field = |name: &str| -> Result<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().strip_suffix("kB"))
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| format!("no {name} in /proc/PID/status").into())
        };
        Ok((field("VmHWM:")?, field("VmRSS:")?))
    }
}

/// One GET / on a new connection; the body.
fn get_once(addr: SocketAddr) -> io::Result<Vec<u8>> {
    let mut conn = Conn::open(addr)?;
    conn.get().map(|(_, body)| body)
}

/// A keep-alive HTTP/1.1 connection that sends `GET /` and reads one response at a time.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
        stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(1024),
        })
    }

    /// Sends one request; returns the status and the body.
    fn get(&mut self) -> io::Result<(u16, Vec<u8>)> {
        self.stream.write_all(REQUEST)?;
        let (status, body, _) = self.read_response()?;
        Ok((status, body))
    }

    /// Reads one response: status, body, and whether the server keeps the connection open.
    fn read_response(&mut self) -> io::Result<(u16, Vec<u8>, bool)> {
        let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
        let head = loop {
            if let Some(head) = http::head(&self.buf).map_err(bad)? {
                break head;
            }
            self.fill()?;
        };
        let close = head
            .header("connection")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("close"));
        // Both servers send Content-Length for these small bodies; nothing else is needed here.
        let length = head
            .content_length()
            .ok_or_else(|| bad("no Content-Length".to_string()))?;
        let end = head.len + length;
        while self.buf.len() < end {
            self.fill()?;
        }
        let body = self.buf[head.len..end].to_vec();
        self.buf.drain(..end);
        Ok((head.status, body, !close))
    }

    fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// What a fixed-rate run measured.
pub struct Paced {
    /// Seconds from each request's scheduled start to its full response, measured requests only.
    pub latencies: Vec<f64>,
    /// Measured requests that failed (error, timeout, non-200 or another body).
    pub failed: usize,
    /// The rate reached over the measured window (requests scheduled and done / window).
    pub achieved: f64,
}

/// `rate` GET / per second for `warmup + measure`, spread over `conns` keep-alive connections
/// (one thread each, taking every `conns`-th slot of one schedule). Only requests scheduled after
/// the warm-up count. A request that fails reopens its connection.
pub fn paced(
    addr: SocketAddr,
    rate: u32,
    conns: usize,
    warmup: Duration,
    measure: Duration,
) -> Result<Paced> {
    let start = Instant::now() + Duration::from_millis(50);
    let total = ((warmup + measure).as_secs_f64() * rate as f64) as u64;
    let first_kept = (warmup.as_secs_f64() * rate as f64) as u64;
    let period = 1.0 / rate as f64;
    let workers: Vec<_> = (0..conns as u64)
        .map(|k| {
            thread::spawn(move || {
                let mut lat = Vec::new();
                let mut failed = 0usize;
                let mut conn: Option<Conn> = None;
                let mut i = k;
                while i < total {
                    let due = start + Duration::from_secs_f64(i as f64 * period);
                    let now = Instant::now();
                    if due > now {
                        thread::sleep(due - now);
                    }
                    let ok = (|| -> io::Result<bool> {
                        if conn.is_none() {
                            conn = Some(Conn::open(addr)?);
                        }
                        let c = conn.as_mut().expect("just opened");
                        c.stream.write_all(REQUEST)?;
                        let (status, body, keep) = c.read_response()?;
                        if !keep {
                            conn = None;
                        }
                        Ok(status == 200 && body == BODY)
                    })();
                    let took = due.elapsed().as_secs_f64();
                    let ok = ok.unwrap_or_else(|_| {
                        conn = None;
                        false
                    });
                    if i >= first_kept {
                        if ok {
                            lat.push(took);
                        } else {
                            failed += 1;
                        }
                    }
                    i += conns as u64;
                }
                (lat, failed)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failed = 0;
    for w in workers {
        let (lat, f) = w.join().map_err(|_| "a client thread panicked")?;
        latencies.extend(lat);
        failed += f;
    }
    let window_end = start + warmup + measure;
    // The window counts until the last response came in, so a server that fell behind shows a
    // lower rate than the schedule's.
    let done = Instant::now().max(window_end);
    let achieved = latencies.len() as f64 / (done - (start + warmup)).as_secs_f64();
    Ok(Paced {
        latencies,
        failed,
        achieved,
    })
}

/// What one wrk run reported.
#[derive(Debug, Default, PartialEq)]
pub struct Wrk {
    /// Responses (any status).
    pub requests: u64,
    pub per_sec: f64,
    /// Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses.
    pub failed: u64,
    /// Requests tried: responses plus socket errors.
    pub tried: u64,
}

/// `wrk -t1 -c CONNS -d DURATION http://ADDR/`: one thread, so on 2 cores the server has the other.
pub fn wrk_command(addr: SocketAddr, conns: usize, duration: Duration) -> Command {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t1".to_string(),
        format!("-c{conns}"),
        format!("-d{}s", duration.as_secs()),
        "--timeout".into(),
        format!("{}s", REQUEST_TIMEOUT.as_secs()),
        format!("http://{addr}/"),
    ])
    .stdin(Stdio::null())
    .stderr(Stdio::piped())
    .stdout(Stdio::piped());
    cmd
}

pub fn wrk_version() -> Option<String> {
    let out = Command::new("wrk").arg("-v").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .next()
        .and_then(|l| l.split(" [").next())
        .map(str::to_string)
}

pub fn wrk(addr: SocketAddr, conns: usize, duration: Duration) -> Result<Wrk> {
    let out = wrk_command(addr, conns, duration)
        .output()
        .map_err(|e| format!("cannot run wrk ({e}); install Debian's wrk (apt-get install wrk)"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "wrk failed ({}): {}{}",
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    parse_wrk(&text).ok_or_else(|| format!("cannot read wrk's report:\n{text}").into())
}

/// Reads wrk 4's summary: `N requests in ...`, `Requests/sec: X`, and the error lines it prints
/// only when there were errors (`Socket errors: connect A, read B, write C, timeout D`,
/// `Non-2xx or 3xx responses: N`).
pub fn parse_wrk(text: &str) -> Option<Wrk> {
    let mut w = Wrk::default();
    let mut seen = (false, false);
    for line in text.lines().map(str::trim) {
        if let Some((n, _)) = line.split_once(" requests in ") {
            w.requests = n.trim().parse().ok()?;
            seen.0 = true;
        } else if let Some(v) = line.strip_prefix("Requests/sec:") {
            w.per_sec = v.trim().parse().ok()?;
            seen.1 = true;
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            for part in v.split(',') {
                let n = part.split_whitespace().nth(1)?.parse::<u64>().ok()?;
                w.failed += n;
                w.tried += n;
            }
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            w.failed += v.trim().parse::<u64>().ok()?;
        }
    }
    w.tried += w.requests;
    (seen.0 && seen.1).then_some(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_reports() {
        let clean = "Running 5s test @ http://127.0.0.1:8080/\n  1 threads and 32 connections\n\
            \x20 Thread Stats   Avg      Stdev     Max   +/- Stdev\n\
            \x20   Latency   400.00us  100.00us   2.00ms   90.00%\n\
            \x20 250000 requests in 5.00s, 30.00MB read\nRequests/sec:  50000.12\nTransfer/sec:      6.00MB\n";
        assert_eq!(
            parse_wrk(clean),
            Some(Wrk {
                requests: 250000,
                per_sec: 50000.12,
                failed: 0,
                tried: 250000,
            })
        );
        let errors = "  9000 requests in 3.00s, 1.00MB read\n\
            \x20 Socket errors: connect 120, read 3, write 0, timeout 2\n\
            \x20 Non-2xx or 3xx responses: 7\nRequests/sec:   3000.00\n";
        let w = parse_wrk(errors).unwrap();
        assert_eq!((w.failed, w.tried), (132, 9125));
        assert_eq!(parse_wrk("wrk: unable to connect"), None);
    }
}
