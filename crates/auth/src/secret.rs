//! [`SecretString`]: a string that never shows itself.

use std::fmt;

/// A secret (an access token, a refresh token, a private key, a client secret).
///
/// `Debug` and `Display` print `[redacted]`, so a secret can sit in any struct that
/// derives `Debug`, be logged or recorded in a span, and never leak. The value is read
/// only through [`expose_secret`](Self::expose_secret), which makes every use
/// visible in review.
///
/// ```
/// use gar_auth::SecretString;
///
/// let token = SecretString::new("ya29.very-secret");
/// assert_eq!(format!("{token:?} {token}"), "SecretString([redacted]) [redacted]");
/// assert_eq!(token.expose_secret(), "ya29.very-secret");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Box<str>);

impl SecretString {
    /// Wraps `secret`.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into().into_boxed_str())
    }

    /// The secret itself. Never log or display what this returns.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([redacted])")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl<'de> serde::Deserialize<'de> for SecretString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shown() {
        let s = SecretString::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
        assert!(!format!("{:#?}", Some(&s)).contains("hunter2"));
        assert_eq!(s.expose_secret(), "hunter2");
        let parsed: SecretString = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(parsed, SecretString::from("abc"));
        assert!(SecretString::from(String::new()).is_empty());
    }
}
