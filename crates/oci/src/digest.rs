//! Content digests computed as bytes flow.
//!
//! ```
//! use gar_oci::digest::{DigestHasher, sha256};
//!
//! let mut h = DigestHasher::sha256();
//! h.update(b"hello ");
//! h.update(b"world");
//! assert_eq!(h.finish(), sha256(b"hello world"));
//! assert_eq!(sha256(b"").to_string(),
//!     "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
//! ```

use gar_core::Error;
use gar_core::error::ErrorKind;
use gar_core::ids::{Digest, DigestAlgorithm};

/// An incremental hash of one of the digest algorithms.
pub struct DigestHasher {
    algorithm: DigestAlgorithm,
    context: ring::digest::Context,
    bytes: u64,
}

impl std::fmt::Debug for DigestHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestHasher")
            .field("algorithm", &self.algorithm)
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl DigestHasher {
    /// A hasher for `algorithm`.
    pub fn new(algorithm: DigestAlgorithm) -> Self {
        let alg = match algorithm {
            DigestAlgorithm::Sha512 => &ring::digest::SHA512,
            _ => &ring::digest::SHA256,
        };
        Self {
            algorithm,
            context: ring::digest::Context::new(alg),
            bytes: 0,
        }
    }

    /// A SHA-256 hasher.
    pub fn sha256() -> Self {
        Self::new(DigestAlgorithm::Sha256)
    }

    /// A hasher for the algorithm of `digest` (to verify content against it).
    pub fn for_digest(digest: &Digest) -> Self {
        Self::new(digest.algorithm())
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.context.update(bytes);
        self.bytes += bytes.len() as u64;
    }

    /// How many bytes were fed.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        let out = self.context.finish();
        match self.algorithm {
            DigestAlgorithm::Sha512 => {
                let mut hash = [0u8; 64];
                hash.iter_mut().zip(out.as_ref()).for_each(|(d, s)| *d = *s);
                Digest::from_sha512(&hash)
            }
            _ => {
                let mut hash = [0u8; 32];
                hash.iter_mut().zip(out.as_ref()).for_each(|(d, s)| *d = *s);
                Digest::from_sha256(&hash)
            }
        }
    }

    /// Finishes and compares with `expected`: a `BlobDigestMismatch` error when they differ.
    pub fn verify(self, expected: &Digest) -> Result<(), Error> {
        let size = self.bytes;
        let actual = self.finish();
        if actual == *expected {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::BlobDigestMismatch,
                format!(
                    "the {size} bytes received hash to {actual}, not to the expected {expected}; nothing was kept, retry the transfer"
                ),
            ))
        }
    }
}

/// The SHA-256 digest of `bytes`.
pub fn sha256(bytes: &[u8]) -> Digest {
    let mut h = DigestHasher::sha256();
    h.update(bytes);
    h.finish()
}
