//! Triggers: what turns the outside world into guest calls. For now the HTTP
//! trigger (`cloudfn up`); event delivery and stream mode join here.

pub mod body;
pub mod dispatch;
pub mod headers;
pub mod http;
pub mod stream;
