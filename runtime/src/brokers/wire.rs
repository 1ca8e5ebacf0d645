//! One connection to a broker, plain TCP or TLS (`mqtts://`, `rediss://`, through the
//! system's OpenSSL and its certificate store), with a read buffer for the protocols'
//! framing and a write buffer flushed once per batch of messages.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use vpl_compiler::brokers::Address;

/// How long to wait for a connection, and for an answer once something is in flight.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// A line of a broker's answer longer than this is not an answer (a Redis status line or
/// an error's text is far shorter): the connection is given up rather than the memory.
const MAX_LINE: usize = 64 * 1024;

/// The variable naming a PEM file of one more certificate authority to trust (a private
/// broker's), besides the system's: `VPL_MQTT_CA_FILE`, `VPL_REDIS_CA_FILE`.
pub fn ca_variable(address: &Address) -> String {
    format!("{}_CA_FILE", address.protocol.env_prefix())
}

/// The certificate authority named by [`ca_variable`], if set; an unreadable or invalid
/// file is an error.
pub fn extra_root(address: &Address) -> io::Result<Option<native_tls::Certificate>> {
    let variable = ca_variable(address);
    let Some(path) = std::env::var_os(&variable) else {
        return Ok(None);
    };
    let pem = std::fs::read(&path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("{variable}={}: {e}", path.to_string_lossy()),
        )
    })?;
    native_tls::Certificate::from_pem(&pem)
        .map(Some)
        .map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{variable}={}: {e}", path.to_string_lossy()),
            )
        })
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

pub struct Wire {
    stream: Box<dyn Stream>,
    read: Vec<u8>,
    start: usize,
    write: Vec<u8>,
}

impl Wire {
    pub fn connect(address: &Address) -> io::Result<Wire> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address for the host");
        let mut tcp = None;
        for a in (address.host.as_str(), address.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&a, TIMEOUT) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = e,
            }
        }
        let tcp = tcp.ok_or(last)?;
        tcp.set_nodelay(true)?;
        tcp.set_read_timeout(Some(TIMEOUT))?;
        tcp.set_write_timeout(Some(TIMEOUT))?;
        let stream: Box<dyn Stream> = if address.tls {
            let mut builder = native_tls::TlsConnector::builder();
            if let Some(ca) = extra_root(address)? {
                builder.add_root_certificate(ca);
            }
            let connector = builder.build().map_err(io::Error::other)?;
            Box::new(
                connector
                    .connect(&address.host, tcp)
                    .map_err(|e| io::Error::new(io::ErrorKind::ConnectionRefused, e.to_string()))?,
            )
        } else {
            Box::new(tcp)
        };
        Ok(Wire {
            stream,
            read: Vec::new(),
            start: 0,
            write: Vec::new(),
        })
    }

    /// Bytes to send at the next [`Wire::flush`].
    pub fn out(&mut self) -> &mut Vec<u8> {
        &mut self.write
    }

    pub fn flush(&mut self) -> io::Result<()> {
        if !self.write.is_empty() {
            self.stream.write_all(&self.write)?;
            self.write.clear();
        }
        self.stream.flush()
    }

    fn need(&mut self, n: usize) -> io::Result<()> {
        if self.start > 0 && self.start == self.read.len() {
            self.read.clear();
            self.start = 0;
        }
        let mut chunk = [0u8; 16 * 1024];
        while self.read.len() - self.start < n {
            let got = self.stream.read(&mut chunk)?;
            if got == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.read.extend_from_slice(&chunk[..got]);
        }
        Ok(())
    }

    pub fn bytes(&mut self, n: usize) -> io::Result<Vec<u8>> {
        self.need(n)?;
        let out = self.read[self.start..self.start + n].to_vec();
        self.start += n;
        Ok(out)
    }

    pub fn byte(&mut self) -> io::Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    /// A line ending in CRLF, without it (Redis's framing).
    pub fn line(&mut self) -> io::Result<String> {
        let mut n = 1;
        loop {
            self.need(n)?;
            let have = &self.read[self.start..];
            if let Some(end) = have.windows(2).position(|w| w == b"\r\n") {
                let text = String::from_utf8_lossy(&have[..end]).into_owned();
                self.start += end + 2;
                return Ok(text);
            }
            if have.len() > MAX_LINE {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the server sent a line of over {MAX_LINE} bytes"),
                ));
            }
            n = have.len() + 1;
        }
    }
}
