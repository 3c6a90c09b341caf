//! Identity and authorization: token endpoint, metadata server, Docker token
//! endpoint, roles, challenges.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use gar_emulator::seed::{SeedRole, SeedToken};
use gar_emulator::{Emulator, Seed};
use http::Method;
use serde_json::{Value, json};

use crate::common::*;

fn assertion(emu_url: &str, key: &str, iss: &str, iat: i64, exp: i64) -> String {
    sign_jwt(
        key,
        &json!({"alg": "RS256", "typ": "JWT", "kid": "demo-key-1"}),
        &json!({"iss": iss, "scope": "https://www.googleapis.com/auth/cloud-platform",
                "aud": format!("{emu_url}/token"), "iat": iat, "exp": exp}),
    )
}

#[tokio::test]
async fn jwt_bearer_grant_verifies_the_service_account_signature() {
    let emu = demo().await;
    let c = Client::new(emu.url());
    let grant = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    let t = now();
    let r = c
        .post_form(
            "/token",
            &format!(
                "{grant}{}",
                assertion(emu.url(), SA_PRIVATE, SA, t, t + 3600)
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["token_type"], json!("Bearer"));
    assert!(v["expires_in"].as_i64().unwrap() > 3000);
    let token = v["access_token"].as_str().unwrap().to_owned();
    // The token works on the registry, as the service account (a writer).
    let reg = Client::new(emu.url()).bearer(&token);
    reg.push_blob(
        "demo-project/docker/from-sa",
        b"pushed by the service account",
    )
    .await;
    assert_eq!(
        reg.delete("/v2/demo-project/docker/hello/manifests/latest")
            .await
            .status,
        403
    );

    let bad = |form: String| {
        let c = c.clone();
        async move { c.post_form("/token", &form).await }
    };
    let r = bad(format!(
        "{grant}{}",
        assertion(emu.url(), OTHER_PRIVATE, SA, t, t + 3600)
    ))
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], json!("invalid_grant"));
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("Signature")
    );
    let r = bad(format!(
        "{grant}{}",
        assertion(
            emu.url(),
            SA_PRIVATE,
            "nobody@x.iam.gserviceaccount.com",
            t,
            t + 3600
        )
    ))
    .await;
    assert_eq!(r.json()["error"], json!("invalid_grant"));
    let r = bad(format!(
        "{grant}{}",
        assertion(emu.url(), SA_PRIVATE, SA, t - 7200, t - 3600)
    ))
    .await;
    assert_eq!(
        r.json()["error"],
        json!("invalid_grant"),
        "expired assertion"
    );
    let r = bad(format!(
        "{grant}{}",
        assertion(emu.url(), SA_PRIVATE, SA, t, t + 7200)
    ))
    .await;
    assert_eq!(
        r.json()["error"],
        json!("invalid_grant"),
        "lifetime over an hour"
    );
    let wrong_aud = sign_jwt(
        SA_PRIVATE,
        &json!({"alg": "RS256", "typ": "JWT"}),
        &json!({"iss": SA, "aud": "https://example.com/", "iat": t, "exp": t + 600}),
    );
    let r = bad(format!("{grant}{wrong_aud}")).await;
    assert_eq!(r.json()["error"], json!("invalid_grant"));
    let r = bad("grant_type=password&username=x".into()).await;
    assert_eq!(r.json()["error"], json!("unsupported_grant_type"));
    let r = bad(format!("{grant}not.a.jwt")).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn refresh_token_grant_for_users() {
    let emu = demo().await;
    let c = Client::new(emu.url());
    let r = c
        .post_form("/token", "grant_type=refresh_token&refresh_token=1%2F%2Fdemo-refresh-token&client_id=x&client_secret=y")
        .await;
    assert_eq!(r.status, 200);
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        Client::new(emu.url())
            .bearer(&token)
            .get("/v2/")
            .await
            .status,
        200
    );
    let r = c
        .post_form("/token", "grant_type=refresh_token&refresh_token=nope")
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], json!("invalid_grant"));
}

#[tokio::test]
async fn metadata_server_requires_the_flavor_header() {
    let emu = demo().await;
    let c = Client::new(emu.url());
    let path = "/computeMetadata/v1/instance/service-accounts/default/token";
    let r = c.get(path).await;
    assert_eq!(r.status, 403);
    let md = |p: &'static str| {
        let c = c.clone();
        async move {
            c.send(
                Method::GET,
                p,
                &[("metadata-flavor", "Google")],
                full(Bytes::new()),
            )
            .await
        }
    };
    let r = md("/computeMetadata/v1/instance/service-accounts/default/token").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("metadata-flavor"), Some("Google"));
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    assert!(r.json()["expires_in"].as_i64().unwrap() > 0);
    let reg = Client::new(emu.url()).bearer(&token);
    assert_eq!(
        reg.get("/v2/demo-project/docker/hello/tags/list")
            .await
            .status,
        200
    );
    assert_eq!(
        &md("/computeMetadata/v1/instance/service-accounts/default/email")
            .await
            .body[..],
        SA.as_bytes()
    );
    assert_eq!(
        &md("/computeMetadata/v1/project/project-id").await.body[..],
        b"demo-project"
    );
    assert_eq!(
        &md("/computeMetadata/v1/project/numeric-project-id")
            .await
            .body[..],
        b"123456789012"
    );
    let r = md("/computeMetadata/v1/instance/service-accounts/default/?recursive=true").await;
    assert_eq!(r.json()["email"], json!(SA));
    let r = md("/computeMetadata/v1/").await;
    assert_eq!(r.status, 200, "the probe clients use to detect the server");
    assert_eq!(r.header("metadata-flavor"), Some("Google"));
    let r = md("/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("metadata-flavor"), Some("Google"));
    assert_eq!(md("/computeMetadata/v1/instance/nothing").await.status, 404);
}

async fn docker_token(emu_url: &str, client: Client, scope: &str) -> (u16, Value) {
    let r = client
        .get(&format!(
            "/v2/token?service={}&scope={scope}",
            emu_url.trim_start_matches("http://")
        ))
        .await;
    let _ = emu_url;
    (
        r.status,
        if r.body.is_empty() {
            Value::Null
        } else {
            r.json()
        },
    )
}

#[tokio::test]
async fn docker_token_endpoint_accepts_every_credential_form() {
    let emu = demo().await;
    let scope = "repository:demo-project/docker/app:pull,push";
    let key = key_file(&format!("{}/token", emu.url())).to_string();
    for client in [
        Client::new(emu.url()).basic("oauth2accesstoken", DEMO_TOKEN),
        Client::new(emu.url()).basic("_json_key", &key),
        Client::new(emu.url()).basic("_json_key_base64", &STANDARD.encode(&key)),
        Client::new(emu.url()).bearer(DEMO_TOKEN),
    ] {
        let (status, v) = docker_token(emu.url(), client, scope).await;
        assert_eq!(status, 200, "{v}");
        let token = v["token"].as_str().unwrap();
        assert_eq!(v["access_token"], json!(token));
        assert!(v["expires_in"].as_i64().unwrap() > 0);
        let reg = Client::new(emu.url()).bearer(token);
        reg.push_blob("demo-project/docker/app", b"with a registry token")
            .await;
        // The token covers only its scope.
        let r = reg.get("/v2/demo-project/docker/hello/tags/list").await;
        assert_eq!(r.status, 401);
        assert!(
            r.header("www-authenticate")
                .unwrap()
                .contains("insufficient_scope")
        );
    }
    // A key file whose private key is not the account's is refused.
    let mut forged = key_file("x");
    forged["private_key"] = json!(OTHER_PRIVATE);
    let (status, v) = docker_token(
        emu.url(),
        Client::new(emu.url()).basic("_json_key", &forged.to_string()),
        scope,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(v["errors"][0]["code"], json!("UNAUTHORIZED"));
    let (status, _) = docker_token(
        emu.url(),
        Client::new(emu.url()).basic("oauth2accesstoken", "ya29.wrong"),
        scope,
    )
    .await;
    assert_eq!(status, 401);
    // Basic auth also works directly on the registry, as on GAR.
    let r = Client::new(emu.url())
        .basic("oauth2accesstoken", DEMO_TOKEN)
        .get("/v2/demo-project/docker/hello/manifests/latest")
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn docker_login_flow_challenge_token_retry() {
    let emu = demo().await;
    let anon = Client::new(emu.url());
    let path = "/v2/demo-project/docker/hello/manifests/latest";
    let r = anon.get(path).await;
    assert_eq!(r.status, 401);
    let challenge = r.header("www-authenticate").unwrap().to_owned();
    assert!(
        challenge.contains("scope=\"repository:demo-project/docker/hello:pull\""),
        "{challenge}"
    );
    let realm = challenge
        .split("realm=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let service = challenge
        .split("service=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = Client::new(emu.url())
        .basic("oauth2accesstoken", VIEWER_TOKEN)
        .get(&format!(
            "{realm}?service={service}&scope=repository:demo-project/docker/hello:pull,push"
        ))
        .await;
    assert_eq!(r.status, 200);
    let token = r.json()["token"].as_str().unwrap().to_owned();
    let reg = Client::new(emu.url()).bearer(&token);
    assert_eq!(reg.get(path).await.status, 200);
    // The viewer holds only reader: push is denied (403), not challenged.
    let r = reg
        .send(
            Method::POST,
            "/v2/demo-project/docker/hello/blobs/uploads/",
            &[],
            full(Bytes::new()),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.oci_code(), "DENIED");
}

#[tokio::test]
async fn roles_per_repository_and_anonymous_reads() {
    let mut seed = Seed::demo();
    seed.tokens.push(SeedToken {
        token: "ya29.scoped".into(),
        principal: "user:scoped@example.com".into(),
    });
    seed.roles.push(SeedRole {
        principal: "user:scoped@example.com".into(),
        role: "roles/artifactregistry.writer".into(),
        resource: "projects/demo-project/locations/us-central1/repositories/docker".into(),
    });
    seed.roles.push(SeedRole {
        principal: "allUsers".into(),
        role: "reader".into(),
        resource: "projects/demo-project/locations/us-central1/repositories/generic".into(),
    });
    let emu = Emulator::builder().seed(seed).start().await.unwrap();
    let scoped = Client::new(emu.url()).bearer("ya29.scoped");
    scoped
        .push_blob("demo-project/docker/mine", b"writer on docker")
        .await;
    let r = scoped
        .delete("/v2/demo-project/docker/hello/manifests/latest")
        .await;
    assert_eq!(r.status, 403, "writer cannot delete");
    // Anonymous: 401 with a challenge, whatever exists.
    let anon = Client::new(emu.url());
    let r = anon.get("/v2/demo-project/docker/hello/tags/list").await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").is_some());
    let r = anon.get("/v2/demo-project/nosuch/hello/tags/list").await;
    assert_eq!(r.status, 401);

    // allUsers readers: an anonymous registry token pulls from that repository only.
    let r = anon
        .get("/v2/token?scope=repository:demo-project/generic/x:pull&scope=repository:demo-project/docker/hello:pull")
        .await;
    assert_eq!(r.status, 200);
    let anon_token = r.json()["token"].as_str().unwrap().to_owned();
    let r = Client::new(emu.url())
        .bearer(&anon_token)
        .get("/v2/demo-project/docker/hello/tags/list")
        .await;
    assert_eq!(
        r.status, 401,
        "no anonymous access to the docker repository"
    );

    let open = Emulator::builder()
        .allow_anonymous_read(true)
        .start()
        .await
        .unwrap();
    let anon = Client::new(open.url());
    assert_eq!(anon.get("/v2/").await.status, 200);
    let r = anon
        .get("/v2/token?scope=repository:demo-project/docker/hello:pull,push")
        .await;
    let granted = r.json()["token"].as_str().unwrap().to_owned();
    let tc = Client::new(open.url()).bearer(&granted);
    assert_eq!(
        tc.get("/v2/demo-project/docker/hello/manifests/latest")
            .await
            .status,
        200
    );
    let r = tc
        .send(
            Method::POST,
            "/v2/demo-project/docker/hello/blobs/uploads/",
            &[],
            full(Bytes::new()),
        )
        .await;
    assert_eq!(r.status, 401, "anonymous tokens never carry push");
    assert_eq!(
        anon.get("/v2/demo-project/docker/hello/manifests/latest")
            .await
            .status,
        200
    );
    let r = anon
        .send(
            Method::POST,
            "/v2/demo-project/docker/hello/blobs/uploads/",
            &[],
            full(Bytes::new()),
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().contains("pull,push"));
}

#[tokio::test]
async fn expired_tokens_are_refused_with_invalid_token() {
    let emu = demo().await;
    let admin = Client::new(emu.url());
    let r = admin
        .post_json(
            "/_emulator/tokens",
            &json!({"principal": "user:demo@example.com"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    let reg = Client::new(emu.url()).bearer(&token);
    assert_eq!(
        reg.get("/v2/demo-project/docker/hello/tags/list")
            .await
            .status,
        200
    );
    let r = admin
        .post_json("/_emulator/clock", &json!({"advanceSeconds": 3700}))
        .await;
    assert_eq!(r.status, 200);
    let r = reg.get("/v2/demo-project/docker/hello/tags/list").await;
    assert_eq!(r.status, 401);
    let c = r.header("www-authenticate").unwrap();
    assert!(c.contains("error=\"invalid_token\""), "{c}");
    assert!(
        r.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    // Static tokens do not expire.
    assert_eq!(
        Client::new(emu.url())
            .bearer(DEMO_TOKEN)
            .get("/v2/")
            .await
            .status,
        200
    );
    let r = admin
        .post_json(
            "/_emulator/tokens",
            &json!({"principal": "user:stranger@example.com"}),
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn self_signed_jwts_work_as_bearer_tokens() {
    let emu = demo().await;
    let t = now();
    let claims = |iat: i64, exp: i64| json!({"iss": SA, "sub": SA, "aud": "https://artifactregistry.googleapis.com/", "iat": iat, "exp": exp});
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "demo-key-1"});
    let jwt = sign_jwt(SA_PRIVATE, &header, &claims(t, t + 3600));
    let c = Client::new(emu.url()).bearer(&jwt);
    assert_eq!(
        c.get("/v2/demo-project/docker/hello/tags/list")
            .await
            .status,
        200
    );
    let expired = sign_jwt(SA_PRIVATE, &header, &claims(t - 7200, t - 3600));
    let r = Client::new(emu.url()).bearer(&expired).get("/v2/").await;
    assert_eq!(r.status, 401);
    let forged = sign_jwt(OTHER_PRIVATE, &header, &claims(t, t + 3600));
    let r = Client::new(emu.url()).bearer(&forged).get("/v2/").await;
    assert_eq!(r.status, 401);
}
