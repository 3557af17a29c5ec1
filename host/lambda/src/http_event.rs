//! HTTP events: Lambda Function URLs and API Gateway HTTP APIs (payload
//! format 2.0), API Gateway REST APIs (1.0) and Application Load Balancers,
//! each turned into the HTTP request the HTTP trigger serves, and its
//! response back into the shape the caller expects.

use super::LambdaError;
use aws_lambda_events::alb::{AlbTargetGroupRequest, AlbTargetGroupResponse};
use aws_lambda_events::apigw::{
    ApiGatewayProxyRequest, ApiGatewayProxyResponse, ApiGatewayV2httpRequest,
    ApiGatewayV2httpResponse,
};
use aws_lambda_events::encodings::Body as EventBody;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, header};
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Lambda's limit on a synchronous invocation's response payload (6 MB);
/// Lambda itself refuses the same for requests before the function runs.
pub const PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;

/// Which kind of HTTP event came in, and so which response shape goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Function URL or API Gateway HTTP API, payload format 2.0.
    V2,
    /// API Gateway REST API, payload format 1.0.
    V1,
    /// Application Load Balancer; `multi_value` when the target group has
    /// multi-value headers on, which the response must then use too.
    Alb {
        /// Whether the request came with `multiValueHeaders`.
        multi_value: bool,
    },
}

/// An HTTP event as a request.
#[derive(Debug)]
pub struct HttpEvent {
    /// The response shape it wants.
    pub shape: Shape,
    /// The request, body decoded.
    pub request: http::Request<Bytes>,
    /// The caller's address (port 0: Lambda does not say).
    pub client: SocketAddr,
}

/// Reads an HTTP event of `shape`.
pub fn parse(shape: Shape, event: Value) -> Result<HttpEvent, LambdaError> {
    let invalid = |e: serde_json::Error| LambdaError::Event(format!("{shape:?} HTTP event: {e}"));
    match shape {
        Shape::V2 => {
            let e: ApiGatewayV2httpRequest = serde_json::from_value(event).map_err(invalid)?;
            let context = &e.request_context;
            let raw_path = e.raw_path.as_deref().unwrap_or("/");
            let path = strip_stage(raw_path, context.stage.as_deref());
            let mut headers = e.headers;
            // Payload 2.0 moves the request's cookies out of the headers.
            if let Some(cookies) = e.cookies.as_ref().filter(|c| !c.is_empty())
                && let Ok(value) = HeaderValue::from_str(&cookies.join("; "))
            {
                headers.insert(header::COOKIE, value);
            }
            let request = build(
                context.http.method.clone(),
                path,
                e.raw_query_string.as_deref().unwrap_or(""),
                headers,
                context.domain_name.as_deref(),
                body(e.body.as_deref(), e.is_base64_encoded)?,
            )?;
            Ok(HttpEvent {
                shape,
                request,
                client: client(context.http.source_ip.as_deref()),
            })
        }
        Shape::V1 => {
            let e: ApiGatewayProxyRequest = serde_json::from_value(event).map_err(invalid)?;
            let query = if e.multi_value_query_string_parameters.is_empty() {
                e.query_string_parameters.to_query_string()
            } else {
                e.multi_value_query_string_parameters.to_query_string()
            };
            let headers = if e.multi_value_headers.is_empty() {
                e.headers
            } else {
                e.multi_value_headers
            };
            let request = build(
                e.http_method,
                e.path.as_deref().unwrap_or("/"),
                &query,
                headers,
                e.request_context.domain_name.as_deref(),
                body(e.body.as_deref(), e.is_base64_encoded)?,
            )?;
            Ok(HttpEvent {
                shape,
                request,
                client: client(e.request_context.identity.source_ip.as_deref()),
            })
        }
        Shape::Alb { .. } => {
            let e: AlbTargetGroupRequest = serde_json::from_value(event).map_err(invalid)?;
            let multi_value = !e.multi_value_headers.is_empty();
            // ALB passes query parameters as the client sent them, still encoded.
            let params = if e.multi_value_query_string_parameters.is_empty() {
                &e.query_string_parameters
            } else {
                &e.multi_value_query_string_parameters
            };
            let query = params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&");
            let headers = if multi_value {
                e.multi_value_headers
            } else {
                e.headers
            };
            let client = client(
                headers
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(',').next()),
            );
            let request = build(
                e.http_method,
                e.path.as_deref().unwrap_or("/"),
                &query,
                headers,
                None,
                body(e.body.as_deref(), e.is_base64_encoded)?,
            )?;
            Ok(HttpEvent {
                shape: Shape::Alb { multi_value },
                request,
                client,
            })
        }
    }
}

/// An HTTP API's named stage leads its raw path (`/prod/blobs/a`); routes
/// are matched without it, as on the `$default` stage and Function URLs.
fn strip_stage<'a>(path: &'a str, stage: Option<&str>) -> &'a str {
    let Some(stage) = stage.filter(|s| !s.is_empty() && *s != "$default") else {
        return path;
    };
    match path
        .strip_prefix('/')
        .and_then(|rest| rest.strip_prefix(stage))
    {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

fn body(body: Option<&str>, base64: bool) -> Result<Bytes, LambdaError> {
    match body {
        None => Ok(Bytes::new()),
        Some(text) if base64 => BASE64
            .decode(text)
            .map(Bytes::from)
            .map_err(|e| LambdaError::Event(format!("isBase64Encoded body is not base64: {e}"))),
        Some(text) => Ok(Bytes::copy_from_slice(text.as_bytes())),
    }
}

fn client(ip: Option<&str>) -> SocketAddr {
    let ip = ip
        .and_then(|ip| ip.trim().parse::<IpAddr>().ok())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    SocketAddr::new(ip, 0)
}

/// The request; `domain` is the Host when the event carries no `Host`
/// header (a console test event, say), else `localhost`: WASI HTTP wants an
/// authority.
fn build(
    method: Method,
    path: &str,
    query: &str,
    headers: HeaderMap,
    domain: Option<&str>,
    body: Bytes,
) -> Result<http::Request<Bytes>, LambdaError> {
    let uri = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let mut request = http::Request::builder()
        .method(method)
        .uri(&uri)
        .body(body)
        .map_err(|e| LambdaError::Event(format!("the request URI `{uri}` is invalid: {e}")))?;
    *request.headers_mut() = headers;
    if !request.headers().contains_key(header::HOST) {
        let host = domain
            .and_then(|d| HeaderValue::from_str(d).ok())
            .unwrap_or(HeaderValue::from_static("localhost"));
        request.headers_mut().insert(header::HOST, host);
    }
    // The body is whole: a declared length the guest can trust.
    let length = request.body().len();
    request
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    request.headers_mut().remove(header::TRANSFER_ENCODING);
    Ok(request)
}

/// The response to an event of `shape`: text bodies as they are, others
/// base64; `Set-Cookie` as payload 2.0's `cookies`. A body over Lambda's
/// response limit becomes a `502` saying so, as Lambda would fail it anyway.
pub fn respond(shape: Shape, response: http::Response<Bytes>) -> Result<Value, LambdaError> {
    let (parts, body) = response.into_parts();
    let travels_as_text = is_text(&parts.headers) && std::str::from_utf8(&body).is_ok();
    let encoded = if travels_as_text {
        body.len()
    } else {
        body.len().div_ceil(3) * 4
    };
    if encoded > PAYLOAD_LIMIT {
        tracing::warn!(
            bytes = body.len(),
            encoded,
            "the response exceeds Lambda's 6 MB payload limit"
        );
        let message = format!(
            "the response body of {} bytes ({encoded} as sent) exceeds Lambda's response payload limit of 6 MB\n",
            body.len()
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        return respond_with(shape, 502, headers, Bytes::from(message));
    }
    respond_with(shape, parts.status.as_u16(), parts.headers, body)
}

fn respond_with(
    shape: Shape,
    status: u16,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Value, LambdaError> {
    // Header values that are not text cannot travel in the JSON response.
    let mut headers: HeaderMap = headers
        .iter()
        .filter(|(_, value)| value.to_str().is_ok())
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::TRANSFER_ENCODING);
    let is_text = is_text(&headers) && std::str::from_utf8(&body).is_ok();
    let event_body = match (body.is_empty(), is_text) {
        (true, _) => None,
        (false, true) => Some(EventBody::Text(
            String::from_utf8(body.to_vec()).unwrap_or_default(),
        )),
        (false, false) => Some(EventBody::Binary(body.to_vec())),
    };
    let is_base64_encoded = matches!(event_body, Some(EventBody::Binary(_)));
    let serialized = match shape {
        Shape::V2 => {
            let cookies = headers
                .get_all(header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_owned))
                .collect();
            headers.remove(header::SET_COOKIE);
            let mut response = ApiGatewayV2httpResponse::default();
            response.status_code = i64::from(status);
            response.headers = joined(&headers);
            response.body = event_body;
            response.is_base64_encoded = is_base64_encoded;
            response.cookies = cookies;
            serde_json::to_value(response)
        }
        Shape::V1 => {
            let mut response = ApiGatewayProxyResponse::default();
            response.status_code = i64::from(status);
            response.multi_value_headers = headers;
            response.body = event_body;
            response.is_base64_encoded = is_base64_encoded;
            serde_json::to_value(response)
        }
        Shape::Alb { multi_value } => {
            let mut response = AlbTargetGroupResponse::default();
            response.status_code = i64::from(status);
            response.status_description = Some(status_line(status));
            if multi_value {
                response.multi_value_headers = headers;
            } else {
                response.headers = joined(&headers);
            }
            response.body = event_body;
            response.is_base64_encoded = is_base64_encoded;
            serde_json::to_value(response)
        }
    };
    serialized.map_err(|e| LambdaError::Event(format!("cannot write the response: {e}")))
}

/// One value per header, several joined by `, ` as HTTP allows.
fn joined(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in headers.keys() {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if let Ok(value) = HeaderValue::from_str(&values.join(", ")) {
            out.insert(name.clone(), value);
        }
    }
    out
}

/// `200 OK`, as ALB wants `statusDescription`.
fn status_line(status: u16) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("{status} {reason}").trim_end().to_owned()
}

/// Whether a body of these headers' type travels as text: a text type, and
/// not content-encoded (a gzip body is bytes, whatever its type).
fn is_text(headers: &HeaderMap) -> bool {
    let encoded = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
    if encoded {
        return false;
    }
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media.starts_with("text/")
        || media.ends_with("+json")
        || media.ends_with("+xml")
        || matches!(
            media.as_str(),
            "application/json"
                | "application/x-ndjson"
                | "application/xml"
                | "application/javascript"
                | "application/x-www-form-urlencoded"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A Function URL event as the Lambda docs show it (payload 2.0).
    fn function_url_event() -> Value {
        json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/sentiment",
            "rawQueryString": "a=1&b=two%20words",
            "cookies": ["c1=v1", "c2=v2"],
            "headers": {"host": "abc.lambda-url.us-east-1.on.aws", "content-type": "application/json", "x-multi": "x, y"},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abc",
                "domainName": "abc.lambda-url.us-east-1.on.aws",
                "domainPrefix": "abc",
                "http": {"method": "POST", "path": "/sentiment", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "agent"},
                "requestId": "id",
                "routeKey": "$default",
                "stage": "$default",
                "time": "12/Mar/2020:19:03:58 +0000",
                "timeEpoch": 1583348638390_i64
            },
            "body": "eyJ0ZXh0IjogImdvb2QifQ==",
            "isBase64Encoded": true
        })
    }

    #[test]
    fn a_function_url_event_is_a_request() {
        let e = parse(Shape::V2, function_url_event()).expect("parses");
        let r = &e.request;
        assert_eq!(r.method(), Method::POST);
        assert_eq!(r.uri(), "/sentiment?a=1&b=two%20words");
        assert_eq!(r.body().as_ref(), br#"{"text": "good"}"#);
        assert_eq!(r.headers()["cookie"], "c1=v1; c2=v2");
        assert_eq!(r.headers()["content-length"], "16");
        assert_eq!(r.headers()["host"], "abc.lambda-url.us-east-1.on.aws");
        assert_eq!(e.client.ip().to_string(), "203.0.113.7");
    }

    #[test]
    fn a_named_stage_is_taken_off_the_path() {
        assert_eq!(strip_stage("/prod/blobs/a", Some("prod")), "/blobs/a");
        assert_eq!(strip_stage("/prod", Some("prod")), "/");
        assert_eq!(strip_stage("/production/x", Some("prod")), "/production/x");
        assert_eq!(strip_stage("/blobs/a", Some("$default")), "/blobs/a");
        let mut event = function_url_event();
        event["rawPath"] = json!("/prod/sentiment");
        event["requestContext"]["stage"] = json!("prod");
        let e = parse(Shape::V2, event).expect("parses");
        assert_eq!(e.request.uri().path(), "/sentiment");
    }

    #[test]
    fn a_rest_api_event_is_a_request() {
        let event = json!({
            "resource": "/{proxy+}",
            "path": "/index/map",
            "httpMethod": "PUT",
            "headers": {"Content-Type": "text/plain"},
            "multiValueHeaders": {"Content-Type": ["text/plain"], "X-Two": ["1", "2"]},
            "queryStringParameters": {"q": "a b"},
            "multiValueQueryStringParameters": {"q": ["a b"]},
            "requestContext": {"stage": "prod", "identity": {"sourceIp": "198.51.100.1"}, "httpMethod": "PUT", "requestId": "r", "accountId": "1", "apiId": "a", "resourcePath": "/{proxy+}", "path": "/prod/index/map"},
            "body": "d1\thello",
            "isBase64Encoded": false
        });
        let e = parse(Shape::V1, event).expect("parses");
        assert_eq!(e.request.method(), Method::PUT);
        assert_eq!(e.request.uri(), "/index/map?q=a+b");
        assert_eq!(e.request.headers().get_all("x-two").iter().count(), 2);
        assert_eq!(e.request.body().as_ref(), b"d1\thello");
        assert_eq!(e.client.ip().to_string(), "198.51.100.1");
        assert_eq!(e.request.headers()["host"], "localhost");
    }

    #[test]
    fn an_alb_event_keeps_its_header_mode() {
        let event = json!({
            "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1"}},
            "httpMethod": "GET",
            "path": "/blobs/",
            "multiValueQueryStringParameters": {"prefix": ["a%2Fb"]},
            "multiValueHeaders": {"x-forwarded-for": ["192.0.2.9, 10.0.0.1"]},
            "body": "",
            "isBase64Encoded": false
        });
        let e = parse(Shape::Alb { multi_value: false }, event).expect("parses");
        assert_eq!(e.shape, Shape::Alb { multi_value: true });
        assert_eq!(e.request.uri(), "/blobs/?prefix=a%2Fb");
        assert_eq!(e.client.ip().to_string(), "192.0.2.9");
        let response = http::Response::builder()
            .status(404)
            .header("content-type", "text/plain")
            .body(Bytes::from_static(b"none\n"))
            .expect("response");
        let out = respond(e.shape, response).expect("serializes");
        assert_eq!(out["statusDescription"], "404 Not Found");
        assert_eq!(
            out["multiValueHeaders"]["content-type"],
            json!(["text/plain"])
        );
    }

    #[test]
    fn binary_bodies_go_back_as_base64_and_cookies_apart() {
        let response = http::Response::builder()
            .status(200)
            .header("content-type", "image/png")
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .header("vary", "accept")
            .header("vary", "origin")
            .body(Bytes::from_static(&[0x89, b'P', b'N', b'G', 0xff]))
            .expect("response");
        let out = respond(Shape::V2, response).expect("serializes");
        assert_eq!(out["statusCode"], 200);
        assert_eq!(out["isBase64Encoded"], true);
        assert_eq!(out["body"], BASE64.encode([0x89, b'P', b'N', b'G', 0xff]));
        assert_eq!(out["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(out["headers"]["vary"], "accept, origin");
        assert!(out["headers"].get("set-cookie").is_none());
    }

    #[test]
    fn text_bodies_go_back_as_text_and_cookies_are_always_listed() {
        let response = http::Response::builder()
            .header("content-type", "application/json")
            .body(Bytes::from_static(b"{\"ok\":true}"))
            .expect("response");
        let out = respond(Shape::V2, response).expect("serializes");
        assert_eq!(out["isBase64Encoded"], false);
        assert_eq!(out["body"], "{\"ok\":true}");
        // cargo-lambda's emulator answers 500 to a 2.0 response without it.
        assert_eq!(out["cookies"], json!([]));
    }

    #[test]
    fn a_content_encoded_text_body_goes_back_as_base64() {
        // Short gzip output can be valid UTF-8; it is bytes all the same.
        let response = http::Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .header("content-encoding", "gzip")
            .body(Bytes::from_static(b"\x1f\x0b"))
            .expect("response");
        let out = respond(Shape::V2, response).expect("serializes");
        assert_eq!(out["isBase64Encoded"], true);
        assert_eq!(out["body"], BASE64.encode(b"\x1f\x0b"));
    }

    #[test]
    fn a_response_over_the_payload_limit_is_a_502_saying_so() {
        let response = http::Response::builder()
            .header("content-type", "application/octet-stream")
            .body(Bytes::from(vec![0u8; PAYLOAD_LIMIT + 1]))
            .expect("response");
        let out = respond(Shape::V2, response).expect("serializes");
        assert_eq!(out["statusCode"], 502);
        let body = out["body"].as_str().expect("text");
        assert!(body.contains("6 MB"), "{body}");
        assert!(body.contains(&(PAYLOAD_LIMIT + 1).to_string()), "{body}");
    }
}
