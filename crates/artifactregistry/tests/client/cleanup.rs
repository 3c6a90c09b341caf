//! Cleanup policies end to end: the scenario table of
//! `testdata/cleanup-scenarios.json` (gar-core's evaluator tests run it too)
//! checked through the client's dry-run report, through the client's apply
//! (batch deletes), and through the emulator's own cleanup pass (the same
//! evaluator), plus a repository in dry-run mode and a docker repository.

use std::collections::BTreeSet;

use futures_util::TryStreamExt;
use gar_artifactregistry::Client;
use gar_core::ErrorKind;
use gar_core::cleanup::{CleanupPolicies, Outcome};
use gar_core::names::RepositoryName;
use gar_emulator::Seed;
use gar_emulator::seed::SeedImage;
use serde_json::json;

use crate::common::{
    DEMO_TOKEN, Row, SCENARIO_TABLE, add_generic, admin, client, mixed, now, repo, start, status_of,
};

/// `package@version` of a version name.
fn short(name: &str) -> String {
    let v: gar_core::names::VersionName = name.parse().unwrap();
    format!("{}@{}", v.package().package(), v.version())
}

fn set(items: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    items.into_iter().collect()
}

/// Every version left in a repository, as `package@version`.
async fn remaining(c: &Client, r: &RepositoryName) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let packages: Vec<_> = c.list_packages(r).by_item().try_collect().await.unwrap();
    for p in packages {
        let versions: Vec<_> = c
            .list_versions(&p.package_name().unwrap())
            .by_item()
            .try_collect()
            .await
            .unwrap();
        out.extend(versions.iter().map(|v| short(&v.name)));
    }
    out
}

fn all_of(rows: &[Row]) -> BTreeSet<String> {
    rows.iter()
        .map(|r| format!("{}@{}", r.package, r.version))
        .collect()
}

async fn set_policies(c: &Client, r: &RepositoryName, policies: &CleanupPolicies, dry_run: bool) {
    let updated = c
        .update_repository(r)
        .set_cleanup_policies(policies)
        .set_cleanup_policy_dry_run(dry_run)
        .send()
        .await
        .unwrap();
    assert_eq!(&updated.cleanup_policies, policies);
    // The gcloud shape survives the trip through the API.
    assert_eq!(
        CleanupPolicies::from_gcloud_json(&updated.cleanup_policies.to_gcloud_json().to_string())
            .unwrap(),
        *policies
    );
}

#[tokio::test]
async fn the_scenario_table_through_report_apply_and_the_emulator_pass() {
    let scenarios = &SCENARIO_TABLE.scenarios;
    assert!(scenarios.len() >= 15);
    let mut seed = Seed::demo();
    for (i, s) in scenarios.iter().enumerate() {
        add_generic(&mut seed, &format!("client-{i:02}"), s.rows());
        add_generic(&mut seed, &format!("emulator-{i:02}"), s.rows());
    }
    let emu = start(seed).await;
    let c = client(&emu, Some(DEMO_TOKEN));
    for (i, s) in scenarios.iter().enumerate() {
        let (scenario, rows) = (&s.name, s.rows());
        let expected = set(s.deleted.iter().cloned());
        let kept = &all_of(rows) - &expected;
        let policies = CleanupPolicies::from_gcloud_json(&s.policies.to_string())
            .unwrap_or_else(|e| panic!("{scenario}: the policies: {e}"));
        let by_client = repo(&format!("client-{i:02}"));
        let by_emulator = repo(&format!("emulator-{i:02}"));
        set_policies(&c, &by_client, &policies, false).await;
        set_policies(&c, &by_emulator, &policies, false).await;

        // 1. The client's dry-run report.
        let plan = c.cleanup(&by_client).set_now(now()).report().await.unwrap();
        assert_eq!(plan.report.decisions.len(), rows.len(), "{scenario}");
        assert_eq!(
            set(plan.deletions().map(|n| short(&n.to_string()))),
            expected,
            "{scenario}: report"
        );
        assert_eq!(
            remaining(&c, &by_client).await,
            all_of(rows),
            "{scenario}: a report deletes nothing"
        );

        // 2. The client's apply, through batch deletes.
        let applied = c.cleanup(&by_client).set_now(now()).apply().await.unwrap();
        assert_eq!(
            set(applied.deleted.iter().map(|n| short(&n.to_string()))),
            expected,
            "{scenario}: apply"
        );
        assert!(
            applied.failed.is_empty(),
            "{scenario}: {:?}",
            applied.failed
        );
        for d in &applied.plan.report.decisions {
            if matches!(d.outcome, Outcome::Keep { .. }) {
                let name = applied.plan.version_name(d);
                assert!(
                    !applied.deleted.contains(&name),
                    "{scenario}: {name} is kept by a KEEP policy"
                );
            }
        }
        assert_eq!(
            remaining(&c, &by_client).await,
            kept,
            "{scenario}: what is left"
        );

        // 3. The emulator's cleanup pass: the same evaluation, then deletion.
        let pass = admin(
            &emu,
            "cleanup",
            &json!({"repository": by_emulator.to_string(), "now": now().to_string()}),
        )
        .await;
        let pass = &pass["repositories"][0];
        assert_eq!(pass["dryRun"], false);
        let deleted = set(pass["deleted"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| short(n.as_str().unwrap())));
        assert_eq!(deleted, expected, "{scenario}: emulator pass");
        assert_eq!(
            remaining(&c, &by_emulator).await,
            kept,
            "{scenario}: emulator leaves"
        );
    }
}

#[tokio::test]
async fn a_dry_run_repository_reports_but_is_not_applied_unless_forced() {
    let mut seed = Seed::demo();
    add_generic(&mut seed, "dry", mixed());
    let emu = start(seed).await;
    let c = client(&emu, Some(DEMO_TOKEN));
    let dry = repo("dry");
    let policies = CleanupPolicies::from_gcloud_json(
        r#"[{"name":"d","action":{"type":"Delete"},"condition":{"olderThan":"30d"}},
            {"name":"k","action":{"type":"Keep"},"condition":{"tagPrefixes":["release"]}}]"#,
    )
    .unwrap();
    set_policies(&c, &dry, &policies, true).await;
    let expected = set(["app@1.1", "app@1.2", "lib@0.1", "sandbox/x@1.0-rc1"].map(String::from));

    let plan = c.cleanup(&dry).set_now(now()).report().await.unwrap();
    assert!(plan.dry_run);
    assert_eq!(
        set(plan.deletions().map(|n| short(&n.to_string()))),
        expected
    );
    let kept_by_k = plan
        .report
        .decisions
        .iter()
        .filter(|d| matches!(&d.outcome, Outcome::Keep { by, overrides } if by == &["k"] && overrides == &["d"]))
        .count();
    assert_eq!(
        kept_by_k, 2,
        "release-1.0 and release-0.2 are kept against d"
    );

    let err = c.cleanup(&dry).set_now(now()).apply().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
    assert!(err.to_string().contains("dry-run"), "{err}");
    assert_eq!(remaining(&c, &dry).await, all_of(mixed()));

    let pass = admin(
        &emu,
        "cleanup",
        &json!({"repository": dry.to_string(), "now": now().to_string()}),
    )
    .await;
    assert_eq!(pass["repositories"][0]["dryRun"], true);
    assert_eq!(pass["repositories"][0]["deleted"], json!([]));
    let would: Vec<_> = pass["repositories"][0]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["action"] == "DELETE")
        .map(|d| short(d["version"].as_str().unwrap()))
        .collect();
    assert_eq!(set(would), expected, "the emulator reports the same");
    assert_eq!(remaining(&c, &dry).await, all_of(mixed()));

    let forced = c
        .cleanup(&dry)
        .set_now(now())
        .set_force(true)
        .apply()
        .await
        .unwrap();
    assert_eq!(
        set(forced.deleted.iter().map(|n| short(&n.to_string()))),
        expected
    );
    assert_eq!(remaining(&c, &dry).await, &all_of(mixed()) - &expected);
}

#[tokio::test]
async fn cleaning_a_docker_repository_removes_the_manifests() {
    let mut seed = Seed::demo();
    for (tags, layer) in [(vec!["v1".to_owned()], "one"), (Vec::new(), "two")] {
        seed.images.push(SeedImage {
            repository: repo("docker").to_string(),
            image: "team/app".into(),
            tags,
            layers: vec![layer.into()],
            media_types: None,
        });
    }
    let emu = start(seed).await;
    let c = client(&emu, Some(DEMO_TOKEN));
    let docker = repo("docker");
    let policies = CleanupPolicies::from_gcloud_json(
        r#"[{"name":"untagged","action":{"type":"Delete"},"condition":{"tagState":"untagged"}}]"#,
    )
    .unwrap();
    set_policies(&c, &docker, &policies, false).await;
    let applied = c.cleanup(&docker).apply().await.unwrap();
    assert_eq!(applied.deleted.len(), 1);
    let gone = &applied.deleted[0];
    assert_eq!(gone.package().package().as_str(), "team/app");
    assert_eq!(
        status_of(
            &emu,
            &format!(
                "/v2/demo-project/docker/team/app/manifests/{}",
                gone.version()
            ),
            DEMO_TOKEN
        )
        .await,
        404,
        "the OCI side agrees at once"
    );
    assert_eq!(
        status_of(
            &emu,
            "/v2/demo-project/docker/team/app/manifests/v1",
            DEMO_TOKEN
        )
        .await,
        200
    );
    assert_eq!(
        status_of(
            &emu,
            "/v2/demo-project/docker/hello/manifests/latest",
            DEMO_TOKEN
        )
        .await,
        200
    );
}
