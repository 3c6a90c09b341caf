//! RSA keys and RS256 JWTs, verified with `ring`.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{self, RsaPublicKeyComponents};
use serde_json::Value;

/// An RSA public key as modulus and exponent (big-endian, no leading zeros).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RsaKey {
    /// Modulus.
    pub n: Vec<u8>,
    /// Public exponent.
    pub e: Vec<u8>,
}

fn strip_zeros(b: &[u8]) -> Vec<u8> {
    let start = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    b.get(start..).unwrap_or_default().to_vec()
}

/// Reads one DER element: (tag, content, rest).
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7F);
        if count == 0 || count > 4 {
            return None;
        }
        let (len_bytes, rest) = rest.split_at_checked(count)?;
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    let (content, rest) = rest.split_at_checked(len)?;
    Some((tag, content, rest))
}

/// Parses a PKCS#1 `RSAPublicKey` (SEQUENCE { n INTEGER, e INTEGER }).
fn pkcs1_public(input: &[u8]) -> Option<RsaKey> {
    let (0x30, seq, _) = der(input)? else {
        return None;
    };
    let (0x02, n, rest) = der(seq)? else {
        return None;
    };
    let (0x02, e, _) = der(rest)? else {
        return None;
    };
    Some(RsaKey {
        n: strip_zeros(n),
        e: strip_zeros(e),
    })
}

/// Parses a `SubjectPublicKeyInfo` holding an RSA key.
fn spki_public(input: &[u8]) -> Option<RsaKey> {
    let (0x30, seq, _) = der(input)? else {
        return None;
    };
    let (0x30, _alg, rest) = der(seq)? else {
        return None;
    };
    let (0x03, bits, _) = der(rest)? else {
        return None;
    };
    let (&0, key) = bits.split_first()? else {
        return None;
    };
    pkcs1_public(key)
}

/// The DER bytes of the first PEM block labelled `label` in `pem`.
pub(crate) fn pem_block(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem.get(start..)?.find(&end)?;
    let b64: String = pem
        .get(start..stop)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(b64).ok()
}

/// Parses a public key from PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`).
pub(crate) fn public_key_from_pem(pem: &str) -> Option<RsaKey> {
    if let Some(der) = pem_block(pem, "PUBLIC KEY") {
        return spki_public(&der);
    }
    pem_block(pem, "RSA PUBLIC KEY").and_then(|der| pkcs1_public(&der))
}

/// The public half of a PKCS#8 PEM private key, if the key is a valid RSA key.
pub(crate) fn public_of_private_pem(pem: &str) -> Option<RsaKey> {
    let der = pem_block(pem, "PRIVATE KEY")?;
    let pair = signature::RsaKeyPair::from_pkcs8(&der).ok()?;
    let parts: RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
    Some(RsaKey {
        n: strip_zeros(&parts.n),
        e: strip_zeros(&parts.e),
    })
}

/// Why a JWT was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JwtError {
    /// Not three base64url JSON parts.
    Malformed(String),
    /// The algorithm is not RS256.
    Algorithm(String),
    /// No key verified the signature.
    Signature,
}

/// A JWT whose signature is not yet checked.
#[derive(Debug, Clone)]
pub(crate) struct Jwt {
    /// The header.
    pub header: Value,
    /// The claims.
    pub claims: Value,
    signed: String,
    signature: Vec<u8>,
}

impl Jwt {
    /// Splits and decodes a compact JWT.
    pub(crate) fn parse(token: &str) -> Result<Self, JwtError> {
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed(
                "a JWT has three dot-separated parts".into(),
            ));
        };
        let decode = |p: &str, what: &str| {
            URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .map_err(|_| JwtError::Malformed(format!("the {what} is not base64url")))
        };
        let header: Value = serde_json::from_slice(&decode(h, "header")?)
            .map_err(|_| JwtError::Malformed("the header is not JSON".into()))?;
        let claims: Value = serde_json::from_slice(&decode(c, "claim set")?)
            .map_err(|_| JwtError::Malformed("the claim set is not JSON".into()))?;
        let signature = decode(s, "signature")?;
        Ok(Self {
            header,
            claims,
            signed: format!("{h}.{c}"),
            signature,
        })
    }

    /// The key id of the header.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// A string claim.
    pub(crate) fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A numeric claim.
    pub(crate) fn number(&self, name: &str) -> Option<i64> {
        self.claims.get(name).and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    }

    /// Verifies the RS256 signature against any of `keys`.
    pub(crate) fn verify<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k RsaKey>,
    ) -> Result<(), JwtError> {
        let alg = self.header.get("alg").and_then(Value::as_str).unwrap_or("");
        if alg != "RS256" {
            return Err(JwtError::Algorithm(alg.to_owned()));
        }
        for key in keys {
            let public = RsaPublicKeyComponents {
                n: &key.n,
                e: &key.e,
            };
            if public
                .verify(
                    &signature::RSA_PKCS1_2048_8192_SHA256,
                    self.signed.as_bytes(),
                    &self.signature,
                )
                .is_ok()
            {
                return Ok(());
            }
        }
        Err(JwtError::Signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = include_str!("../../tests/fixtures/test-sa-public-key.pem");
    const PRIVATE: &str = include_str!("../../tests/fixtures/test-sa-private-key.pem");
    const OTHER: &str = include_str!("../../tests/fixtures/test-other-private-key.pem");

    fn sign(private_pem: &str, header: &Value, claims: &Value) -> String {
        let der = pem_block(private_pem, "PRIVATE KEY").unwrap();
        let pair = signature::RsaKeyPair::from_pkcs8(&der).unwrap();
        let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
        let c = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
        let signed = format!("{h}.{c}");
        let mut sig = vec![0; pair.public().modulus_len()];
        pair.sign(
            &signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            signed.as_bytes(),
            &mut sig,
        )
        .unwrap();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    #[test]
    fn pem_public_matches_private_and_verifies() {
        let public = public_key_from_pem(PUBLIC).unwrap();
        assert_eq!(public_of_private_pem(PRIVATE).unwrap(), public);
        assert_ne!(public_of_private_pem(OTHER).unwrap(), public);
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        let claims = serde_json::json!({"iss": "a@b", "exp": 5});
        let good = Jwt::parse(&sign(PRIVATE, &header, &claims)).unwrap();
        assert_eq!(good.claim("iss"), Some("a@b"));
        assert_eq!(good.number("exp"), Some(5));
        good.verify([&public]).unwrap();
        let bad = Jwt::parse(&sign(OTHER, &header, &claims)).unwrap();
        assert_eq!(bad.verify([&public]), Err(JwtError::Signature));
        let none = serde_json::json!({"alg": "none"});
        let t = Jwt::parse(&sign(PRIVATE, &none, &claims)).unwrap();
        assert!(matches!(t.verify([&public]), Err(JwtError::Algorithm(_))));
        assert!(Jwt::parse("a.b").is_err());
        assert!(public_key_from_pem("junk").is_none());
    }
}
