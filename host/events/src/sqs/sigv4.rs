//! AWS Signature Version 4 for one JSON-protocol request (`POST /` with a
//! body), as the SQS client sends them: the canonical request, the string
//! to sign, the derived key, and the `Authorization` header.

use ring::hmac;
use sha2::{Digest, Sha256};

/// The credentials a request is signed with (Lambda's role gives all three).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// What is signed: one `POST /` to `host` with `headers` (lower-case
/// names, besides `host` and `x-amz-date`) and `body`.
pub struct Request<'a> {
    /// The `Host` header as sent (`host` or `host:port`).
    pub host: &'a str,
    /// Further headers to sign, lower-case names.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body.
    pub body: &'a [u8],
}

/// The headers to add to a request: `x-amz-date`, `x-amz-security-token`
/// when there is a session token, and `authorization`.
pub fn sign(
    request: &Request<'_>,
    credentials: &Credentials,
    region: &str,
    service: &str,
    amz_date: &str,
) -> Vec<(&'static str, String)> {
    let date = &amz_date[..8];
    let mut headers: Vec<(&str, &str)> = vec![("host", request.host), ("x-amz-date", amz_date)];
    if let Some(token) = &credentials.session_token {
        headers.push(("x-amz-security-token", token));
    }
    headers.extend_from_slice(request.headers);
    headers.sort_by(|a, b| a.0.cmp(b.0));
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{}\n", value.trim()))
        .collect();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "POST\n/\n\n{canonical_headers}\n{signed_headers}\n{}",
        hex(&Sha256::digest(request.body))
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = format!("AWS4{}", credentials.secret_access_key).into_bytes();
    for part in [date, region, service, "aws4_request"] {
        key = mac(&key, part.as_bytes());
    }
    let signature = hex(&mac(&key, string_to_sign.as_bytes()));
    let mut out = vec![("x-amz-date", amz_date.to_owned())];
    if let Some(token) = &credentials.session_token {
        out.push(("x-amz-security-token", token.clone()));
    }
    out.push((
        "authorization",
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id
        ),
    ));
    out
}

/// `x-amz-date` for `unix_seconds`: `YYYYMMDDTHHMMSSZ`.
pub fn amz_date(unix_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(unix_seconds, 0)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
        .as_ref()
        .to_vec()
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signatures computed by botocore 1.44's `SigV4Auth` for the same
    /// request, credentials and time (AWS's documentation example keys).
    #[test]
    fn signatures_equal_botocores() {
        let body = br#"{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/cloudfn-feed","MessageBody":"hello"}"#;
        let request = Request {
            host: "sqs.us-east-1.amazonaws.com",
            headers: &[
                ("content-type", "application/x-amz-json-1.0"),
                ("x-amz-target", "AmazonSQS.SendMessage"),
            ],
            body,
        };
        let mut credentials = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let date = amz_date(1_796_548_500);
        assert_eq!(date, "20261206T091500Z");
        let headers = sign(&request, &credentials, "us-east-1", "sqs", &date);
        assert_eq!(
            headers.last().map(|h| h.1.as_str()),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=990513721f944ad1b1c97df290a7a2c93064134e84b1c2f6a8ebcaedecda205d"
            )
        );
        credentials.session_token = Some("session-token".into());
        let headers = sign(&request, &credentials, "us-east-1", "sqs", &date);
        assert!(headers.contains(&("x-amz-security-token", "session-token".into())));
        assert!(headers.last().is_some_and(|h| h.1.ends_with(
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=49d85b028aa9c60c79476fd778897d279079d2bd8566fd6e978aeea94ded0ea8"
        )));
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        let credentials = Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: "very-secret".into(),
            session_token: Some("token".into()),
        };
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AKID"), "{shown}");
        assert!(
            !shown.contains("very-secret") && !shown.contains("token"),
            "{shown}"
        );
    }
}
