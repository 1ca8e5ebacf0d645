//! Broker sinks `mqtt(url, topic)` and `redis(url, stream)`: records in (E0201 with the
//! fix), an address of the sink's own protocol (E0211), no credentials in it (E0212), a
//! topic the broker takes (E0213, shared with `kafka`).

use super::errors::TypeError;
use super::{Checker, Ty};
use crate::brokers::{self, AddressError, Protocol};
use crate::diagnostics::{Code, Diagnostic};
use crate::hir::BoundCall;
use crate::source::FileId;
use crate::syntax::Span;

/// A broker sink's address (E0211), credentials (E0212) or topic (E0213); `kafka.rs` too.
#[derive(Debug, Clone, PartialEq)]
pub enum BrokerError {
    /// A broker sink's `url` that is not an address of its protocol (E0211).
    Address {
        span: Span,
        sink: String,
        url: String,
        problem: crate::brokers::AddressError,
        schemes: (&'static str, &'static str),
    },
    /// A topic the broker refuses for publishing (E0213).
    Topic {
        span: Span,
        sink: String,
        topic: String,
        problem: crate::brokers::TopicError,
    },
    /// `user:password@` in a broker address (E0212).
    Credentials {
        span: Span,
        without: String,
        env_prefix: &'static str,
    },
}

impl Checker<'_> {
    pub(super) fn broker_sink(&mut self, input: &Ty, call: &BoundCall, protocol: Protocol) {
        self.per_stream_records(input, call);
        self.broker_topic(call, protocol);
        let Some(url) = call.bound("url") else {
            return;
        };
        let crate::hir::Value::String(text) = &url.value else {
            return;
        };
        match brokers::parse(protocol, text) {
            Ok(_) => {}
            Err(AddressError::Credentials { without }) => {
                self.errors
                    .push(TypeError::Broker(BrokerError::Credentials {
                        span: url.span,
                        without,
                        env_prefix: protocol.env_prefix(),
                    }));
            }
            Err(problem) => self.errors.push(TypeError::Broker(BrokerError::Address {
                span: url.span,
                sink: call.name.clone(),
                url: text.clone(),
                problem,
                schemes: protocol.schemes(),
            })),
        }
    }

    /// E0213: the topic (`topic:`; a Redis sink's `stream:`) as the broker will see it, with
    /// `{stream}` filled in by ids as long as the program's sources can make.
    pub(super) fn broker_topic(&mut self, call: &BoundCall, protocol: Protocol) {
        let name = if protocol == Protocol::Redis {
            "stream"
        } else {
            "topic"
        };
        let Some(arg) = call.bound(name) else {
            return;
        };
        let crate::hir::Value::String(topic) = &arg.value else {
            return;
        };
        let sources: usize = self
            .program
            .pipelines
            .iter()
            .map(|p| {
                p.lets
                    .iter()
                    .map(|l| &l.flow)
                    .chain(p.flows.iter().map(|f| &f.flow))
                    .map(source_calls)
                    .sum::<usize>()
            })
            .max()
            .unwrap_or(1);
        let digits = sources.saturating_sub(1).max(1).to_string().len();
        if let Err(problem) = brokers::check_topic(protocol, topic, digits) {
            self.errors.push(TypeError::Broker(BrokerError::Topic {
                span: arg.span,
                sink: call.name.clone(),
                topic: topic.clone(),
                problem,
            }));
        }
    }
}

/// The source calls written in a flow.
fn source_calls(flow: &crate::hir::Flow) -> usize {
    use crate::hir::Flow;
    match flow {
        Flow::Source { .. } => 1,
        Flow::Stream { .. } => 0,
        Flow::List { items, .. } => items.iter().map(source_calls).sum(),
        Flow::Ascribed { input, .. } | Flow::Apply { input, .. } => source_calls(input),
    }
}

impl BrokerError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            BrokerError::Address {
                span,
                sink,
                url,
                problem,
                schemes: (plain, secure),
            } => Diagnostic::new(
                Code::E0211,
                file,
                *span,
                format!("`{url}` is not an address `{sink}` can connect to: {problem}"),
            )
            .with_primary_label("not a broker address")
            .with_help(if *plain == "kafka" {
                "write `HOST:PORT[,HOST:PORT…]` (port 9092 when left out), or prefix it with `kafkas://` for TLS".to_string()
            } else {
                format!("write `{plain}://HOST[:PORT]`, or `{secure}://HOST[:PORT]` for TLS")
            }),
            BrokerError::Topic {
                span,
                sink,
                topic,
                problem,
            } => {
                let shown: String = if topic.len() > 60 {
                    format!("{}…", topic.chars().take(40).collect::<String>())
                } else {
                    topic.clone()
                };
                Diagnostic::new(
                    Code::E0213,
                    file,
                    *span,
                    format!("`{sink}` cannot publish to topic {shown:?}: {problem}"),
                )
                .with_primary_label("refused by the broker")
                .with_help(if *sink == "kafka" {
                    "name the topic with letters, digits, `.`, `_` and `-` (at most 249), e.g. `vpl.events`; `{stream}` gives each stream its own".to_string()
                } else {
                    "name one topic, levels separated by `/`, e.g. `vpl/events`; `{stream}` puts each stream in a topic of its own (`cams/{stream}/events`)".to_string()
                })
            }
            BrokerError::Credentials {
                span,
                without,
                env_prefix,
            } => Diagnostic::new(
                Code::E0212,
                file,
                *span,
                "credentials do not belong in the program text",
            )
            .with_primary_label("user name or password written here")
            .with_help(format!(
                "set {env_prefix}_USERNAME and {env_prefix}_PASSWORD in the environment of `vplc run`, and write `{without}`"
            )),
        }
    }
}
