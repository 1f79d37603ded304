//! `--listen ADDR`: the message over HTTP/1.1 (hyper), on the program's one thread, with the
//! readiness a Service needs to take the pod out of its endpoints before it goes.
//!
//! Its life: [`bind`] before anything starts (a port in use is bad input), [`Server::start`] in
//! the runtime, [`Server::not_ready`] at the first SIGTERM (`/readyz` answers 503 from then on,
//! every other path as before, each answer with `Connection: close`), [`Server::close`] when the
//! drain is over: stop accepting, let the requests in flight finish (at most
//! [`IN_FLIGHT_GRACE`]), say how many the drain served.

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hello_core::heartbeat;
use hello_core::values::one_line;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The longest the requests in flight may take to finish once the listener is closed; then the
/// program exits anyway (a client that sent half a request and went quiet must not hold the
/// exit until SIGKILL).
pub const IN_FLIGHT_GRACE: Duration = Duration::from_secs(5);

/// How long a connection that has not sent a byte yet is left open after the close. hyper's
/// graceful shutdown closes such a connection at once, but its client has connected and is
/// sending its request (the bytes are a round trip away): that request is in flight too.
const FIRST_BYTES: Duration = Duration::from_millis(100);

const ADDR_FORM: &str = "expected IP:PORT like 0.0.0.0:8080, 127.0.0.1:8080 or [::]:8080 (port 0 \
                         picks a free port)";

/// The `--listen` value: an IP address and a port (no host names: the address is this host's).
pub fn addr(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("empty value; {ADDR_FORM}"));
    }
    text.parse()
        .map_err(|_| format!("not an IP address and port; {ADDR_FORM}"))
}

/// Binds the listening socket, before the runtime and before any output: an address this host
/// does not have, a port in use or one we may not bind is refused like any bad input.
pub fn bind(addr: SocketAddr) -> Result<StdListener, String> {
    let listener = StdListener::bind(addr)
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .map_err(|err| {
            format!(
                "hello-loop: cannot listen on {addr} given by --listen / HELLO_LISTEN: {err}; \
                 expected IP:PORT with an address of this host and a port free to bind (port \
                 0 picks a free one)"
            )
        })?;
    Ok(listener)
}

/// What every connection shares: the answers, and the counts.
struct Site {
    /// `<message>\n`, the body of `GET /`.
    message: Bytes,
    /// `X-Hello-Pod`: this host's name (the pod's, in Kubernetes).
    pod: Option<HeaderValue>,
    /// The heartbeat `/livez` judges, and the maximum age for one that carries none.
    heartbeat: Option<PathBuf>,
    fallback_max_age: Duration,
    draining: AtomicBool,
    served: AtomicU64,
}

/// The listener, serving in a task of its own.
pub struct Server {
    site: Arc<Site>,
    stop: Arc<Notify>,
    task: JoinHandle<()>,
    /// Requests served when readiness flipped.
    served_before_drain: u64,
}

impl Server {
    /// Starts serving on `listener` (from [`bind`]). Call inside the runtime.
    pub fn start(
        listener: StdListener,
        message: &str,
        heartbeat: Option<PathBuf>,
        fallback_max_age: Duration,
    ) -> std::io::Result<Server> {
        let listener = TcpListener::from_std(listener)?;
        tracing::info!(addr = %listener.local_addr()?, "listening");
        let site = Arc::new(Site {
            message: Bytes::from(format!("{message}\n")),
            pod: hostname().and_then(|name| HeaderValue::from_str(&name).ok()),
            heartbeat,
            fallback_max_age,
            draining: AtomicBool::new(false),
            served: AtomicU64::new(0),
        });
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(serve(listener, Arc::clone(&site), Arc::clone(&stop)));
        Ok(Server {
            site,
            stop,
            task,
            served_before_drain: 0,
        })
    }

    /// From now on `/readyz` answers 503 (the first SIGTERM): the endpoints controller takes the
    /// pod out of the Service at its next probe. Everything else is served as before.
    pub fn not_ready(&mut self) {
        self.site.draining.store(true, Ordering::SeqCst);
        self.served_before_drain = self.site.served.load(Ordering::SeqCst);
    }

    /// Stops accepting, lets the requests in flight finish (at most [`IN_FLIGHT_GRACE`]) and
    /// says how many requests were served since readiness flipped.
    pub async fn close(self) {
        self.stop.notify_one();
        let _ = self.task.await;
        let served = self.site.served.load(Ordering::SeqCst) - self.served_before_drain;
        tracing::info!(requests = served, "drain served");
    }
}

/// Accepts and serves connections until told to stop, then closes the listener and waits for
/// the connections to finish their requests.
async fn serve(listener: TcpListener, site: Arc<Site>, stop: Arc<Notify>) {
    let connections = GracefulShutdown::new();
    loop {
        tokio::select! {
            biased;
            () = stop.notified() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => spawn_connection(stream, &site, &connections),
                Err(err) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!(%err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    // The connections the kernel has already accepted for us would be reset by the close: they
    // are requests in flight too, so they are taken first.
    match listener.into_std() {
        Ok(listener) => {
            while let Ok((stream, _)) = listener.accept() {
                let stream = stream
                    .set_nonblocking(true)
                    .and_then(|()| TcpStream::from_std(stream));
                if let Ok(stream) = stream {
                    spawn_connection(stream, &site, &connections);
                }
            }
        }
        Err(err) => tracing::warn!(%err, "cannot take the last connections before closing"),
    }
    tracing::info!(connections = connections.count(), "stopped accepting");
    // Every answer now says `Connection: close`, so the connections end one by one as their
    // requests are answered; those still open after FIRST_BYTES are told to finish (hyper
    // closes one that is idle at once, and lets one with a request begun finish it).
    let settle = tokio::time::Instant::now() + FIRST_BYTES;
    while connections.count() > 0 && tokio::time::Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    if tokio::time::timeout(IN_FLIGHT_GRACE, connections.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace = %hello_core::values::display(IN_FLIGHT_GRACE),
            "requests still in flight after the grace; exiting without them"
        );
    }
}

fn spawn_connection(stream: TcpStream, site: &Arc<Site>, connections: &GracefulShutdown) {
    // One small answer per request: send it now rather than wait for more to fill a segment.
    let _ = stream.set_nodelay(true);
    let site = Arc::clone(site);
    let service = service_fn(move |request| {
        let response = answer(&request, &site);
        site.served.fetch_add(1, Ordering::Relaxed);
        std::future::ready(Ok::<_, Infallible>(response))
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new()) // for hyper's 30 s limit on reading a request's headers
        .serve_connection(TokioIo::new(stream), service);
    let connection = connections.watch(connection);
    tokio::spawn(async move {
        // A client that goes away mid-request is its own business.
        let _ = connection.await;
    });
}

/// The answer to one request.
fn answer(request: &Request<Incoming>, site: &Site) -> Response<Full<Bytes>> {
    let (status, body): (StatusCode, Bytes) = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, path) => match path {
            "/" => (StatusCode::OK, site.message.clone()),
            "/readyz" if site.draining.load(Ordering::SeqCst) => {
                (StatusCode::SERVICE_UNAVAILABLE, "draining\n".into())
            }
            "/readyz" => (StatusCode::OK, "ready\n".into()),
            "/livez" => livez(site),
            _ => (StatusCode::NOT_FOUND, "not found\n".into()),
        },
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed\n".into(),
        ),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    if site.draining.load(Ordering::SeqCst) {
        // Draining: a client that keeps its connection would keep coming back to this pod; one
        // that reconnects reaches, through the Service, a pod that is still ready.
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if let Some(pod) = &site.pod {
        headers.insert("x-hello-pod", pod.clone());
    }
    response
}

/// The heartbeat's verdict, as `hello-loop check` gives it: alive without a heartbeat file.
fn livez(site: &Site) -> (StatusCode, Bytes) {
    let Some(path) = &site.heartbeat else {
        return (StatusCode::OK, "alive\n".into());
    };
    match heartbeat::check(path, None, site.fallback_max_age) {
        Ok(_) => (StatusCode::OK, "alive\n".into()),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("stale: {}\n", one_line(&why)).into(),
        ),
    }
}

/// This host's name (in Kubernetes, the pod's), as gethostname(2) gives it.
fn hostname() -> Option<String> {
    let mut name = [0u8; 256];
    // SAFETY: the buffer and its length are valid; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) };
    if rc != 0 {
        return None;
    }
    let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    String::from_utf8(name[..len].to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_ip_and_port() {
        assert_eq!(
            addr("0.0.0.0:8080"),
            Ok(SocketAddr::from(([0, 0, 0, 0], 8080)))
        );
        assert!(addr("[::]:8080").is_ok());
        assert!(addr(" 127.0.0.1:0 ").is_ok());
        for bad in [
            "",
            "8080",
            ":8080",
            "localhost:8080",
            "0.0.0.0",
            "1.2.3.4:99999",
        ] {
            assert!(
                addr(bad).unwrap_err().contains("expected IP:PORT"),
                "{bad:?}"
            );
        }
    }
}
