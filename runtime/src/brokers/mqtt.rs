//! MQTT 3.1.1, the part a publisher needs: CONNECT (user name and password from
//! `VPL_MQTT_USERNAME`/`VPL_MQTT_PASSWORD`), PUBLISH at QoS 1 and its PUBACK, PINGREQ.

use std::io;

use super::wire::Wire;
use super::{Ack, Session};

const KEEP_ALIVE_S: u16 = 60;
/// The largest packet read from the broker; anything larger is not an answer.
const MAX_PACKET: usize = 64 * 1024;

pub struct Mqtt {
    topic: Vec<u8>,
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len().min(u16::MAX as usize) as u16).to_be_bytes());
    out.extend_from_slice(&s[..s.len().min(u16::MAX as usize)]);
}

fn put_packet(out: &mut Vec<u8>, header: u8, body: &[u8]) {
    out.push(header);
    let mut len = body.len();
    loop {
        let mut b = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            b |= 0x80;
        }
        out.push(b);
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
}

/// The packet id of message `seq`: 1..=65535, in turn (far more ids than messages in
/// flight).
fn packet_id(seq: u64) -> u16 {
    (seq % 65535) as u16 + 1
}

fn read_packet(wire: &mut Wire) -> io::Result<(u8, Vec<u8>)> {
    let header = wire.byte()?;
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let b = wire.byte()?;
        len |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 21 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "malformed MQTT length",
            ));
        }
    }
    // A broker's packets to a publisher (CONNACK, PUBACK, PINGRESP) are a few bytes.
    if len > MAX_PACKET {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("an MQTT packet of {len} bytes from the broker"),
        ));
    }
    Ok((header, wire.bytes(len)?))
}

impl Mqtt {
    pub fn start(wire: &mut Wire, topic: &str) -> io::Result<Mqtt> {
        let user = std::env::var("VPL_MQTT_USERNAME").ok();
        let password = std::env::var("VPL_MQTT_PASSWORD").ok();
        let mut body = Vec::new();
        put_str(&mut body, b"MQTT");
        body.push(4);
        let mut flags = 0x02; // clean session: what is unacknowledged is in our queue
        if user.is_some() {
            flags |= 0x80;
        }
        if password.is_some() {
            flags |= 0x40;
        }
        body.push(flags);
        body.extend_from_slice(&KEEP_ALIVE_S.to_be_bytes());
        let id = format!("vpl-{}-{:x}", std::process::id(), rand_tag());
        put_str(&mut body, id.as_bytes());
        if let Some(u) = &user {
            put_str(&mut body, u.as_bytes());
        }
        if let Some(p) = &password {
            put_str(&mut body, p.as_bytes());
        }
        put_packet(wire.out(), 0x10, &body);
        wire.flush()?;
        let (header, body) = read_packet(wire)?;
        if header >> 4 != 2 || body.len() < 2 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the broker did not answer CONNECT",
            ));
        }
        if body[1] != 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("the broker refused the connection (code {})", body[1]),
            ));
        }
        Ok(Mqtt {
            topic: topic.as_bytes().to_vec(),
        })
    }
}

/// A client id part that differs between connections of one process.
fn rand_tag() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    (N.fetch_add(1, Ordering::Relaxed) << 32) | nanos
}

impl Session for Mqtt {
    fn send(&mut self, wire: &mut Wire, seq: u64, message: &str) -> io::Result<Ack> {
        let id = packet_id(seq);
        let mut body = Vec::with_capacity(self.topic.len() + message.len() + 4);
        put_str(&mut body, &self.topic);
        body.extend_from_slice(&id.to_be_bytes());
        body.extend_from_slice(message.as_bytes());
        put_packet(wire.out(), 0x32, &body);
        Ok(Ack::Id(id))
    }

    fn ping(&mut self, wire: &mut Wire) -> io::Result<Ack> {
        put_packet(wire.out(), 0xc0, &[]);
        Ok(Ack::Pong)
    }

    fn read_ack(&mut self, wire: &mut Wire) -> io::Result<Ack> {
        let (header, body) = read_packet(wire)?;
        Ok(match header >> 4 {
            4 if body.len() >= 2 => Ack::Id(u16::from_be_bytes([body[0], body[1]])),
            13 => Ack::Pong,
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unexpected MQTT packet type {other}"),
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_length_is_a_varint() {
        let mut out = Vec::new();
        put_packet(&mut out, 0x32, &[0u8; 321]);
        assert_eq!(&out[..3], &[0x32, 0xc1, 0x02]);
        assert_eq!(out.len(), 3 + 321);
        assert_eq!(packet_id(0), 1);
        assert_eq!(packet_id(65534), 65535);
        assert_eq!(packet_id(65535), 1);
    }
}
