//! Parsing the JSON answers of OAuth 2.0 token endpoints.

use std::time::Duration;

use gar_core::{Error, ErrorKind};
use serde::Deserialize;

use crate::http::quote_answer;
use crate::{AccessToken, SecretString};

/// Lifetime assumed when a token endpoint does not say (Google's tokens live an hour).
pub(crate) const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<SecretString>,
    expires_in: Option<serde_json::Value>,
}

/// The token in a standard OAuth answer (`{"access_token", "expires_in", ...}`).
pub(crate) fn parse_token_answer(body: &[u8], what: &str) -> Result<AccessToken, Error> {
    let answer: TokenAnswer = serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::TokenRefreshFailed,
            format!(
                "{what}: the answer is not token JSON: {}",
                quote_shape(body)
            ),
        )
        .with_source(e)
    })?;
    let Some(secret) = answer.access_token.filter(|s| !s.is_empty()) else {
        return Err(Error::new(
            ErrorKind::TokenRefreshFailed,
            format!("{what}: the answer has no access_token"),
        ));
    };
    let lifetime = answer
        .expires_in
        .as_ref()
        .and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .map_or(DEFAULT_LIFETIME, Duration::from_secs);
    Ok(AccessToken::expiring_in(secret, lifetime))
}

/// A hint at what a malformed answer was, without echoing a possible token.
fn quote_shape(body: &[u8]) -> String {
    if body.windows(5).any(|w| w.eq_ignore_ascii_case(b"token")) {
        format!("{} bytes", body.len())
    } else {
        quote_answer(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_and_strings() {
        let t = parse_token_answer(br#"{"access_token":"a","expires_in":60}"#, "x").unwrap();
        let left = t.remaining_at(crate::token::now()).unwrap();
        assert!(left <= Duration::from_secs(60) && left > Duration::from_secs(58));
        let t = parse_token_answer(br#"{"access_token":"a","expires_in":"120"}"#, "x").unwrap();
        assert!(t.remaining_at(crate::token::now()).unwrap() > Duration::from_secs(100));
        let t = parse_token_answer(br#"{"access_token":"a"}"#, "x").unwrap();
        assert!(t.remaining_at(crate::token::now()).unwrap() > Duration::from_secs(3500));
    }

    #[test]
    fn rejects_answers_without_token() {
        let e = parse_token_answer(br#"{"expires_in":60}"#, "x").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TokenRefreshFailed);
        let e = parse_token_answer(b"<html>", "x").unwrap_err();
        assert!(e.to_string().contains("<html>"));
        let e = parse_token_answer(b"access_token=secretvalue", "x").unwrap_err();
        assert!(!e.to_string().contains("secretvalue"));
    }
}
