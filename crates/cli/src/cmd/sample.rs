//! A generated image for the demo: an OCI image layout holding one image whose
//! layer is a real (uncompressed) tar archive and whose config lists packages in
//! the label the emulator's vulnerability scan reads.

use std::path::Path;

use gar::Layout;
use gar::oci::manifest::{Descriptor, ImageManifest, Manifest, media_types};
use serde_json::json;

/// The packages the generated image claims to hold: versions with known
/// vulnerabilities in the emulator's demo rules, one of each severity.
pub const PACKAGES: &str = "openssl=3.0.1,zlib=1.2.11,curl=7.88.0,glibc=2.35,busybox=1.35.0";

/// The label the emulator reads an image's packages from.
pub const PACKAGES_LABEL: &str = gar_emulator::seed::PACKAGES_LABEL;

/// Deterministic pseudo-random bytes (xorshift64*).
pub fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        out.extend_from_slice(&seed.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

fn octal(field: &mut [u8], value: u64) {
    let width = field.len().saturating_sub(1);
    let text = format!("{value:0width$o}");
    for (slot, b) in field.iter_mut().zip(text.bytes().chain(std::iter::once(0))) {
        *slot = b;
    }
}

fn put(header: &mut [u8], at: usize, len: usize, f: impl FnOnce(&mut [u8])) {
    if let Some(field) = header.get_mut(at..at + len) {
        f(field);
    }
}

/// A ustar archive of `files` (name, content), as `tar` writes it.
pub fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, content) in files {
        let mut header = vec![0u8; 512];
        put(&mut header, 0, 100, |f| {
            for (slot, b) in f.iter_mut().zip(name.bytes()) {
                *slot = b;
            }
        });
        put(&mut header, 100, 8, |f| octal(f, 0o644));
        put(&mut header, 108, 8, |f| octal(f, 0));
        put(&mut header, 116, 8, |f| octal(f, 0));
        put(&mut header, 124, 12, |f| octal(f, content.len() as u64));
        put(&mut header, 136, 12, |f| octal(f, 1_700_000_000));
        put(&mut header, 148, 8, |f| f.fill(b' '));
        put(&mut header, 156, 1, |f| f.fill(b'0'));
        put(&mut header, 257, 8, |f| f.copy_from_slice(b"ustar\x0000"));
        let sum: u64 = header.iter().map(|b| u64::from(*b)).sum();
        put(&mut header, 148, 8, |f| {
            let text = format!("{sum:06o}\0 ");
            for (slot, b) in f.iter_mut().zip(text.bytes()) {
                *slot = b;
            }
        });
        out.extend_from_slice(&header);
        out.extend_from_slice(content);
        let pad = (512 - content.len() % 512) % 512;
        out.resize(out.len() + pad, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// What [`generate`] wrote.
#[derive(Debug)]
pub struct Sample {
    /// The layout.
    pub layout: Layout,
    /// The layer's bytes.
    pub layer: Vec<u8>,
    /// The layer's descriptor.
    pub layer_descriptor: Descriptor,
    /// The image manifest.
    pub manifest: Manifest,
}

/// Writes an image named `name` into a new OCI image layout at `dir`: a layer of
/// `size` bytes of noise plus a greeting, and a linux/amd64 config labelled
/// with [`PACKAGES`].
pub async fn generate(dir: &Path, name: &str, size: usize) -> gar::Result<Sample> {
    let layout = Layout::create(dir).await?;
    let data = noise(size, 0x5EED_F9A7);
    let layer = tar(&[
        ("hello.txt", b"hello from the gar demo\n".as_slice()),
        ("data.bin", &data),
    ]);
    let layer_descriptor = Descriptor::of(media_types::OCI_LAYER_TAR, &layer);
    layout.write_blob(&layer_descriptor.digest, &layer).await?;
    let config = json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {PACKAGES_LABEL: PACKAGES}, "Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": [layer_descriptor.digest.to_string()]},
    });
    let config = serde_json::to_vec(&config).unwrap_or_default();
    let config_descriptor = Descriptor::of(media_types::OCI_CONFIG, &config);
    layout
        .write_blob(&config_descriptor.digest, &config)
        .await?;
    let manifest = Manifest::from_image(&ImageManifest {
        schema_version: 2,
        media_type: Some(media_types::OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config: config_descriptor,
        layers: vec![layer_descriptor.clone()],
        subject: None,
        annotations: Default::default(),
    })?;
    layout.write_blob(manifest.digest(), manifest.raw()).await?;
    layout
        .add_manifest(manifest.descriptor(), Some(name))
        .await?;
    Ok(Sample {
        layout,
        layer,
        layer_descriptor,
        manifest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_headers_carry_a_valid_checksum() {
        let t = tar(&[("a.txt", b"abc".as_slice())]);
        assert_eq!(t.len(), 512 + 512 + 1024);
        let header = &t[..512];
        let stored = std::str::from_utf8(&header[148..154]).unwrap();
        let mut copy = header.to_vec();
        copy[148..156].fill(b' ');
        let sum: u64 = copy.iter().map(|b| u64::from(*b)).sum();
        assert_eq!(u64::from_str_radix(stored, 8).unwrap(), sum);
        assert_eq!(&header[257..263], b"ustar\0");
        assert_eq!(&t[512..515], b"abc");
        assert_eq!(noise(10, 1), noise(10, 1));
        assert_ne!(noise(10, 1), noise(10, 2));
    }
}
