//! Blob throughput against any OCI registry: one streamed upload (POST, one
//! PATCH, PUT) and one download of `--mib` MiB, printed as one JSON line
//! `{"mib", "putMBps", "getMBps", "peakRssKiB"}`. `--pid` names the registry's
//! process, whose peak RSS (`VmHWM`) is reported. Used by `cargo xtask bench
//! emulator` to compare the emulator with Debian's `docker-registry`:
//!
//! ```text
//! cargo run --release -p gar-emulator --example bench -- \
//!     --url http://127.0.0.1:PORT --token TOKEN --pid PID --mib 512
//! ```

use std::time::Instant;

use bytes::Bytes;
use futures_util::stream;
use http::{Method, Request};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = UnsyncBoxBody<Bytes, BoxError>;

fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

fn peak_rss_kib(pid: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), BoxError> {
    let mut url = String::new();
    let mut repo = "demo-project/docker/bench".to_owned();
    let mut mib: usize = 512;
    let mut token = None;
    let mut pid = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--url" => url = v,
            "--repo" => repo = v,
            "--mib" => mib = v.parse()?,
            "--token" => token = Some(v),
            "--pid" => pid = Some(v),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if url.is_empty() {
        return Err("--url is required".into());
    }
    let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
    let request = |method: Method, target: String, body: Body| -> Result<Request<Body>, BoxError> {
        let target = if target.starts_with("http") {
            target
        } else {
            format!("{url}{target}")
        };
        let mut b = Request::builder().method(method).uri(target);
        if let Some(t) = &token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        Ok(b.body(body)?)
    };
    let chunk: Bytes = (0..1u32 << 18)
        .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
        .collect::<Vec<u8>>()
        .into();
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for _ in 0..mib {
        ctx.update(&chunk);
    }
    let hex: String = ctx
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let digest = format!("sha256:{hex}");

    let started = Instant::now();
    let r = client
        .request(request(
            Method::POST,
            format!("/v2/{repo}/blobs/uploads/"),
            empty(),
        )?)
        .await?;
    if r.status() != 202 {
        return Err(format!("POST answered {}", r.status()).into());
    }
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or("no Location")?
        .to_owned();
    let chunks = std::iter::repeat_n(chunk.clone(), mib).map(|b| Ok::<_, BoxError>(Frame::data(b)));
    let body = StreamBody::new(stream::iter(chunks)).boxed_unsync();
    let r = client
        .request(request(Method::PATCH, location.clone(), body)?)
        .await?;
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map_or(location, str::to_owned);
    let sep = if location.contains('?') { '&' } else { '?' };
    let r = client
        .request(request(
            Method::PUT,
            format!("{location}{sep}digest={digest}"),
            empty(),
        )?)
        .await?;
    if r.status() != 201 {
        return Err(format!("PUT answered {}", r.status()).into());
    }
    let put_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let r = client
        .request(request(
            Method::GET,
            format!("/v2/{repo}/blobs/{digest}"),
            empty(),
        )?)
        .await?;
    let mut body = r.into_body();
    let mut got = ring::digest::Context::new(&ring::digest::SHA256);
    let mut n = 0usize;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            n += data.len();
            got.update(&data);
        }
    }
    let get_secs = started.elapsed().as_secs_f64();
    let got: String = got
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if n != mib << 20 || got != hex {
        return Err("the downloaded blob differs from the upload".into());
    }
    let mb = (mib << 20) as f64 / 1e6;
    let line = serde_json::json!({
        "mib": mib,
        "putMBps": (mb / put_secs * 10.0).round() / 10.0,
        "getMBps": (mb / get_secs * 10.0).round() / 10.0,
        "peakRssKiB": pid.as_deref().and_then(peak_rss_kib),
    });
    println!("{line}");
    Ok(())
}
