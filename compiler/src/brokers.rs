//! Broker addresses: the `url` of `mqtt(...)` and `redis(...)` → a checked [`Address`]
//! (scheme, TLS, host, port, Redis database). Read by the checker (E0211, E0212) and by the
//! runtime's broker clients, so both agree on what an address means. Credentials never
//! belong in the address: they come from the environment ([`Protocol::env_prefix`]).

use std::fmt;

pub mod kafka;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Mqtt,
    Redis,
    /// A list of bootstrap brokers, not one URL: [`kafka::parse`].
    Kafka,
}

impl Protocol {
    /// The scheme without and with TLS.
    pub fn schemes(self) -> (&'static str, &'static str) {
        match self {
            Protocol::Mqtt => ("mqtt", "mqtts"),
            Protocol::Redis => ("redis", "rediss"),
            Protocol::Kafka => ("kafka", "kafkas"),
        }
    }

    pub fn default_port(self, tls: bool) -> u16 {
        match (self, tls) {
            (Protocol::Mqtt, false) => 1883,
            (Protocol::Mqtt, true) => 8883,
            (Protocol::Redis, _) => 6379,
            (Protocol::Kafka, _) => 9092,
        }
    }

    /// Credentials are read from `{prefix}_USERNAME` and `{prefix}_PASSWORD`.
    pub fn env_prefix(self) -> &'static str {
        match self {
            Protocol::Mqtt => "VPL_MQTT",
            Protocol::Redis => "VPL_REDIS",
            Protocol::Kafka => "VPL_KAFKA",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Mqtt => "mqtt",
            Protocol::Redis => "redis",
            Protocol::Kafka => "kafka",
        }
    }
}

/// A broker's address, as the client connects to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    pub protocol: Protocol,
    pub tls: bool,
    /// A name or an IP address (an IPv6 address without its brackets).
    pub host: String,
    pub port: u16,
    /// Redis only: the database selected after connecting (`redis://host/2`).
    pub database: Option<u32>,
}

/// Why a `url` is not a broker address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    /// Not `scheme://…`, or another protocol's scheme.
    Scheme {
        found: String,
    },
    NoHost,
    Port {
        text: String,
    },
    /// A path, query or fragment the protocol has no use for (a Redis database is a
    /// number).
    Rest {
        text: String,
    },
    /// `user:password@` in the address; `without` is the address with it removed.
    Credentials {
        without: String,
    },
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::Scheme { found } if found.is_empty() => {
                write!(f, "the address has no scheme")
            }
            AddressError::Scheme { found } => write!(f, "the scheme `{found}` is not this sink's"),
            AddressError::NoHost => write!(f, "the address names no host"),
            AddressError::Port { text } => write!(f, "`{text}` is not a port (1–65535)"),
            AddressError::Rest { text } => write!(f, "`{text}` means nothing to this broker"),
            AddressError::Credentials { .. } => write!(f, "the address holds credentials"),
        }
    }
}

/// Parses `url` as an address of `protocol`. Credentials are reported before any other
/// problem, so a secret in the program is always pointed out.
pub fn parse(protocol: Protocol, url: &str) -> Result<Address, AddressError> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    if let Some((_, host_port)) = authority.rsplit_once('@') {
        return Err(AddressError::Credentials {
            without: format!("{scheme}://{host_port}{tail}"),
        });
    }
    let (plain, secure) = protocol.schemes();
    let tls = match scheme.to_ascii_lowercase() {
        s if s == plain => false,
        s if s == secure => true,
        _ => {
            return Err(AddressError::Scheme {
                found: scheme.to_string(),
            });
        }
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or(AddressError::NoHost)?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(AddressError::NoHost);
    }
    let port = match port {
        None => protocol.default_port(tls),
        Some(text) => {
            text.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| AddressError::Port {
                    text: text.to_string(),
                })?
        }
    };
    let path = tail.strip_prefix('/').unwrap_or(tail);
    let database = match protocol {
        _ if path.is_empty() => None,
        Protocol::Redis if path.bytes().all(|b| b.is_ascii_digit()) => {
            Some(path.parse().map_err(|_| AddressError::Rest {
                text: tail.to_string(),
            })?)
        }
        _ => {
            return Err(AddressError::Rest {
                text: tail.to_string(),
            });
        }
    };
    Ok(Address {
        protocol,
        tls,
        host: host.to_string(),
        port,
        database,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let a = parse(Protocol::Mqtt, "mqtt://localhost").unwrap();
        assert_eq!((a.host.as_str(), a.port, a.tls), ("localhost", 1883, false));
        let a = parse(Protocol::Mqtt, "mqtts://broker.lan:8884/").unwrap();
        assert_eq!((a.host.as_str(), a.port, a.tls), ("broker.lan", 8884, true));
        let a = parse(Protocol::Redis, "redis://[::1]:7000/3").unwrap();
        assert_eq!(
            (a.host.as_str(), a.port, a.database),
            ("::1", 7000, Some(3))
        );
        assert_eq!(
            parse(Protocol::Mqtt, "redis://h"),
            Err(AddressError::Scheme {
                found: "redis".into()
            })
        );
        assert_eq!(
            parse(Protocol::Mqtt, "localhost:1883"),
            Err(AddressError::Scheme { found: "".into() })
        );
        assert_eq!(
            parse(Protocol::Redis, "redis://:6379"),
            Err(AddressError::NoHost)
        );
        assert_eq!(
            parse(Protocol::Redis, "redis://h:99999"),
            Err(AddressError::Port {
                text: "99999".into()
            })
        );
        assert_eq!(
            parse(Protocol::Mqtt, "mqtt://h/topic"),
            Err(AddressError::Rest {
                text: "/topic".into()
            })
        );
        assert_eq!(
            parse(Protocol::Redis, "rediss://me:secret@h:6380/1"),
            Err(AddressError::Credentials {
                without: "rediss://h:6380/1".into()
            })
        );
    }
}
