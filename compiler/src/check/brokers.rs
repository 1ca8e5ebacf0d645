//! Broker sinks `mqtt(url, topic)` and `redis(url, stream)`: records in (E0201 with the
//! fix), an address of the sink's own protocol (E0211), no credentials in it (E0212).

use super::errors::TypeError;
use super::{Checker, Ty};
use crate::brokers::{self, AddressError, Protocol};
use crate::hir::BoundCall;

impl Checker<'_> {
    pub(super) fn broker_sink(&mut self, input: &Ty, call: &BoundCall, protocol: Protocol) {
        self.per_stream_records(input, call);
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
}
