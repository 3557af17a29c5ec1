//! Component glue: the `wasi:http` handler over [`crate::site`].

use crate::site::{self, Request};
use component_http::wasi::{header, method_name, request_target, start};
use wasip2::http::types::{IncomingRequest, ResponseOutparam};

component_http::generate!({
    path: ["../../wit/platform"],
    world: "cloudfn:platform/http-function",
});

struct Web;

impl exports::wasi::http::incoming_handler::Guest for Web {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let (path, _query) = request_target(&request);
        let method = request.method();
        let accept_encoding = header(&request, "accept-encoding");
        let if_none_match = header(&request, "if-none-match");
        let response = site::respond(&Request {
            method: method_name(&method),
            path: &path,
            accept_encoding: accept_encoding.as_deref(),
            if_none_match: if_none_match.as_deref(),
        });
        let headers: Vec<(&str, &str)> = response
            .headers
            .iter()
            .map(|(n, v)| (*n, v.as_str()))
            .collect();
        let Some(mut body) = start(out, response.status, response.content_type, &headers) else {
            return;
        };
        if body.write(response.body).is_ok() {
            body.finish();
        }
    }
}

export!(Web);
