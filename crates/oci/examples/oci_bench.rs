//! gar-oci's side of `cargo xtask bench oci`: makes a single-layer image in an
//! OCI layout, pushes one to a registry, or pulls one into a layout, and prints
//! one JSON line (`{"op", "bytes", "seconds", "mbps"}`). CPU time and peak RSS
//! are measured from outside (`/usr/bin/time`), like skopeo's.
//!
//! ```text
//! oci_bench make-layout --dir /dev/shm/src --mib 1024 --seed 1
//! oci_bench push --url http://127.0.0.1:5000 --repo bench/app --tag v1 --dir /dev/shm/src
//! oci_bench pull --url http://127.0.0.1:5000 --repo bench/app --tag v1 --dir /dev/shm/dst
//! ```
//!
//! The layer is a valid gzip stream of incompressible bytes (stored deflate
//! blocks), so that tools which compress uncompressed layers on push (skopeo
//! does) pass it through as is and both sides move the same bytes.

#![allow(
    clippy::indexing_slicing,
    reason = "a benchmark tool: the CRC tables and blocks are indexed within their fixed sizes"
)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use gar_oci::digest::{DigestHasher, sha256};
use gar_oci::layout::Layout;
use gar_oci::manifest::{Descriptor, ImageManifest, Manifest, media_types};
use gar_oci::{Registry, RegistryAuth, UploadMode};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    op: String,
    url: String,
    repo: String,
    tag: String,
    dir: PathBuf,
    mib: u64,
    seed: u64,
    mode: UploadMode,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut it = std::env::args().skip(1);
    let op = it
        .next()
        .ok_or("usage: oci_bench make-layout|push|pull --dir D ...")?;
    let mut a = Args {
        op,
        url: String::new(),
        repo: "bench/app".into(),
        tag: "v1".into(),
        dir: PathBuf::new(),
        mib: 64,
        seed: 1,
        mode: UploadMode::Auto,
    };
    while let Some(flag) = it.next() {
        let v = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => a.url = v,
            "--repo" => a.repo = v,
            "--tag" => a.tag = v,
            "--dir" => a.dir = PathBuf::from(v),
            "--mib" => a.mib = v.parse()?,
            "--seed" => a.seed = v.parse()?,
            "--mode" => {
                a.mode = match v.as_str() {
                    "auto" => UploadMode::Auto,
                    "monolithic" => UploadMode::Monolithic,
                    "streamed" => UploadMode::Streamed,
                    n => UploadMode::Chunked {
                        chunk_size: n.parse::<u64>()? * 1024 * 1024,
                    },
                }
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(a)
}

/// CRC-32 (IEEE), slicing by 8.
struct Crc32 {
    tables: Vec<[u32; 256]>,
    value: u32,
}

impl Crc32 {
    fn new() -> Self {
        let mut tables = vec![[0u32; 256]; 8];
        for i in 0..256u32 {
            let mut c = i;
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            tables[0][i as usize] = c;
        }
        for t in 1..8 {
            for i in 0..256 {
                let prev = tables[t - 1][i];
                tables[t][i] = (prev >> 8) ^ tables[0][(prev & 0xFF) as usize];
            }
        }
        Self {
            tables,
            value: 0xFFFF_FFFF,
        }
    }

    fn update(&mut self, data: &[u8]) {
        let t = &self.tables;
        let mut c = self.value;
        let mut chunks = data.chunks_exact(8);
        for b in &mut chunks {
            let lo = c ^ u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let hi = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            c = t[7][(lo & 0xFF) as usize]
                ^ t[6][((lo >> 8) & 0xFF) as usize]
                ^ t[5][((lo >> 16) & 0xFF) as usize]
                ^ t[4][(lo >> 24) as usize]
                ^ t[3][(hi & 0xFF) as usize]
                ^ t[2][((hi >> 8) & 0xFF) as usize]
                ^ t[1][((hi >> 16) & 0xFF) as usize]
                ^ t[0][(hi >> 24) as usize];
        }
        for &b in chunks.remainder() {
            c = t[0][((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
        }
        self.value = c;
    }

    fn finish(&self) -> u32 {
        !self.value
    }
}

/// Writes a gzip stream of `mib` MiB of pseudo-random bytes in stored blocks;
/// returns (compressed digest, compressed size, uncompressed digest).
fn make_layer(
    path: &std::path::Path,
    mib: u64,
    seed: u64,
) -> Result<(gar_core::ids::Digest, u64, gar_core::ids::Digest), BoxError> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut gz = DigestHasher::sha256();
    let mut raw = DigestHasher::sha256();
    let mut crc = Crc32::new();
    let mut put = |bytes: &[u8], gz: &mut DigestHasher| -> std::io::Result<()> {
        gz.update(bytes);
        out.write_all(bytes)
    };
    put(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff], &mut gz)?;
    let total = mib * 1024 * 1024;
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut block = vec![0u8; 65_528];
    let mut left = total;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        for word in block[..n].chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = x.to_le_bytes();
            word.copy_from_slice(&b[..word.len()]);
        }
        left -= n as u64;
        let last = u8::from(left == 0);
        let len = n as u16;
        let mut head = vec![last];
        head.extend_from_slice(&len.to_le_bytes());
        head.extend_from_slice(&(!len).to_le_bytes());
        put(&head, &mut gz)?;
        put(&block[..n], &mut gz)?;
        raw.update(&block[..n]);
        crc.update(&block[..n]);
    }
    let mut tail = crc.finish().to_le_bytes().to_vec();
    tail.extend_from_slice(&((total & 0xFFFF_FFFF) as u32).to_le_bytes());
    put(&tail, &mut gz)?;
    out.flush()?;
    let size = std::fs::metadata(path)?.len();
    Ok((gz.finish(), size, raw.finish()))
}

async fn make_layout(a: &Args) -> Result<serde_json::Value, BoxError> {
    let layout = Layout::create(&a.dir).await?;
    let tmp = a.dir.join("layer.tmp");
    let (digest, size, diff_id) = make_layer(&tmp, a.mib, a.seed)?;
    let blob = layout.blob_path(&digest);
    std::fs::create_dir_all(blob.parent().ok_or("no parent")?)?;
    std::fs::rename(&tmp, &blob)?;
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]},
    }))?;
    layout.write_blob(&sha256(&config), &config).await?;
    let manifest = Manifest::from_image(&ImageManifest {
        schema_version: 2,
        media_type: Some(media_types::OCI_MANIFEST.into()),
        artifact_type: None,
        config: Descriptor::of(media_types::OCI_CONFIG, &config),
        layers: vec![Descriptor {
            size,
            digest: digest.clone(),
            ..Descriptor::of(media_types::OCI_LAYER_GZIP, b"")
        }],
        subject: None,
        annotations: BTreeMap::new(),
    })?;
    layout.write_blob(manifest.digest(), manifest.raw()).await?;
    layout
        .add_manifest(manifest.descriptor(), Some(&a.tag))
        .await?;
    Ok(serde_json::json!({"op": "make-layout", "bytes": size, "layer": digest.to_string()}))
}

fn main() -> Result<(), BoxError> {
    // One thread drives the connection and the transfer (frames pass between
    // tasks without crossing threads); hashing and file writes run on the
    // blocking pool beside it. GAR_BENCH_THREADS=N uses N workers instead.
    let threads: usize = std::env::var("GAR_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    };
    let result = runtime.block_on(run());
    // Nothing is left to do: exit without waiting for the idle threads of the
    // blocking pool to wind down.
    runtime.shutdown_background();
    result
}

async fn run() -> Result<(), BoxError> {
    let a = parse_args()?;
    let started = Instant::now();
    let mut out = match a.op.as_str() {
        "make-layout" => make_layout(&a).await?,
        "push" | "pull" => {
            let registry = Registry::builder(&a.url)
                .auth(RegistryAuth::anonymous())
                .upload_mode(a.mode)
                .build()?;
            let repo = registry.repository(&a.repo)?;
            let report = if a.op == "push" {
                let layout = Layout::open(&a.dir).await?;
                repo.push_image(&layout).with_tag(&a.tag).send().await?
            } else {
                let layout = Layout::create(&a.dir).await?;
                repo.pull_image(&a.tag, &layout).send().await?
            };
            serde_json::json!({"op": a.op, "bytes": report.bytes_transferred})
        }
        other => return Err(format!("unknown operation {other}").into()),
    };
    let seconds = started.elapsed().as_secs_f64();
    if let Some(o) = out.as_object_mut() {
        let bytes = o
            .get("bytes")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        o.insert("seconds".into(), serde_json::json!(seconds));
        o.insert(
            "mbps".into(),
            serde_json::json!(bytes as f64 / 1e6 / seconds.max(1e-9)),
        );
    }
    println!("{out}");
    Ok(())
}
