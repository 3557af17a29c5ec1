//! Triggers: what turns the outside world into guest calls: the HTTP trigger
//! of `cloudfn up` (server, dispatch, Spin headers, body limits) and stream
//! mode (`cloudfn stream`, Hadoop Streaming lines through `line-stream`).

pub mod body;
pub mod dispatch;
pub mod headers;
pub mod http;
pub mod redis;
pub mod stream;
