//! The broker sink `kafka(brokers, topic)`: records in (E0201 with the fix), a list of
//! `host:port` bootstrap brokers (E0211), no credentials in it (E0212), a topic name Kafka
//! takes (E0213).

use super::Checker;
use super::Ty;
use super::brokers::BrokerError;
use super::errors::TypeError;
use crate::brokers::{AddressError, Protocol, kafka};
use crate::hir::BoundCall;

impl Checker<'_> {
    pub(super) fn kafka_sink(&mut self, input: &Ty, call: &BoundCall) {
        self.per_stream_records(input, call);
        self.broker_topic(call, Protocol::Kafka);
        let Some(brokers) = call.bound("brokers") else {
            return;
        };
        let crate::hir::Value::String(text) = &brokers.value else {
            return;
        };
        match kafka::parse(text) {
            Ok(_) => {}
            Err(AddressError::Credentials { without }) => {
                self.errors
                    .push(TypeError::Broker(BrokerError::Credentials {
                        span: brokers.span,
                        without,
                        env_prefix: Protocol::Kafka.env_prefix(),
                    }));
            }
            Err(problem) => self.errors.push(TypeError::Broker(BrokerError::Address {
                span: brokers.span,
                sink: call.name.clone(),
                url: text.clone(),
                problem,
                schemes: Protocol::Kafka.schemes(),
            })),
        }
    }
}
