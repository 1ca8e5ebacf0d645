//! `vplc run FILE --control ADDR`: the control API of a running program, over HTTP/1.1.
//! [`api::Streams`] is what the server asks of the run; the run's pools implement it.

pub mod api;
