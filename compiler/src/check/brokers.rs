//! Broker sinks `mqtt(url, topic)` and `redis(url, stream)`: records in (E0201 with the
//! fix), an address of the sink's own protocol (E0211), no credentials in it (E0212), a
//! topic the broker takes (E0213, shared with `kafka`).

use super::errors::TypeError;
use super::{Checker, Ty};
use crate::brokers::{self, AddressError, Protocol};
use crate::hir::BoundCall;

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
                self.errors.push(TypeError::BrokerCredentials {
                    span: url.span,
                    without,
                    env_prefix: protocol.env_prefix(),
                });
            }
            Err(problem) => self.errors.push(TypeError::BrokerAddress {
                span: url.span,
                sink: call.name.clone(),
                url: text.clone(),
                problem,
                schemes: protocol.schemes(),
            }),
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
            self.errors.push(TypeError::BrokerTopic {
                span: arg.span,
                sink: call.name.clone(),
                topic: topic.clone(),
                problem,
            });
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
