//! Redis (RESP2): `AUTH` from `VPL_REDIS_USERNAME`/`VPL_REDIS_PASSWORD`, `SELECT` for a
//! database in the URL, then `XADD stream * record LINE` per message, pipelined; the
//! answers come in order.
//!
//! A reply that is not RESP (or nests arrays deeper than any answer to these commands) is
//! an error of the connection: the sender reconnects and says so. Error replies are either
//! passing (`OOM`, `LOADING`, `BUSY`, `READONLY` during a fail-over, too many clients: the
//! message is sent again later) or for good (`NOAUTH`, `WRONGTYPE`, a cluster's `MOVED`:
//! the message is refused, and the reply's text said once).

use std::io;

use vpl_compiler::brokers::Address;

use super::wire::Wire;
use super::{Ack, Session};

/// Arrays nested deeper than this are not an answer to `XADD`, `PING`, `AUTH` or `SELECT`.
const MAX_DEPTH: usize = 8;
/// A bulk string longer than this is not either (a stream entry id is a few bytes).
const MAX_BULK: usize = 1 << 20;

pub struct Redis {
    stream: Vec<u8>,
}

fn put_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

fn garbage(what: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the server's answer is not a Redis reply ({what})"),
    )
}

/// At most the first 40 characters of `line`, for a message.
fn excerpt(line: &str) -> String {
    let mut s: String = line.chars().take(40).collect();
    if s.len() < line.len() {
        s.push('…');
    }
    format!("{s:?}")
}

/// One reply: `Ok(Ok(()))` for a value, `Ok(Err(text))` for an error reply. Read without
/// recursion, arrays at most [`MAX_DEPTH`] deep: a server that sends anything else is not
/// trusted with the connection.
fn read_reply(wire: &mut Wire) -> io::Result<Result<(), String>> {
    let mut first: Option<Result<(), String>> = None;
    // The elements still to read in each array being read, innermost last.
    let mut pending: Vec<u64> = Vec::new();
    loop {
        let line = wire.line()?;
        // `get(1..)`: the first byte may start a multi-byte character (not RESP, then).
        let rest = line.get(1..).unwrap_or("");
        let count = || -> io::Result<i64> {
            rest.parse()
                .map_err(|_| garbage(format!("a bad length in {}", excerpt(&line))))
        };
        let value = match line.as_bytes().first() {
            Some(b'+' | b':') => Ok(()),
            Some(b'-') => Err(rest.to_string()),
            Some(b'$') => {
                let n = count()?;
                if n > MAX_BULK as i64 {
                    return Err(garbage(format!("a string of {n} bytes")));
                }
                if n >= 0 {
                    wire.bytes(n as usize + 2)?;
                }
                Ok(())
            }
            Some(b'*') => {
                let n = count()?;
                if n > 0 {
                    if pending.len() >= MAX_DEPTH {
                        return Err(garbage(format!("arrays nested over {MAX_DEPTH} deep")));
                    }
                    pending.push(n as u64);
                    first.get_or_insert(Ok(()));
                    continue;
                }
                Ok(())
            }
            _ => return Err(garbage(excerpt(&line))),
        };
        first.get_or_insert(value);
        // One element done: of the innermost array, which may complete its parent's.
        loop {
            match pending.last_mut() {
                None => return Ok(first.unwrap_or(Ok(()))),
                Some(n) => {
                    *n -= 1;
                    if *n > 0 {
                        break;
                    }
                    pending.pop();
                }
            }
        }
    }
}

/// Whether an error reply reports a passing condition, cured by sending again later:
/// out of memory, loading its data, busy with a script, a fail-over under way, a cluster
/// re-sharding, too many clients.
fn passing(text: &str) -> bool {
    let code = text.split_whitespace().next().unwrap_or("");
    matches!(
        code,
        "OOM" | "LOADING" | "BUSY" | "TRYAGAIN" | "MASTERDOWN" | "CLUSTERDOWN" | "READONLY"
    ) || (code == "ERR" && text.contains("max number of clients"))
}

fn call(wire: &mut Wire, args: &[&[u8]]) -> io::Result<()> {
    put_command(wire.out(), args);
    wire.flush()?;
    read_reply(wire)?.map_err(|e| io::Error::new(io::ErrorKind::PermissionDenied, e))
}

impl Redis {
    pub fn start(wire: &mut Wire, address: &Address, stream: &str) -> io::Result<Redis> {
        let user = std::env::var("VPL_REDIS_USERNAME").ok();
        if let Ok(password) = std::env::var("VPL_REDIS_PASSWORD") {
            match &user {
                Some(u) => call(wire, &[b"AUTH", u.as_bytes(), password.as_bytes()])?,
                None => call(wire, &[b"AUTH", password.as_bytes()])?,
            }
        }
        if let Some(db) = address.database {
            call(wire, &[b"SELECT", db.to_string().as_bytes()])?;
        }
        Ok(Redis {
            stream: stream.as_bytes().to_vec(),
        })
    }
}

impl Session for Redis {
    fn send(&mut self, wire: &mut Wire, _seq: u64, message: &str) -> io::Result<Ack> {
        put_command(
            wire.out(),
            &[b"XADD", &self.stream, b"*", b"record", message.as_bytes()],
        );
        Ok(Ack::Next)
    }

    fn ping(&mut self, wire: &mut Wire) -> io::Result<Ack> {
        put_command(wire.out(), &[b"PING"]);
        Ok(Ack::Next)
    }

    fn read_ack(&mut self, wire: &mut Wire) -> io::Result<Ack> {
        // Answers come in the order of the commands, a PING's among them.
        Ok(match read_reply(wire)? {
            Ok(()) => Ack::Next,
            Err(text) if passing(&text) => {
                return Err(io::Error::other(format!(
                    "it answered `{text}` (a passing condition: the message is sent again)"
                )));
            }
            Err(text) => Ack::RefusedNext(text),
        })
    }
}
