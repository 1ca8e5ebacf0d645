//! Redis (RESP2): `AUTH` from `VPL_REDIS_USERNAME`/`VPL_REDIS_PASSWORD`, `SELECT` for a
//! database in the URL, then `XADD stream * record LINE` per message, pipelined; the
//! answers come in order.

use std::io;

use vpl_compiler::brokers::Address;

use super::wire::Wire;
use super::{Ack, Session};

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

/// One reply: `Ok(Ok(()))` for a value, `Ok(Err(text))` for an error reply.
fn read_reply(wire: &mut Wire) -> io::Result<Result<(), String>> {
    let line = wire.line()?;
    let (kind, rest) = line.split_at(line.len().min(1));
    match kind {
        "+" | ":" => Ok(Ok(())),
        "-" => Ok(Err(rest.to_string())),
        "$" => {
            let n: i64 = rest.parse().unwrap_or(-1);
            if n >= 0 {
                wire.bytes(n as usize + 2)?;
            }
            Ok(Ok(()))
        }
        "*" => {
            let n: i64 = rest.parse().unwrap_or(-1);
            for _ in 0..n.max(0) {
                read_reply(wire)?.ok();
            }
            Ok(Ok(()))
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not a Redis reply: {line}"),
        )),
    }
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
            Err(_) => Ack::RefusedNext,
        })
    }
}
