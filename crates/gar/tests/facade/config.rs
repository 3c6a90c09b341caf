//! Configuration, credentials, the emulator switch, and errors before any call.

use gar::{Client, Credentials, ErrorKind, Recording, SecretString};
use gar_emulator::seed;

use crate::common::{emulator, env};

/// `GET /v2/` through the client's transport.
async fn ping(client: &Client) -> u16 {
    let base = client.endpoints().override_url().unwrap().join("/v2/");
    let request = http::Request::get(base)
        .body(gar_transport::Body::empty())
        .unwrap();
    client
        .transport()
        .send(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn bad_configuration_fails_before_any_call() {
    let err = Client::builder()
        .project("Bad_Project")
        .environment_map(env(&[]))
        .build()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidProject);
    let err = Client::builder()
        .location("us-centrl1")
        .environment_map(env(&[]))
        .build()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidLocation);
    assert!(err.to_string().contains("us-central1"), "{err}");
    let err = Client::builder()
        .emulator("ftp://nowhere")
        .environment_map(env(&[]))
        .build()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = Client::builder()
        .credentials(Credentials::File("/nonexistent/key.json".into()))
        .environment_map(env(&[]))
        .build()
        .await
        .unwrap_err();
    assert!(err.is_authentication(), "{err:?}");
    let client = Client::builder()
        .credentials(Credentials::Anonymous)
        .environment_map(env(&[]))
        .build()
        .await
        .unwrap();
    assert_eq!(
        client.require_project().unwrap_err().kind(),
        ErrorKind::InvalidProject
    );
    assert_eq!(
        client.require_location().unwrap_err().kind(),
        ErrorKind::InvalidLocation
    );
    assert_eq!(
        client.access_token().await.unwrap_err().kind(),
        ErrorKind::CredentialsNotFound
    );
    assert_eq!(
        client.save_recording().unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    // Without an emulator, the endpoints are Google's.
    assert_eq!(client.endpoints().override_url(), None);
}

#[tokio::test]
async fn the_emulator_variable_sends_everything_there() {
    let emu = emulator().await;
    let host = emu.url().trim_start_matches("http://").to_owned();
    let client = Client::builder()
        .project(seed::DEMO_PROJECT)
        .location("us-central1")
        .environment_map(env(&[
            ("ARTIFACT_REGISTRY_EMULATOR_HOST", &host),
            ("ARTIFACT_REGISTRY_EMULATOR_TOKEN", seed::DEMO_TOKEN),
        ]))
        .build()
        .await
        .unwrap();
    assert_eq!(client.emulator(), Some(emu.url()));
    assert_eq!(client.project().unwrap().as_str(), seed::DEMO_PROJECT);
    assert_eq!(
        client.access_token().await.unwrap().expose_secret(),
        seed::DEMO_TOKEN
    );
    assert_eq!(ping(&client).await, 200);
    // Without a token the emulator's registry refuses.
    let anonymous = Client::builder()
        .environment_map(env(&[("ARTIFACT_REGISTRY_EMULATOR_HOST", &host)]))
        .build()
        .await
        .unwrap();
    assert!(anonymous.token_provider().is_none());
    assert_eq!(ping(&anonymous).await, 401);
    emu.shutdown().await;
}

#[tokio::test]
async fn application_default_credentials_from_a_key_file() {
    let emu = emulator().await;
    let dir = std::env::temp_dir().join(format!("gar-facade-adc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("key.json");
    std::fs::write(
        &key,
        seed::demo_service_account_key(&format!("{}/token", emu.url())),
    )
    .unwrap();
    let key_path = key.to_string_lossy().into_owned();
    let client = Client::builder()
        .emulator(emu.url())
        .environment_map(env(&[("GOOGLE_APPLICATION_CREDENTIALS", &key_path)]))
        .build()
        .await
        .unwrap();
    assert_eq!(ping(&client).await, 200);
    // The same file named explicitly, and its JSON text.
    let json = std::fs::read_to_string(&key).unwrap();
    for credentials in [
        Credentials::File(key.clone()),
        Credentials::Json(SecretString::new(json)),
    ] {
        let client = Client::builder()
            .emulator(emu.url())
            .credentials(credentials)
            .environment_map(env(&[]))
            .build()
            .await
            .unwrap();
        assert_eq!(ping(&client).await, 200);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    emu.shutdown().await;
}

#[tokio::test]
async fn record_then_replay_without_the_emulator() {
    let emu = emulator().await;
    let dir = std::env::temp_dir().join(format!("gar-facade-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cassette = dir.join("cassette.json");
    let url = emu.url().to_owned();
    let client = Client::builder()
        .emulator(&url)
        .credentials(Credentials::AccessToken(SecretString::new(
            seed::DEMO_TOKEN,
        )))
        .recording(Recording::Record(cassette.clone()))
        .build()
        .await
        .unwrap();
    assert_eq!(ping(&client).await, 200);
    client.save_recording().unwrap();
    emu.shutdown().await;
    let text = std::fs::read_to_string(&cassette).unwrap();
    assert!(
        !text.contains(seed::DEMO_TOKEN),
        "the token must not reach the cassette"
    );
    let replay = Client::builder()
        .emulator(&url)
        .credentials(Credentials::AccessToken(SecretString::new(
            seed::DEMO_TOKEN,
        )))
        .recording(Recording::Replay(cassette))
        .build()
        .await
        .unwrap();
    assert_eq!(ping(&replay).await, 200);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn each_location_gets_its_own_regional_endpoint_every_time() {
    let client = Client::builder()
        .endpoints(gar::Endpoints::regional())
        .credentials(Credentials::AccessToken(SecretString::new("t")))
        .environment_map(env(&[]))
        .build()
        .await
        .unwrap();
    let us: gar::names::Location = "us-central1".parse().unwrap();
    let eu: gar::names::Location = "europe-west1".parse().unwrap();
    // Asked twice each (the second answer is the kept client), in turn.
    for _ in 0..2 {
        let a = client.api(&us).unwrap();
        let b = client.api(&eu).unwrap();
        assert!(a.endpoint().contains("us-central1"), "{}", a.endpoint());
        assert!(b.endpoint().contains("europe-west1"), "{}", b.endpoint());
    }
}
