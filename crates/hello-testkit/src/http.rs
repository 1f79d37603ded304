//! HTTP/1.1 from the tests' side, for `hello-loop --listen`: one GET per connection
//! (`Connection: close`, so the answer ends where the connection does), parsed by httparse (the
//! parser hyper itself uses), and failures sorted the way a drain test needs them: refused (no
//! listener), unanswered (the connection ended before a byte of the answer), or anything else.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::Running;

/// A complete answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }
}

/// The value of header `name` (any case) among `headers` (names in lower case).
fn header_in<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

/// Why a request brought no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The connection was refused: nothing listens at the address (the listener is closed).
    Refused,
    /// Connected, but the connection was closed or reset before any byte of an answer came.
    Unanswered(String),
    /// Anything else: a timeout, an answer cut short or malformed.
    Other(String),
}

/// `GET path` on a new connection, the whole exchange within `timeout`.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<Answer, Failure> {
    begin(addr, path, timeout)?.finish()
}

/// A request begun and not finished: the request line and a header sent, the blank line that
/// ends the headers not yet. The server has it in flight until [`Unfinished::finish`].
pub struct Unfinished {
    stream: TcpStream,
    deadline: Instant,
}

/// Connects and sends the start of `GET path`; the rest goes with [`Unfinished::finish`].
pub fn begin(addr: SocketAddr, path: &str, timeout: Duration) -> Result<Unfinished, Failure> {
    let deadline = Instant::now() + timeout;
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|err| match err.kind() {
            std::io::ErrorKind::ConnectionRefused => Failure::Refused,
            // The handshake was under way when the listener closed: reset by the close.
            std::io::ErrorKind::ConnectionReset => Failure::Unanswered(format!("connect: {err}")),
            _ => Failure::Other(format!("connect: {err}")),
        })?;
    let _ = stream.set_nodelay(true);
    let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    stream
        .write_all(head.as_bytes())
        .map_err(|err| Failure::Unanswered(format!("sending: {err}")))?;
    Ok(Unfinished { stream, deadline })
}

impl Unfinished {
    /// Ends the request and reads the answer to its end.
    pub fn finish(mut self) -> Result<Answer, Failure> {
        let left = |deadline: Instant| {
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        };
        self.stream
            .write_all(b"Connection: close\r\n\r\n")
            .map_err(|err| Failure::Unanswered(format!("sending: {err}")))?;
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if Instant::now() >= self.deadline {
                return Err(Failure::Other(format!(
                    "timed out with {} bytes of an answer",
                    bytes.len()
                )));
            }
            let _ = self.stream.set_read_timeout(Some(left(self.deadline)));
            match self.stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) if bytes.is_empty() => {
                    return Err(match err.kind() {
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                            Failure::Other(format!("no answer: {err}"))
                        }
                        _ => Failure::Unanswered(err.to_string()),
                    })
                }
                Err(err) => {
                    return Err(Failure::Other(format!(
                        "after {} bytes of an answer: {err}",
                        bytes.len()
                    )))
                }
            }
        }
        if bytes.is_empty() {
            return Err(Failure::Unanswered("closed without an answer".into()));
        }
        parse(&bytes)
    }
}

/// An answer's head (status line and headers), parsed by httparse.
#[derive(Debug, Clone)]
pub struct Head {
    /// Its length in bytes, the blank line included: the body starts there.
    pub len: usize,
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }

    pub fn content_length(&self) -> Option<usize> {
        self.header("content-length")?.trim().parse().ok()
    }
}

/// The head at the start of `bytes`: None while it is not complete yet, an error when it is
/// malformed. Also what hello-bench's keep-alive client reads its answers with.
pub fn head(bytes: &[u8]) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(err) => return Err(format!("a malformed answer: {err}")),
    };
    Ok(Some(Head {
        len,
        status: response.code.unwrap_or(0),
        headers: response
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
    }))
}

/// The answer in `bytes`, which must be whole: its head, and a body of its Content-Length.
fn parse(bytes: &[u8]) -> Result<Answer, Failure> {
    let head = head(bytes).map_err(Failure::Other)?.ok_or_else(|| {
        Failure::Other(format!(
            "an answer cut short in its head: {:?}",
            String::from_utf8_lossy(bytes)
        ))
    })?;
    let body = &bytes[head.len..];
    let length = head.content_length();
    if length != Some(body.len()) {
        return Err(Failure::Other(format!(
            "a body of {} bytes, Content-Length {length:?}",
            body.len()
        )));
    }
    Ok(Answer {
        status: head.status,
        headers: head.headers,
        body: String::from_utf8_lossy(body).into_owned(),
    })
}

/// The address hello-loop listens on, from its `listening addr=IP:PORT` log line (so tests can
/// use port 0 and never collide).
pub fn listening_addr(running: &Running) -> SocketAddr {
    running.wait_for_log("listening addr=", crate::PROMPTLY);
    let stderr = running.stderr();
    let rest =
        &stderr[stderr.find("listening addr=").expect("the line") + "listening addr=".len()..];
    let addr = rest.split_whitespace().next().unwrap_or("");
    addr.trim_matches('"')
        .parse()
        .unwrap_or_else(|_| panic!("not an address in the log: {addr:?}\n{stderr}"))
}

/// An address on which nothing listens: a port the kernel just handed out, closed again.
pub fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("its address")
}
