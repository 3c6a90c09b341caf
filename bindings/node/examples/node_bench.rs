//! The Rust side of `cargo xtask bench node`.
//!
//! - `node_bench serve`: starts an emulator with the demo seed plus an image
//!   `docker/bench:1` whose one layer is a 256 MiB blob, prints
//!   `{"url": .., "token": ..}` on one line, and serves until stdin closes.
//! - `node_bench client URL TOKEN CALLS DIR`: through the `gar` facade, times
//!   `CALLS` small list calls (the packages of `generic`, one page), pulls of the
//!   256 MiB blob from the registry (streamed, verified as it flows, discarded)
//!   and downloads of it to a file in `DIR` (verified, then deleted); prints one
//!   JSON line.
//!
//! The TypeScript side (`ts/bench/node-bench.ts`) makes the same calls through
//! the addon against the same emulator.

use std::io::Read;
use std::time::Instant;

use futures_util::StreamExt;
use gar_emulator::seed::SeedImage;
use gar_emulator::{Emulator, Seed};

/// The size of the blob pulled.
const BLOB: usize = 256 << 20;
/// Pulls timed (the best one counts).
const PULLS: usize = 3;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    match args.first().map(String::as_str) {
        Some("serve") => rt.block_on(serve()),
        Some("client") => {
            let (Some(url), Some(token), Some(calls), Some(dir)) =
                (args.get(1), args.get(2), args.get(3), args.get(4))
            else {
                return Err("usage: node_bench client URL TOKEN CALLS DIR".into());
            };
            let calls: usize = calls.parse().map_err(|e| format!("CALLS: {e}"))?;
            rt.block_on(client(url, token, calls, std::path::Path::new(dir)))
        }
        _ => Err("usage: node_bench serve | client URL TOKEN CALLS DIR".into()),
    }
}

fn blob() -> String {
    // Printable bytes that do not repeat within a buffer.
    let mut x: u32 = 0x9e37_79b9;
    (0..BLOB)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            char::from(b'!' + u8::try_from(x % 94).unwrap_or(0))
        })
        .collect()
}

async fn serve() -> Result<(), String> {
    let mut seed = Seed::demo();
    seed.images.push(SeedImage {
        repository: "projects/demo-project/locations/us-central1/repositories/docker".into(),
        image: "bench".into(),
        tags: vec!["1".into()],
        layers: vec![blob()],
        media_types: None,
    });
    let emu = Emulator::builder()
        .seed(seed)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::json!({ "url": emu.url(), "token": emu.token() })
    );
    // Serve until the parent closes stdin.
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
    })
    .await
    .map_err(|e| e.to_string())?;
    emu.shutdown().await;
    Ok(())
}

async fn client(url: &str, token: &str, calls: usize, dir: &std::path::Path) -> Result<(), String> {
    let client = gar::Client::builder()
        .project("demo-project")
        .location("us-central1")
        .emulator(url)
        .credentials(gar::Credentials::AccessToken(gar::SecretString::new(
            token.to_owned(),
        )))
        .build()
        .await
        .map_err(|e| e.to_string())?;
    let list = || async {
        let packages = client.packages("generic").map_err(|e| e.to_string())?;
        let mut pages = packages.list().by_page();
        let mut n = 0;
        while let Some(page) = pages.next().await {
            n += page.map_err(|e| e.to_string())?.items.len();
        }
        Ok::<usize, String>(n)
    };
    for _ in 0..calls / 10 {
        list().await?;
    }
    let started = Instant::now();
    for _ in 0..calls {
        list().await?;
    }
    let calls_per_sec = calls as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    for _ in 0..calls {
        client.access_token().await.map_err(|e| e.to_string())?;
    }
    let floor_us = started.elapsed().as_secs_f64() * 1e6 / calls as f64;

    let image = client.image("docker/bench:1").map_err(|e| e.to_string())?;
    let repository = client.oci(&image).map_err(|e| e.to_string())?;
    let manifest = repository
        .get_manifest("1")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let layer = manifest
        .as_image()
        .and_then(|m| m.layers.first())
        .ok_or("the bench image has no layer")?
        .digest
        .clone();
    let mut best = f64::MAX;
    for _ in 0..PULLS {
        let started = Instant::now();
        let mut stream = repository
            .get_blob(&layer)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let mut bytes = 0usize;
        while let Some(chunk) = stream.next().await {
            bytes += chunk.map_err(|e| e.to_string())?.len();
        }
        if bytes != BLOB {
            return Err(format!("pulled {bytes} bytes, expected {BLOB}"));
        }
        best = best.min(started.elapsed().as_secs_f64());
    }
    let blob_mbps = BLOB as f64 / 1e6 / best;

    let dest = dir.join(format!("rust-{}.blob", std::process::id()));
    let mut best = f64::MAX;
    for _ in 0..PULLS {
        let started = Instant::now();
        let size = repository
            .download_blob(&layer, &dest)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        best = best.min(started.elapsed().as_secs_f64());
        std::fs::remove_file(&dest).map_err(|e| format!("{}: {e}", dest.display()))?;
        if size != BLOB as u64 {
            return Err(format!("downloaded {size} bytes, expected {BLOB}"));
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "callsPerSec": calls_per_sec,
            "blobMBps": blob_mbps,
            "fileMBps": BLOB as f64 / 1e6 / best,
            "floorUs": floor_us,
        })
    );
    Ok(())
}
