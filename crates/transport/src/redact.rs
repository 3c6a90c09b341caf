//! What must never be logged, traced or recorded: credentials in headers, query
//! parameters and bodies.

use http::HeaderName;
use serde_json::Value;

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// Headers whose values are always secret.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-goog-api-key",
    "x-api-key",
    "x-auth-token",
    "x-registry-auth",
    "x-amz-security-token",
];

/// JSON keys and form fields whose values are secret, compared without case,
/// `-` and `_`.
const SECRET_FIELDS: &[&str] = &[
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "token",
    "clientsecret",
    "privatekey",
    "assertion",
    "subjecttoken",
    "password",
    "secret",
    "apikey",
];

/// Query parameters whose values are secret (besides [`SECRET_FIELDS`]): API keys,
/// URL signatures, OAuth codes.
const SECRET_PARAMS: &[&str] = &[
    "key",
    "signature",
    "sig",
    "code",
    "xgoogsignature",
    "xgoogcredential",
    "xamzsignature",
    "xamzcredential",
    "xamzsecuritytoken",
];

fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a JSON key or form field called `name` holds a secret.
pub fn is_secret_field(name: &str) -> bool {
    SECRET_FIELDS.contains(&normalise(name).as_str())
}

/// Whether a query parameter called `name` holds a secret.
pub fn is_secret_param(name: &str) -> bool {
    let n = normalise(name);
    SECRET_FIELDS.contains(&n.as_str()) || SECRET_PARAMS.contains(&n.as_str())
}

/// Whether the header `name` holds a secret.
pub fn is_secret_header(name: &HeaderName) -> bool {
    SECRET_HEADERS.contains(&name.as_str())
}

/// `uri` with the values of secret query parameters replaced.
pub fn url(uri: &http::Uri) -> String {
    let text = uri.to_string();
    let Some((base, query)) = text.split_once('?') else {
        return text;
    };
    format!("{base}?{}", form(query))
}

/// A `k=v&k=v` string (a query or a form body) with the values of secret
/// parameters replaced.
pub fn form(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_secret_param(&percent_decode(k)) => format!("{k}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_decode(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = (b == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(if b == b'+' { b' ' } else { b });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON value with the values of secret keys replaced, recursively.
pub fn json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_field(k) && v.is_string() {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_forms_and_json() {
        let uri: http::Uri =
            "https://h/p?alt=json&access_token=ya29.x&X-Goog-Signature=abc&pageSize=5"
                .parse()
                .unwrap();
        assert_eq!(
            url(&uri),
            "https://h/p?alt=json&access_token=[redacted]&X-Goog-Signature=[redacted]&pageSize=5"
        );
        assert_eq!(
            form("grant_type=x&refresh_token=1%2F%2Fr"),
            "grant_type=x&refresh_token=[redacted]"
        );
        let mut v: Value = serde_json::from_str(
            r#"{"access_token":"a","nested":[{"accessToken":"b","name":"n"}],"expires_in":3600,"token":{"x":"kept-structure"}}"#,
        )
        .unwrap();
        json(&mut v);
        let text = v.to_string();
        assert!(!text.contains("\"a\"") && !text.contains("\"b\""), "{text}");
        assert!(
            text.contains("\"name\":\"n\"") && text.contains("3600"),
            "{text}"
        );
        let mut v: Value =
            serde_json::from_str(r#"{"error":{"code":404},"key":"labels-key"}"#).unwrap();
        let before = v.clone();
        json(&mut v);
        assert_eq!(v, before, "error codes and plain keys stay");
        assert!(is_secret_header(&http::header::AUTHORIZATION));
        assert!(!is_secret_header(&http::header::CONTENT_TYPE));
    }
}
