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

/// The longest MQTT topic: its length is a 16-bit count of UTF-8 bytes (MQTT 3.1.1, 1.5.3).
pub const MQTT_TOPIC_MAX: usize = 65_535;
/// The longest Kafka topic name.
pub const KAFKA_TOPIC_MAX: usize = 249;

/// Why a broker refuses a topic (MQTT, Kafka) for publishing; a Redis stream key may be
/// any string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicError {
    Empty,
    /// MQTT's wildcards `+` and `#`: for subscribing, never in a published topic.
    Wildcard(char),
    /// U+0000, which MQTT forbids in every string.
    Nul,
    /// Longer than the protocol allows, in UTF-8 bytes, once `{stream}` is filled in.
    TooLong {
        bytes: usize,
        max: usize,
    },
    /// A character Kafka does not allow in topic names (only `a-z A-Z 0-9 . _ -`).
    KafkaChar(char),
    /// `.` and `..` are not Kafka topic names.
    Dots,
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopicError::Empty => write!(f, "the topic is empty"),
            TopicError::Wildcard(c) => write!(
                f,
                "`{c}` is a wildcard, for subscribing: MQTT refuses a message published to it"
            ),
            TopicError::Nul => write!(f, "MQTT forbids the NUL character in topics"),
            TopicError::TooLong { bytes, max } => write!(
                f,
                "the topic is {bytes} bytes long with `{{stream}}` filled in, over the {max} the protocol allows"
            ),
            TopicError::KafkaChar(c) => write!(
                f,
                "`{}` is not allowed in a Kafka topic name (only letters, digits, `.`, `_` and `-`)",
                c.escape_debug()
            ),
            TopicError::Dots => write!(f, "`.` and `..` are not Kafka topic names"),
        }
    }
}

/// Checks the topic (MQTT, Kafka) a sink publishes to, as written: `{stream}` is filled in
/// with ids of up to `stream_digits` digits.
pub fn check_topic(
    protocol: Protocol,
    topic: &str,
    stream_digits: usize,
) -> Result<(), TopicError> {
    let filled = topic.replace("{stream}", "0");
    let bytes = topic.len() + topic.matches("{stream}").count() * stream_digits.max(1)
        - topic.matches("{stream}").count() * "{stream}".len();
    match protocol {
        Protocol::Redis => Ok(()),
        Protocol::Mqtt => {
            if filled.is_empty() {
                Err(TopicError::Empty)
            } else if let Some(c) = filled.chars().find(|c| matches!(c, '+' | '#')) {
                Err(TopicError::Wildcard(c))
            } else if filled.contains('\0') {
                Err(TopicError::Nul)
            } else if bytes > MQTT_TOPIC_MAX {
                Err(TopicError::TooLong {
                    bytes,
                    max: MQTT_TOPIC_MAX,
                })
            } else {
                Ok(())
            }
        }
        Protocol::Kafka => {
            if filled.is_empty() {
                Err(TopicError::Empty)
            } else if filled == "." || filled == ".." {
                Err(TopicError::Dots)
            } else if let Some(c) = filled
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            {
                Err(TopicError::KafkaChar(c))
            } else if bytes > KAFKA_TOPIC_MAX {
                Err(TopicError::TooLong {
                    bytes,
                    max: KAFKA_TOPIC_MAX,
                })
            } else {
                Ok(())
            }
        }
    }
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

    #[test]
    fn topics_brokers_refuse_are_found() {
        use super::TopicError as T;
        let mqtt = |t: &str| check_topic(Protocol::Mqtt, t, 1);
        assert_eq!(mqtt("vpl/events"), Ok(()));
        assert_eq!(mqtt("cams/{stream}/events"), Ok(()));
        assert_eq!(mqtt(""), Err(T::Empty));
        assert_eq!(mqtt("cams/+/events"), Err(T::Wildcard('+')));
        assert_eq!(mqtt("cams/#"), Err(T::Wildcard('#')));
        assert_eq!(mqtt("a\0b"), Err(T::Nul));
        assert_eq!(
            mqtt(&"é".repeat(32_768)),
            Err(T::TooLong {
                bytes: 65_536,
                max: 65_535
            })
        );
        assert_eq!(mqtt(&"a".repeat(65_535)), Ok(()));
        // `{stream}` counts as the digits of the largest stream id.
        let long = format!("{}{{stream}}", "a".repeat(65_533));
        assert_eq!(check_topic(Protocol::Mqtt, &long, 2), Ok(()));
        assert!(check_topic(Protocol::Mqtt, &long, 3).is_err());
        let kafka = |t: &str| check_topic(Protocol::Kafka, t, 1);
        assert_eq!(kafka("vpl.events_{stream}-x"), Ok(()));
        assert_eq!(kafka("vpl/events"), Err(T::KafkaChar('/')));
        assert_eq!(kafka(".."), Err(T::Dots));
        assert!(kafka(&"a".repeat(250)).is_err());
        assert_eq!(check_topic(Protocol::Redis, "", 1), Ok(()));
    }
}
