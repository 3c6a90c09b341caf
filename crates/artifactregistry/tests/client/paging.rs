//! Listings that cross many pages, by page and by item, with filters and order.

use futures_util::{StreamExt, TryStreamExt};
use gar_artifactregistry::model::{Version, VersionView};
use gar_emulator::Seed;

use crate::common::{DEMO_TOKEN, client, location, package, start, with_many};

fn ids(versions: &[Version]) -> Vec<String> {
    versions
        .iter()
        .map(|v| v.version_name().unwrap().version().to_string())
        .collect()
}

#[tokio::test]
async fn listings_cross_pages_by_page_and_by_item() {
    let emu = start(with_many(Seed::demo(), 250)).await;
    let c = client(&emu, Some(DEMO_TOKEN));
    let pkg = package("many", "pkg");

    let pages: Vec<_> = c
        .list_versions(&pkg)
        .set_page_size(40)
        .by_page()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 7);
    assert!(
        pages[..6]
            .iter()
            .all(|p| p.items.len() == 40 && p.next_page_token.is_some())
    );
    assert_eq!(pages[6].items.len(), 10);
    assert!(pages[6].next_page_token.is_none());
    let all: Vec<Version> = pages.into_iter().flat_map(|p| p.items).collect();
    let expected: Vec<String> = (0..250).map(|i| format!("v{i:03}")).collect();
    assert_eq!(ids(&all), expected);

    // By item, lazily: taking 45 items reads two pages only.
    let before = emu.requests().len();
    let first: Vec<_> = c
        .list_versions(&pkg)
        .set_page_size(40)
        .by_item()
        .take(45)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&first), expected[..45]);
    assert_eq!(
        emu.requests().len() - before,
        2,
        "pages are fetched as needed"
    );

    // One page at a time, resuming from a token.
    let page = c
        .list_versions(&pkg)
        .set_page_size(100)
        .send()
        .await
        .unwrap();
    let token = page.next_page_token.unwrap();
    let rest: Vec<_> = c
        .list_versions(&pkg)
        .set_page_size(100)
        .set_page_token(token)
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&rest), expected[100..]);

    // Filters and order apply across pages.
    let odd: Vec<_> = c
        .list_versions(&pkg)
        .set_page_size(30)
        .set_filter("annotations.parity:odd")
        .set_order_by("create_time desc")
        .set_view(VersionView::Full)
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(odd.len(), 125);
    assert_eq!(ids(&odd)[..3], ["v249", "v247", "v245"]);
    let tagged: Vec<_> = odd.iter().filter(|v| !v.related_tags.is_empty()).collect();
    assert!(tagged.is_empty(), "only even versions are tagged");
    let tens: Vec<_> = c
        .list_versions(&pkg)
        .set_page_size(7)
        .set_filter(r#"name="*0" OR name="*5""#)
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(tens.len(), 50);

    // Tags and repositories page the same way.
    let tags: Vec<_> = c
        .list_tags(&pkg)
        .set_page_size(4)
        .by_page()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(tags.len(), 7);
    assert_eq!(tags.iter().map(|p| p.items.len()).sum::<usize>(), 25);
    let repos: Vec<_> = c
        .list_repositories(&location())
        .set_page_size(3)
        .by_page()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(repos.len(), 4);
    assert_eq!(repos.iter().map(|p| p.items.len()).sum::<usize>(), 11);
}

#[tokio::test]
async fn a_listing_survives_deletions_between_pages() {
    let emu = start(with_many(Seed::demo(), 60)).await;
    let c = client(&emu, Some(DEMO_TOKEN));
    let pkg = package("many", "pkg");
    let mut pages = c.list_versions(&pkg).set_page_size(20).by_page();
    let first = pages.try_next().await.unwrap().unwrap();
    assert_eq!(first.items.len(), 20);
    // Delete versions already listed and some not yet listed, mid-listing.
    let doomed: Vec<_> = ["v005", "v030", "v031", "v059"]
        .iter()
        .map(|v| pkg.version(v.parse().unwrap()))
        .collect();
    c.batch_delete_versions(&pkg)
        .set_names(&doomed)
        .send()
        .await
        .unwrap();
    let mut seen = ids(&first.items);
    while let Some(page) = pages.try_next().await.unwrap() {
        seen.extend(ids(&page.items));
    }
    let expected: Vec<String> = (0..60)
        .filter(|i| ![30, 31, 59].contains(i))
        .map(|i| format!("v{i:03}"))
        .collect();
    assert_eq!(seen, expected, "nothing skipped, nothing repeated");
}
