//! The `brokers` of `kafka(brokers, topic)`: a list of bootstrap servers,
//! `host:port,host:port` (port 9092 when left out), optionally after `kafka://` or, for TLS,
//! `kafkas://`. Read by the checker (E0211, E0212) and by the runtime's Kafka client, which
//! is given the list as `bootstrap.servers`.

use super::{AddressError, Protocol};

/// A checked broker list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Brokers {
    pub tls: bool,
    /// Hosts (an IPv6 address without its brackets) and ports, in the order written.
    pub servers: Vec<(String, u16)>,
}

impl Brokers {
    /// The list as librdkafka's `bootstrap.servers` wants it.
    pub fn bootstrap(&self) -> String {
        self.servers
            .iter()
            .map(|(host, port)| {
                if host.contains(':') {
                    format!("[{host}]:{port}")
                } else {
                    format!("{host}:{port}")
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Parses a broker list. Credentials (`user:password@` in any entry) are reported before
/// any other problem, so a secret in the program is always pointed out.
pub fn parse(text: &str) -> Result<Brokers, AddressError> {
    let (scheme, list) = match text.split_once("://") {
        Some((scheme, list)) => (Some(scheme), list),
        None => (None, text),
    };
    let entries: Vec<&str> = list.split(',').map(str::trim).collect();
    if entries.iter().any(|e| e.contains('@')) {
        let cleaned: Vec<&str> = entries
            .iter()
            .map(|e| e.rsplit_once('@').map_or(*e, |(_, host)| host))
            .collect();
        let prefix = scheme.map(|s| format!("{s}://")).unwrap_or_default();
        return Err(AddressError::Credentials {
            without: format!("{prefix}{}", cleaned.join(",")),
        });
    }
    let tls = match scheme.map(str::to_ascii_lowercase).as_deref() {
        None | Some("kafka") => false,
        Some("kafkas") => true,
        Some(_) => {
            return Err(AddressError::Scheme {
                found: scheme.unwrap_or_default().to_string(),
            });
        }
    };
    let mut servers = Vec::new();
    for entry in entries {
        if let Some(at) = entry.find(['/', '?', '#']) {
            return Err(AddressError::Rest {
                text: entry[at..].to_string(),
            });
        }
        let (host, port) = if let Some(v6) = entry.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or(AddressError::NoHost)?;
            (host, after.strip_prefix(':'))
        } else {
            match entry.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (entry, None),
            }
        };
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(AddressError::NoHost);
        }
        let port =
            match port {
                None => Protocol::Kafka.default_port(tls),
                Some(text) => text.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                    AddressError::Port {
                        text: text.to_string(),
                    }
                })?,
            };
        servers.push((host.to_string(), port));
    }
    Ok(Brokers { tls, servers })
}

/// The `location` of the records sink for a broker list: `kafka://LIST` or `kafkas://LIST`,
/// with the ports written out, so the runtime knows it for Kafka's. A list the checker
/// rejected (never lowered) is kept as written.
pub fn location(text: &str) -> String {
    match parse(text) {
        Ok(b) => format!(
            "{}://{}",
            if b.tls { "kafkas" } else { "kafka" },
            b.bootstrap()
        ),
        Err(_) => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_lists() {
        let b = parse("localhost:9092, kafka-2.lan").unwrap();
        assert!(!b.tls);
        assert_eq!(b.bootstrap(), "localhost:9092,kafka-2.lan:9092");
        let b = parse("kafkas://[::1]:9093").unwrap();
        assert!(b.tls);
        assert_eq!(b.bootstrap(), "[::1]:9093");
        assert_eq!(location("h1,h2:1"), "kafka://h1:9092,h2:1");
        assert_eq!(parse("h1,,h2"), Err(AddressError::NoHost));
        assert_eq!(parse(""), Err(AddressError::NoHost));
        assert_eq!(parse("h1:0"), Err(AddressError::Port { text: "0".into() }));
        assert_eq!(
            parse("h1:9092/events"),
            Err(AddressError::Rest {
                text: "/events".into()
            })
        );
        assert_eq!(
            parse("mqtt://h1"),
            Err(AddressError::Scheme {
                found: "mqtt".into()
            })
        );
        assert_eq!(
            parse("kafkas://h1:9093,vpl:s3cret@h2:9093"),
            Err(AddressError::Credentials {
                without: "kafkas://h1:9093,h2:9093".into()
            })
        );
    }
}
