//! `vplc run FILE --control ADDR`: the control API of a running program, over HTTP/1.1.
//! [`api::Streams`] is what the server asks of the run; the run's pools implement it.
//!
//! Each connection is answered on a thread of its own, up to [`MAX_CONNECTIONS`] at once
//! (more are answered 503 at once, never kept waiting); its whole request must arrive
//! within [`REQUEST_DEADLINE`] (else 408 and closed), so a slow or stalled client never
//! holds up the others; one request a connection (`Connection: close`).

pub mod api;
pub mod auth;
pub mod deepstream;
pub mod http;
pub mod routes;
pub mod static_run;

#[cfg(test)]
mod tests;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api::Streams;
use http::{Incoming, Response};

/// Connections answered at once; more are refused (503) at once.
pub const MAX_CONNECTIONS: usize = 32;
/// The most time a client has to send its whole request.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
/// The most time an answer may take to write.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections waiting for their 503; past these, a connection is closed unanswered.
const REFUSALS_QUEUED: usize = 256;

/// What every connection's thread shares.
struct Server {
    token: Option<String>,
    streams: Arc<dyn Streams>,
    metrics: Option<Arc<Mutex<String>>>,
    active: AtomicUsize,
}

/// Binds `addr` now (a port in use is said before the run starts) and serves the control
/// API from threads that live as long as the process; returns the address bound (the real
/// port for port 0). With `token`, every request must carry `Authorization: Bearer
/// TOKEN`. With `metrics`, `GET /metrics` serves that text (`--metrics` at the same
/// address).
pub fn serve(
    addr: SocketAddr,
    token: Option<String>,
    streams: Arc<dyn Streams>,
    metrics: Option<Arc<Mutex<String>>>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    let server = Arc::new(Server {
        token,
        streams,
        metrics,
        active: AtomicUsize::new(0),
    });
    let (refusals, refused) = sync_channel::<TcpStream>(REFUSALS_QUEUED);
    std::thread::Builder::new()
        .name("vpl-control-busy".into())
        .spawn(move || refuse_all(refused))?;
    std::thread::Builder::new()
        .name("vpl-control".into())
        .spawn(move || accept(listener, server, refusals))?;
    Ok(bound)
}

/// Takes connections, each to a thread of its own while fewer than [`MAX_CONNECTIONS`]
/// are answered, else to the thread that says 503.
fn accept(listener: TcpListener, server: Arc<Server>, refusals: SyncSender<TcpStream>) {
    for stream in listener.incoming().flatten() {
        if server.active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            server.active.fetch_sub(1, Ordering::SeqCst);
            if let Err(TrySendError::Full(stream) | TrySendError::Disconnected(stream)) =
                refusals.try_send(stream)
            {
                drop(stream);
            }
            continue;
        }
        let shared = server.clone();
        let spawned = std::thread::Builder::new()
            .name("vpl-control-conn".into())
            .spawn(move || {
                let _slot = Slot(&shared.active);
                shared.connection(stream);
            });
        if spawned.is_err() {
            server.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// A connection's place among [`MAX_CONNECTIONS`], given back when its thread ends, even
/// by a panic.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Answers 503 to each connection over the bound, without reading its request.
fn refuse_all(refused: Receiver<TcpStream>) {
    let busy = Response::error(
        503,
        format!("the control API is answering {MAX_CONNECTIONS} connections already; try again"),
    )
    .with_header("Retry-After", "1");
    for mut stream in refused {
        http::answer(&mut stream, &busy, Duration::from_secs(1));
    }
}

impl Server {
    /// One request, read within [`REQUEST_DEADLINE`], answered, and the connection closed.
    fn connection(&self, mut stream: TcpStream) {
        let deadline = Instant::now() + REQUEST_DEADLINE;
        let response = match http::read_head(&mut stream, deadline) {
            Err(_) | Ok(Incoming::Closed) => return,
            Ok(Incoming::Refuse(response)) => response,
            Ok(Incoming::Head(head)) => match self.unauthorised(head.request.bearer.as_deref()) {
                Some(response) => response,
                None => match http::read_body(&mut stream, head, deadline) {
                    Err(_) => return,
                    Ok(Err(response)) => response,
                    Ok(Ok(request)) => routes::Routes {
                        streams: self.streams.as_ref(),
                        metrics: self.metrics.as_deref(),
                    }
                    .answer(&request),
                },
            },
        };
        http::answer(&mut stream, &response, WRITE_TIMEOUT);
    }

    /// The 401 of a request without the token, when one is required.
    fn unauthorised(&self, bearer: Option<&str>) -> Option<Response> {
        let expected = self.token.as_deref()?;
        let message = match bearer {
            Some(given) if auth::same_token(given, expected) => return None,
            Some(_) => "the bearer token is not the control API's",
            None => {
                "the control API requires `Authorization: Bearer TOKEN` (the token is in VPL_CONTROL_TOKEN)"
            }
        };
        Some(Response::error(401, message).with_header("WWW-Authenticate", "Bearer"))
    }
}
