//! Registry authentication against the emulator: the challenge flow, the token
//! cache, GAR's usernames, a Google token sent directly, refusals.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use gar_auth::{CachedTokenProvider, SecretString, StaticToken};
use gar_core::ErrorKind;
use gar_oci::RegistryAuth;

use crate::common::*;

async fn push_and_pull(emu: &gar_emulator::EmulatorHandle, auth: RegistryAuth, image: &str) {
    let dir = TempDir::new("auth");
    let (layout, m) = layout_with_image(&dir.join("src"), "v1", &[b"auth layer".to_vec()]).await;
    let repo = registry(emu.url(), auth)
        .repository(&format!("{REPO}/{image}"))
        .unwrap();
    let report = repo.push_image(&layout).send().await.unwrap();
    assert_eq!(report.digest, *m.digest());
    let got = repo.get_manifest("v1").send().await.unwrap();
    assert_eq!(got.raw(), m.raw());
}

#[tokio::test]
async fn the_challenge_yields_one_cached_token_per_repository_and_actions() {
    let emu = emulator().await;
    push_and_pull(&emu, google(), "cached").await;
    let tokens = requests(&emu, "oci.token");
    // The first call learns the challenge; one push token then covers every
    // blob, manifest and the pull that follows.
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert!(
        tokens[0]
            .query
            .contains("scope=repository%3Ademo-project%2Fdocker%2Fcached%3Apull%2Cpush"),
        "{}",
        tokens[0].query
    );
    assert_eq!(tokens[0].authorization.as_deref(), Some("Basic"));
    let unauthorized: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.status == Some(401))
        .collect();
    assert_eq!(
        unauthorized.len(),
        1,
        "only the first call is challenged: {unauthorized:?}"
    );
    // No `GET /v2/` probe: the push's first call (a blob `HEAD`, which has no
    // body to resend) learns the scheme itself, and holds the calls beside it
    // back until it has.
    assert_eq!(unauthorized[0].operation, "oci.blob.head");
    assert_eq!(unauthorized[0].authorization, None);
    assert!(requests(&emu, "oci.ping").is_empty());
    assert!(
        emu.requests()
            .iter()
            .filter(|r| r.operation.starts_with("oci.")
                && r.operation != "oci.token"
                && r.status != Some(401))
            .all(|r| r.authorization.as_deref() == Some("Bearer"))
    );
}

#[tokio::test]
async fn a_google_token_can_be_sent_directly() {
    let emu = emulator().await;
    let auth =
        RegistryAuth::google_direct(Arc::new(StaticToken::new(SecretString::new(DEMO_TOKEN))));
    push_and_pull(&emu, auth, "direct").await;
    assert!(requests(&emu, "oci.token").is_empty());
    assert!(emu.requests().iter().all(|r| r.status != Some(401)));
}

#[tokio::test]
async fn gar_usernames_oauth2accesstoken_json_key_and_json_key_base64() {
    let emu = emulator().await;
    let key = gar_emulator::seed::demo_service_account_key(&format!("{}/token", emu.url()));
    push_and_pull(
        &emu,
        RegistryAuth::basic("oauth2accesstoken", SecretString::new(DEMO_TOKEN)),
        "user-token",
    )
    .await;
    push_and_pull(
        &emu,
        RegistryAuth::json_key(SecretString::new(key.clone())),
        "json-key",
    )
    .await;
    push_and_pull(
        &emu,
        RegistryAuth::json_key_base64(&SecretString::new(key)),
        "json-key-b64",
    )
    .await;
    assert_eq!(requests(&emu, "oci.token").len(), 3);
}

#[tokio::test]
async fn refusals_are_authentication_or_authorization_errors() {
    let emu = emulator().await;
    // Anonymous: the registry hands out an anonymous token that covers nothing.
    let anon = registry(emu.url(), RegistryAuth::anonymous())
        .repository(&format!("{REPO}/hello"))
        .unwrap();
    let err = anon.get_manifest("latest").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenExpired, "{err}");
    // A bad password: the token service refuses it.
    let bad = registry(
        emu.url(),
        RegistryAuth::basic("oauth2accesstoken", SecretString::new("ya29.bogus")),
    )
    .repository(&format!("{REPO}/hello"))
    .unwrap();
    let err = bad.get_manifest("latest").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenRefreshFailed, "{err}");
    assert!(err.is_authentication());
    // A reader may pull but not push.
    let viewer = registry(
        emu.url(),
        RegistryAuth::google(Arc::new(StaticToken::new(SecretString::new(VIEWER_TOKEN)))),
    )
    .repository(&format!("{REPO}/hello"))
    .unwrap();
    viewer.get_manifest("latest").send().await.unwrap();
    let blob = b"viewer blob".to_vec();
    let err = viewer
        .upload_blob(
            &gar_oci::digest::sha256(&blob),
            blob.len() as u64,
            gar_oci::BlobSource::bytes(blob),
        )
        .send()
        .await
        .unwrap_err();
    assert!(err.is_authorization() || err.is_authentication(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_google_token_is_refreshed_once_at_the_realm() {
    let emu = Arc::new(emulator().await);
    let minting = Arc::new(Minting {
        emu: emu.clone(),
        principal: "user:demo@example.com".into(),
        minted: AtomicU64::new(0),
    });
    let auth = RegistryAuth::google(Arc::new(CachedTokenProvider::new(minting.clone())));
    let repo = registry(emu.url(), auth)
        .repository(&format!("{REPO}/hello"))
        .unwrap();
    repo.get_manifest("latest").send().await.unwrap();
    // Two hours later the Google token the cache holds has expired on the
    // emulator's clock, as has the registry token.
    advance_clock_blocking(emu.addr(), 7200);
    repo.get_manifest("latest").send().await.unwrap();
    assert_eq!(minting.minted.load(std::sync::atomic::Ordering::Relaxed), 2);
    let statuses: Vec<Option<u16>> = requests(&emu, "oci.token")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![Some(200), Some(401), Some(200)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_google_token_sent_directly_is_refreshed_after_a_401() {
    let emu = Arc::new(emulator().await);
    let minting = Arc::new(Minting {
        emu: emu.clone(),
        principal: "user:demo@example.com".into(),
        minted: AtomicU64::new(0),
    });
    let auth = RegistryAuth::google_direct(Arc::new(CachedTokenProvider::new(minting.clone())));
    let repo = registry(emu.url(), auth)
        .repository(&format!("{REPO}/hello"))
        .unwrap();
    repo.get_manifest("latest").send().await.unwrap();
    advance_clock_blocking(emu.addr(), 7200);
    repo.get_manifest("latest").send().await.unwrap();
    assert_eq!(minting.minted.load(std::sync::atomic::Ordering::Relaxed), 2);
    let refused: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.status == Some(401))
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(requests(&emu, "oci.token").is_empty());
}

#[tokio::test]
async fn a_first_call_with_a_body_learns_the_scheme_before_sending_it() {
    let emu = emulator().await;
    let dir = TempDir::new("auth-body");
    let (layout, m) = layout_with_image(&dir.join("src"), "v1", &[b"body layer".to_vec()]).await;
    let name = format!("{REPO}/body-first");
    let pusher = registry(emu.url(), google()).repository(&name).unwrap();
    pusher.push_image(&layout).send().await.unwrap();
    let before = emu.requests().len();
    // A fresh registry handle knows nothing yet: its first call carries a
    // manifest, so it asks `GET /v2/` first rather than send the body twice.
    let fresh = registry(emu.url(), google()).repository(&name).unwrap();
    fresh.put_manifest("v2", &m).send().await.unwrap();
    let after: Vec<_> = emu.requests().into_iter().skip(before).collect();
    let ops: Vec<(&str, Option<u16>)> = after
        .iter()
        .map(|r| (r.operation.as_str(), r.status))
        .collect();
    assert_eq!(ops.first(), Some(&("oci.ping", Some(401))), "{ops:?}");
    let puts: Vec<_> = after
        .iter()
        .filter(|r| r.operation == "oci.manifest.put")
        .collect();
    assert_eq!(puts.len(), 1, "{ops:?}");
    assert_eq!(puts[0].authorization.as_deref(), Some("Bearer"));
}

/// A registry that answers a call without credentials with 404 (hiding its
/// private repositories) rather than a challenge: the first call, sent without
/// credentials to learn the scheme, learns it from `GET /v2/` instead and is
/// sent again with the credentials.
#[tokio::test]
async fn a_first_call_refused_without_a_challenge_learns_the_scheme_and_is_sent_again() {
    use std::sync::Mutex;
    let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[]}}"#,
        gar_oci::digest::sha256(&config),
        config.len()
    );
    let seen: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let log = seen.clone();
    let body = manifest.clone().into_bytes();
    let addr = serve(move |req| {
        let authorized = req.headers().get("authorization").is_some();
        let path = req.uri().path().to_owned();
        log.lock().unwrap().push((path.clone(), authorized));
        match (path.as_str(), authorized) {
            ("/v2/", false) => full(
                401,
                &[("www-authenticate", "Basic realm=\"private\"".to_owned())],
                Vec::new(),
            ),
            (_, false) => full(
                404,
                &[],
                br#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#.to_vec(),
            ),
            (_, true) => full(
                200,
                &[(
                    "content-type",
                    "application/vnd.oci.image.manifest.v1+json".to_owned(),
                )],
                body.clone(),
            ),
        }
    })
    .await;
    let reg = registry(
        &format!("http://{addr}"),
        RegistryAuth::basic("u", SecretString::new("p")),
    );
    let got = reg
        .repository("team/private")
        .unwrap()
        .get_manifest("v1")
        .send()
        .await
        .unwrap();
    assert_eq!(got.raw(), manifest.as_bytes());
    let path = "/v2/team/private/manifests/v1".to_owned();
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec![
            (path.clone(), false),
            ("/v2/".to_owned(), false),
            (path.clone(), true)
        ]
    );
    // A second call knows the scheme: credentials at once.
    reg.repository("team/private")
        .unwrap()
        .get_manifest("v1")
        .send()
        .await
        .unwrap();
    let all = seen.lock().unwrap().clone();
    assert_eq!(all.len(), 4, "{all:?}");
    assert_eq!(all.last(), Some(&(path, true)));
}
