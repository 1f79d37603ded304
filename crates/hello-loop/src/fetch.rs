//! `--fetch URL`: the looping client. Each request goes on a new connection (so a Service's
//! virtual IP spreads them over its pods, as kube-proxy balances connections, not requests),
//! within [`TIMEOUT`], and comes back as one line: the body's first line, or `error: <reason>`.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use hello_core::values::{self, one_line};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// The longest one request may take, connection included: a pod that went away without a word
/// (its packets dropped) is an error line after this, not a client stuck for ever.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// The most of a body that is read (only its first line is printed).
const MAX_BODY: usize = 64 * 1024;

const URL_FORM: &str =
    "expected an http:// URL like http://hello-loop:8080/ or http://127.0.0.1:8080/readyz";

/// Where to fetch: the parsed `--fetch` URL.
#[derive(Clone, Debug)]
pub struct Target {
    uri: Uri,
    host: String,
    port: u16,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.uri.fmt(f)
    }
}

/// The `--fetch` value: an `http://` URL with a host.
pub fn url(text: &str) -> Result<Target, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("empty value; {URL_FORM}"));
    }
    let uri: Uri = text.parse().map_err(|_| format!("not a URL; {URL_FORM}"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(other) => return Err(format!("{other}:// is not supported (no TLS); {URL_FORM}")),
        None => return Err(format!("no scheme; {URL_FORM}")),
    }
    let authority = uri
        .authority()
        .ok_or_else(|| format!("no host; {URL_FORM}"))?;
    if authority.as_str().contains('@') {
        return Err(format!(
            "a user name or password is not supported; {URL_FORM}"
        ));
    }
    let host = authority.host();
    if host.is_empty() {
        return Err(format!("no host; {URL_FORM}"));
    }
    Ok(Target {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        port: authority.port_u16().unwrap_or(80),
        uri,
    })
}

/// The client: what it fetches, and how it went so far.
pub struct Fetcher {
    target: Target,
    requests: u64,
    failed: u64,
}

impl Fetcher {
    pub fn new(target: Target) -> Self {
        Fetcher {
            target,
            requests: 0,
            failed: 0,
        }
    }

    /// One request: the line to print. A request cut short (the program stopping) is not
    /// counted.
    pub async fn fetch(&mut self) -> String {
        let result = tokio::time::timeout(TIMEOUT, get(&self.target)).await;
        self.requests += 1;
        let line = match result {
            Ok(Ok(first_line)) => return one_line(&first_line).into_owned(),
            Ok(Err(reason)) => reason,
            Err(_) => format!("no answer within {}", values::display(TIMEOUT)),
        };
        self.failed += 1;
        format!("error: {}", one_line(&line))
    }

    /// The result, logged at exit: `requests=N failed=M`.
    pub fn report(&self) {
        tracing::info!(
            requests = self.requests,
            failed = self.failed,
            url = %self.target,
            "fetched"
        );
    }
}

/// GET on a new connection: the body's first line on a 2xx status, else why not.
async fn get(target: &Target) -> Result<String, String> {
    let addr = resolve(target)?;
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|err| format!("cannot connect to {addr}: {err}"))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream))
        .await
        .map_err(|err| err.to_string())?;
    let path = target
        .uri
        .path_and_query()
        .map_or("/", |path| path.as_str());
    let mut request = Request::get(path)
        .body(Empty::new())
        .map_err(|err| err.to_string())?;
    let headers = request.headers_mut();
    if let Ok(host) = HeaderValue::from_str(target.uri.authority().map_or("", |a| a.as_str())) {
        headers.insert(header::HOST, host);
    }
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert(
        header::USER_AGENT,
        HeaderValue::from_static(concat!("hello-loop/", env!("CARGO_PKG_VERSION"))),
    );
    let exchange = async move {
        let response = sender
            .send_request(request)
            .await
            .map_err(|err| err.to_string())?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("HTTP {}", status.as_u16()));
        }
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|err| format!("reading the body: {err}"))?
            .to_bytes();
        drop(sender); // the connection ends once it has nothing more to do
        let text = String::from_utf8_lossy(&body);
        Ok(text.lines().next().unwrap_or("").to_string())
    };
    // The connection is driven here, beside the exchange, not in a task of its own: nothing is
    // left behind when the request is over or cut short.
    let (answer, _closed) = tokio::join!(exchange, connection);
    answer
}

/// The address to connect to: the host as it is when it is an IP address, else the first
/// address the system's resolver gives (a Service name in Kubernetes). The lookup runs on the
/// program's one thread (a resolver thread would be a second one): it blocks that thread for as
/// long as the resolver takes, a few milliseconds for a cluster's DNS, its own timeout at worst.
fn resolve(target: &Target) -> Result<SocketAddr, String> {
    if let Ok(ip) = target.host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, target.port));
    }
    let failed = |why: String| format!("cannot resolve {}: {why}", target.host);
    (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|err| failed(err.to_string()))?
        .next()
        .ok_or_else(|| failed("no address".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_with_a_host() {
        let target = url("http://hello-loop:8080/readyz?x=1").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("hello-loop", 8080));
        assert_eq!(target.uri.path_and_query().unwrap().as_str(), "/readyz?x=1");
        let v6 = url("http://[::1]/").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 80));
        for (bad, why) in [
            ("", "empty value"),
            ("hello-loop:8080", "no scheme"),
            ("https://example.org/", "https:// is not supported"),
            ("http://", "not a URL"),
            ("http://user:pw@host/", "user name or password"),
            ("/just/a/path", "no scheme"),
            ("http://exa mple/", "not a URL"),
        ] {
            let err = url(bad).unwrap_err();
            assert!(
                err.contains(why) && err.contains("expected an http:// URL"),
                "{bad:?}: {err}"
            );
        }
    }
}
