//! The User-Agent of every surface, as the emulator received it over loopback.

use futures_util::TryStreamExt;
use gar::{Client, ErrorKind};
use gar_emulator::seed;

use crate::common::{builder, client, emulator, env};

const VERSION: &str = env!("CARGO_PKG_VERSION");

async fn client_with(emu: &gar_emulator::EmulatorHandle, product: Option<&str>) -> Client {
    let mut builder = builder(emu);
    if let Some(p) = product {
        builder = builder.user_agent(p);
    }
    builder.build().await.unwrap()
}

/// One REST call, one registry read (with its token exchange) and one gRPC call.
async fn every_surface(client: &Client) {
    let repos: Vec<_> = client
        .repositories()
        .unwrap()
        .list()
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert!(!repos.is_empty());
    let hello = client.image("docker/hello:latest").unwrap();
    client
        .oci(&hello)
        .unwrap()
        .get_manifest("latest")
        .send()
        .await
        .unwrap();
    client
        .vulnerabilities()
        .unwrap()
        .vulnerability_summary(&seed::DEMO_PROJECT.parse().unwrap())
        .send()
        .await
        .unwrap();
}

/// The User-Agent the emulator logged for each operation.
fn agents(emu: &gar_emulator::EmulatorHandle) -> Vec<(String, Option<String>)> {
    emu.requests()
        .into_iter()
        .map(|r| (r.operation, r.user_agent))
        .collect()
}

#[tokio::test]
async fn rest_registry_and_grpc_requests_carry_the_product_and_gar() {
    let emu = emulator().await;
    let client = client_with(&emu, Some("facade-test/1.0")).await;
    assert_eq!(client.user_agent(), Some("facade-test/1.0"));
    let expected = format!("facade-test/1.0 gar/{VERSION}");
    assert_eq!(client.transport().user_agent(), Some(expected.as_str()));
    every_surface(&client).await;
    let seen = agents(&emu);
    for operation in ["rest", "oci.token", "oci.manifest.get", "grpc"] {
        let of: Vec<_> = seen.iter().filter(|(o, _)| o == operation).collect();
        assert!(!of.is_empty(), "no {operation} request in {seen:?}");
        for (_, agent) in of {
            assert_eq!(agent.as_deref(), Some(expected.as_str()), "{operation}");
        }
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn without_a_product_gar_names_itself() {
    let emu = emulator().await;
    let client = client(&emu).await;
    assert_eq!(client.user_agent(), None);
    every_surface(&client).await;
    let expected = format!("gar/{VERSION}");
    for (operation, agent) in agents(&emu) {
        assert_eq!(agent.as_deref(), Some(expected.as_str()), "{operation}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn a_product_that_is_no_header_value_fails_the_build_before_any_call() {
    let emu = emulator().await;
    let before = emu.requests().len();
    for bad in ["tool\r\nX-Injected: 1", "", "outil/été"] {
        let err = Client::builder()
            .emulator(emu.url())
            .project(seed::DEMO_PROJECT)
            .user_agent(bad)
            .environment_map(env(&[]))
            .build()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad:?}: {err}");
    }
    assert_eq!(emu.requests().len(), before);
    emu.shutdown().await;
}
