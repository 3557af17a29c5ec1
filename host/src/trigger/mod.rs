//! Triggers: what turns the outside world into guest calls: the HTTP trigger
//! of `cloudfn up` (dispatch, Spin headers, body limits; the socket server
//! with its connection limits and drain in `server`), the Redis
//! trigger, the Lambda trigger (the `bootstrap` binary's events, onto the
//! HTTP and Redis triggers' apps) and stream mode (`cloudfn stream`, Hadoop
//! Streaming lines through `line-stream`).

pub mod body;
pub mod dispatch;
pub mod headers;
pub mod http;
pub mod lambda;
pub mod redis;
pub mod server;
pub mod stream;
