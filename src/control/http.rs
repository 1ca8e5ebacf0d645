//! Reading one HTTP/1.1 request and writing its answer, for the control API: the head
//! parsed by `httparse`, the whole request within a deadline, a body only with
//! `Content-Length` and at most [`MAX_BODY`] bytes, every answer JSON and
//! `Connection: close`.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// The largest body taken; a larger `Content-Length` is answered 413 before its body is
/// read.
pub const MAX_BODY: usize = 1024 * 1024;
/// The largest request head (request line and headers).
pub const MAX_HEAD: usize = 16 * 1024;
/// The most headers a request may have.
const MAX_HEADERS: usize = 64;

/// A request read whole.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    pub method: String,
    /// The path, `?query` taken off, still percent-encoded.
    pub path: String,
    /// The token of `Authorization: Bearer TOKEN`, if the header has that form.
    pub bearer: Option<String>,
    /// Whether the request said `Content-Length` (routes with a body require it: 411).
    pub has_length: bool,
    pub body: Vec<u8>,
}

/// An answer: its status and JSON body (or the metrics' text).
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub body: String,
    pub content_type: &'static str,
    /// Headers beside the usual ones (`Allow`, `WWW-Authenticate`, `Retry-After`).
    pub headers: Vec<(&'static str, String)>,
}

impl Response {
    /// `status` with a JSON body.
    pub fn json(status: u16, body: &serde_json::Value) -> Response {
        Response {
            status,
            body: body.to_string(),
            content_type: "application/json",
            headers: Vec::new(),
        }
    }

    /// `status` with `{"error": message}`.
    pub fn error(status: u16, message: impl Into<String>) -> Response {
        Response::json(status, &serde_json::json!({ "error": message.into() }))
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// The answer as bytes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_bytes());
        bytes
    }
}

/// The reason phrase of the statuses the control API gives.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// What reading a request gave.
#[derive(Debug)]
pub enum Incoming {
    /// The head, parsed; the body not read yet.
    Head(Head),
    /// Not a request that can be answered: the answer to give (400, 408, 411, 413, 431).
    Refuse(Response),
    /// The client closed before sending a whole head: nothing to answer.
    Closed,
}

/// A request's head, and what came after it in the same reads (the body's start).
#[derive(Debug)]
pub struct Head {
    pub request: Request,
    /// The body's length, from `Content-Length` (0 without it).
    pub length: usize,
    /// Bytes read past the head.
    pub rest: Vec<u8>,
}

/// Reads and parses the head of the request on `stream`, all of it before `deadline`,
/// checking its framing: chunked bodies are refused (411), and so is a `Content-Length`
/// over [`MAX_BODY`] (413), both before any body is read.
pub fn read_head(stream: &mut TcpStream, deadline: Instant) -> std::io::Result<Incoming> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(n)) => {
                let rest = buf[n..].to_vec();
                return Ok(head(&parsed, rest));
            }
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => {
                return Ok(Incoming::Refuse(Response::error(
                    431,
                    format!("a request has at most {MAX_HEADERS} headers"),
                )));
            }
            Err(e) => {
                return Ok(Incoming::Refuse(Response::error(
                    400,
                    format!("not an HTTP/1.1 request: {e}"),
                )));
            }
        }
        if buf.len() >= MAX_HEAD {
            return Ok(Incoming::Refuse(Response::error(
                431,
                format!("a request's head is at most {MAX_HEAD} bytes"),
            )));
        }
        match read_some(stream, &mut chunk, deadline)? {
            Some(0) => return Ok(Incoming::Closed),
            Some(n) => buf.extend_from_slice(&chunk[..n]),
            None => return Ok(Incoming::Refuse(too_slow())),
        }
    }
}

/// The 408 of a request that did not arrive in time.
pub fn too_slow() -> Response {
    Response::error(
        408,
        "the request did not arrive in time: the whole request must come within the deadline",
    )
}

/// The head's fields that matter here, its framing checked.
fn head(parsed: &httparse::Request, rest: Vec<u8>) -> Incoming {
    let method = parsed.method.unwrap_or_default().to_string();
    let target = parsed.path.unwrap_or_default();
    let path = target
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_string();
    let mut lengths = Vec::new();
    let mut chunked = false;
    let mut bearer = None;
    for h in parsed.headers.iter() {
        let value = String::from_utf8_lossy(h.value).trim().to_string();
        if h.name.eq_ignore_ascii_case("content-length") {
            lengths.push(value);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = true;
        } else if h.name.eq_ignore_ascii_case("authorization") {
            bearer = value
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim().to_string());
        }
    }
    if chunked {
        return Incoming::Refuse(Response::error(
            411,
            "chunked bodies are not taken: send the body with a Content-Length",
        ));
    }
    lengths.dedup();
    let length = match lengths.as_slice() {
        [] => None,
        [one] => match one.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return Incoming::Refuse(Response::error(
                    400,
                    format!("Content-Length `{}` is not a number", one.escape_debug()),
                ));
            }
        },
        _ => {
            return Incoming::Refuse(Response::error(
                400,
                "the request has several different Content-Length headers",
            ));
        }
    };
    if length.is_some_and(|n| n > MAX_BODY as u64) {
        return Incoming::Refuse(Response::error(
            413,
            format!(
                "the body is {} bytes; the control API takes at most {MAX_BODY}",
                length.unwrap_or_default()
            ),
        ));
    }
    let n = length.unwrap_or(0) as usize;
    Incoming::Head(Head {
        request: Request {
            method,
            path,
            bearer,
            has_length: length.is_some(),
            body: Vec::new(),
        },
        length: n,
        rest,
    })
}

/// Reads the body of `head` (its `Content-Length` bytes) before `deadline`: the request
/// whole, or the answer to give (408 when too slow, 400 when the client closed first).
pub fn read_body(
    stream: &mut TcpStream,
    mut head: Head,
    deadline: Instant,
) -> std::io::Result<Result<Request, Response>> {
    let mut body = std::mem::take(&mut head.rest);
    let mut chunk = [0u8; 16 * 1024];
    while body.len() < head.length {
        match read_some(stream, &mut chunk, deadline)? {
            Some(0) => {
                return Ok(Err(Response::error(
                    400,
                    format!(
                        "the body ended after {} of its {} bytes",
                        body.len(),
                        head.length
                    ),
                )));
            }
            Some(n) => body.extend_from_slice(&chunk[..n]),
            None => return Ok(Err(too_slow())),
        }
    }
    body.truncate(head.length);
    head.request.body = body;
    Ok(Ok(head.request))
}

/// One read before `deadline`: `Some(n)` bytes (0: closed), `None` when the deadline
/// passed.
fn read_some(
    stream: &mut TcpStream,
    chunk: &mut [u8],
    deadline: Instant,
) -> std::io::Result<Option<usize>> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(chunk) {
            Ok(n) => return Ok(Some(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(None);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Writes `response`, then closes the connection gently: what the client still sends (the
/// rest of a body refused before it was read) is read and dropped for a moment, up to a
/// bound, so the client reads the answer instead of a reset connection.
pub fn answer(stream: &mut TcpStream, response: &Response, write_timeout: Duration) {
    let _ = stream.set_write_timeout(Some(write_timeout));
    let _ = stream.write_all(&response.to_bytes());
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    let until = Instant::now() + Duration::from_millis(500);
    let mut chunk = [0u8; 16 * 1024];
    let mut dropped = 0usize;
    while dropped < 4 * MAX_BODY {
        match read_some(stream, &mut chunk, until) {
            Ok(Some(n)) if n > 0 => dropped += n,
            _ => break,
        }
    }
}
