//! Property tests for every gar-core parser: printing then parsing gives the value
//! back, malformed input is rejected with the right kind and a message that names
//! the offending part, and no parser panics on arbitrary input.

// Test code: unwrapping is how a property states "this must parse".
#![allow(clippy::unwrap_used)]

use gar_core::ErrorKind;
use gar_core::endpoints::BaseUrl;
use gar_core::format::Format;
use gar_core::ids::{Digest, FileId, PackageId, ProjectId, RepositoryId, TagId, VersionId};
use gar_core::location::{Location, MULTI_REGIONS, REGIONS};
use gar_core::names::{
    DockerImageName, FileName, LocationName, PackageName, RepositoryName, TagName, VersionName,
    decode_id, decode_url_path, encode_id,
};
use gar_core::protojson::{Timestamp, format_duration, parse_duration};
use gar_core::reference::ImageReference;
use proptest::prelude::*;
use std::time::Duration;

fn project() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{4,28}[a-z0-9]",
        "[1-9][0-9]{0,15}",
        "[a-z]{1,10}\\.(com|org|io):[a-z][a-z0-9-]{4,20}[a-z0-9]",
    ]
}

fn repository() -> impl Strategy<Value = String> {
    "[a-z]([a-z0-9-]{0,61}[a-z0-9])?"
}

fn location() -> impl Strategy<Value = String> {
    let all: Vec<&'static str> = MULTI_REGIONS.iter().chain(REGIONS).copied().collect();
    prop::sample::select(all).prop_map(str::to_owned)
}

fn docker_path() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-z0-9]{1,6}((\\.|_|__|-{1,3})[a-z0-9]{1,6}){0,2}", 1..4)
        .prop_map(|c| c.join("/"))
}

/// Generic ids: printable characters, including ones that must be percent-encoded.
fn generic_id() -> impl Strategy<Value = String> {
    let segment = "[A-Za-z0-9_~:@+=,;!$&'()*\\[\\]-][A-Za-z0-9._~:@+=,;!$&'()*\\[\\]-]{0,12}";
    prop::collection::vec(segment, 1..4)
        .prop_map(|segments| segments.join("/"))
        .prop_filter("no relative segments", |s| {
            s.split('/').all(|seg| seg != "." && seg != "..")
        })
}

fn hex(len: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(b"0123456789abcdef".to_vec()), len)
        .prop_map(|b| String::from_utf8(b).unwrap())
}

fn digest() -> impl Strategy<Value = String> {
    prop_oneof![
        hex(64).prop_map(|h| format!("sha256:{h}")),
        hex(128).prop_map(|h| format!("sha512:{h}"))
    ]
}

fn docker_tag() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}"
}

/// A character none of the ids accept, at a random position of a valid id.
fn with_bad_char(valid: String, bad: char, at: usize) -> (String, usize) {
    let at = at % (valid.chars().count() + 1);
    let mut out: String = valid.chars().take(at).collect();
    out.push(bad);
    out.extend(valid.chars().skip(at));
    (out, at)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn ids_round_trip(
        p in project(),
        r in repository(),
        g in generic_id(),
        t in "[A-Za-z0-9_][A-Za-z0-9_.:@~-]{0,60}",
        d in digest(),
    ) {
        prop_assert_eq!(p.parse::<ProjectId>().unwrap().to_string(), p.clone());
        prop_assert_eq!(r.parse::<RepositoryId>().unwrap().to_string(), r.clone());
        prop_assert_eq!(g.parse::<PackageId>().unwrap().to_string(), g.clone());
        prop_assert_eq!(g.parse::<VersionId>().unwrap().to_string(), g.clone());
        prop_assert_eq!(g.parse::<FileId>().unwrap().to_string(), g.clone());
        prop_assert_eq!(t.parse::<TagId>().unwrap().to_string(), t.clone());
        let parsed: Digest = d.parse().unwrap();
        prop_assert_eq!(parsed.to_string(), d.clone());
        prop_assert_eq!(Digest::from_bytes(parsed.algorithm(), &parsed.to_bytes()).unwrap(), parsed);
    }

    #[test]
    fn format_aware_packages_round_trip(
        docker in docker_path(),
        group in "[a-z][a-z0-9_-]{0,8}(\\.[a-z][a-z0-9_-]{0,8}){0,3}",
        artifact in "[A-Za-z0-9_.-]{1,20}",
        scope in prop::option::of("[a-z0-9][a-z0-9-]{0,10}"),
        npm in "[a-z0-9][a-z0-9._~-]{0,30}",
        python in "[A-Za-z0-9]([A-Za-z0-9._-]{0,20}[A-Za-z0-9])?",
        go_domain in "[a-z0-9]{1,10}\\.[a-z]{2,5}",
        go_rest in prop::collection::vec("[A-Za-z0-9_~-]{1,8}", 0..3),
    ) {
        let maven = format!("{group}:{artifact}");
        let npm = match scope { Some(s) => format!("@{s}/{npm}"), None => npm };
        let go = std::iter::once(go_domain).chain(go_rest).collect::<Vec<_>>().join("/");
        for (format, input) in [
            (Format::Docker, &docker),
            (Format::Maven, &maven),
            (Format::Npm, &npm),
            (Format::Go, &go),
        ] {
            let id = PackageId::for_format(&format, input).unwrap();
            prop_assert_eq!(id.as_str(), input.as_str());
            prop_assert_eq!(PackageId::for_format(&format, id.as_str()).unwrap(), id);
        }
        // Python names are stored normalised; the normal form is a fixed point.
        let id = PackageId::for_format(&Format::Python, &python).unwrap();
        prop_assert!(id.as_str().chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        prop_assert!(!id.as_str().contains("--"));
        prop_assert_eq!(PackageId::for_format(&Format::Python, id.as_str()).unwrap(), id);
    }

    #[test]
    fn names_round_trip(
        p in project(),
        l in location(),
        r in repository(),
        pkg in generic_id(),
        v in generic_id(),
        t in "[A-Za-z0-9_][A-Za-z0-9_.:@~+=-]{0,30}",
        f in generic_id(),
        img in docker_path(),
        d in digest(),
    ) {
        let repo = RepositoryName::new(p.parse().unwrap(), l.parse().unwrap(), r.parse().unwrap());
        let loc_name: LocationName = repo.parent().to_string().parse().unwrap();
        prop_assert_eq!(&loc_name, repo.parent());
        prop_assert_eq!(repo.to_string().parse::<RepositoryName>().unwrap(), repo.clone());
        let package = repo.package(pkg.parse().unwrap());
        prop_assert_eq!(package.to_string().parse::<PackageName>().unwrap(), package.clone());
        let version = package.version(v.parse().unwrap());
        prop_assert_eq!(version.to_string().parse::<VersionName>().unwrap(), version.clone());
        let tag = package.tag(t.parse().unwrap());
        prop_assert_eq!(tag.to_string().parse::<TagName>().unwrap(), tag.clone());
        let file = repo.file(f.parse().unwrap());
        prop_assert_eq!(file.to_string().parse::<FileName>().unwrap(), file.clone());
        let image = repo.docker_image(img.parse().unwrap(), d.parse().unwrap());
        prop_assert_eq!(image.to_string().parse::<DockerImageName>().unwrap(), image);
        // An id never leaks a raw '/' into its name segment.
        prop_assert_eq!(version.to_string().split('/').count(), 10);
    }

    #[test]
    fn encoding_round_trips(s in "\\PC{0,40}") {
        let encoded = encode_id(&s);
        prop_assert!(!encoded.contains('/'));
        prop_assert_eq!(decode_id(&encoded).unwrap(), s.clone());
        // A client that encodes the name segment once more for the URL path reaches
        // the same name segment after the server's decode-once rule.
        let twice = encode_id(&encoded);
        prop_assert_eq!(decode_url_path(&twice).unwrap(), encoded.clone());
        // A client that sends the name segment as it is keeps its %2F.
        prop_assert_eq!(decode_url_path(&encoded).unwrap().matches("%2F").count(), s.matches('/').count());
    }

    #[test]
    fn references_round_trip(
        registry in prop_oneof![
            "[a-z]{1,8}(\\.[a-z]{2,6}){1,2}",
            "[a-z]{1,8}\\.[a-z]{2,4}:[1-9][0-9]{0,3}",
            Just("localhost".to_owned()),
            Just("127.0.0.1:5000".to_owned()),
            Just("[::1]:5000".to_owned()),
        ],
        path in docker_path(),
        tag in prop::option::of(docker_tag()),
        d in prop::option::of(digest()),
    ) {
        let mut text = format!("{registry}/{path}");
        if let Some(t) = &tag { text.push(':'); text.push_str(t); }
        if let Some(d) = &d { text.push('@'); text.push_str(d); }
        let r: ImageReference = text.parse().unwrap();
        prop_assert_eq!(r.registry(), registry.as_str());
        prop_assert_eq!(r.repository(), path.as_str());
        prop_assert_eq!(r.tag(), tag.as_deref());
        prop_assert_eq!(r.to_string(), text.clone());
        prop_assert_eq!(r.to_string().parse::<ImageReference>().unwrap(), r);
    }

    #[test]
    fn gar_references_round_trip(l in location(), p in "[a-z][a-z0-9-]{4,28}[a-z0-9]", r in repository(), img in docker_path(), tag in docker_tag()) {
        let text = format!("{l}-docker.pkg.dev/{p}/{r}/{img}:{tag}");
        let parsed: ImageReference = text.parse().unwrap();
        let gar = parsed.gar().unwrap();
        prop_assert_eq!(gar.location.as_str(), l.as_str());
        prop_assert_eq!(gar.image.as_str(), img.as_str());
        let back = ImageReference::for_gar(&gar.repository_name(), &gar.image, Some(&tag), None).unwrap();
        prop_assert_eq!(back, parsed);
    }

    #[test]
    fn time_round_trips(secs in -62_135_596_800i64..=253_402_300_799, nanos in 0u32..1_000_000_000, d_secs in 0u64..315_576_000_000, d_nanos in 0u32..1_000_000_000) {
        let t = Timestamp::from_unix(secs, nanos).unwrap();
        prop_assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
        let d = Duration::new(d_secs, d_nanos);
        prop_assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
    }

    #[test]
    fn bad_characters_are_named(
        p in "[a-z][a-z0-9-]{4,20}[a-z0-9]",
        r in "[a-z]([a-z0-9-]{0,40}[a-z0-9])?",
        bad in prop::sample::select(vec![' ', '%', '?', '#', '\\', '"', '\u{7}', 'é', '\n']),
        at in 0usize..64,
    ) {
        let (input, _) = with_bad_char(r, bad, at);
        let err = input.parse::<RepositoryId>().unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::InvalidRepository);
        prop_assert!(err.to_string().contains(&format!("{bad:?}")), "{}", err);
        let (input, _) = with_bad_char(p, bad, at);
        let err = input.parse::<ProjectId>().unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::InvalidProject);
        for (kind, result) in [
            (ErrorKind::InvalidPackage, input.parse::<PackageId>().map(|_| ())),
            (ErrorKind::InvalidVersion, input.parse::<VersionId>().map(|_| ())),
            (ErrorKind::InvalidFile, input.parse::<FileId>().map(|_| ())),
            (ErrorKind::InvalidTag, input.parse::<TagId>().map(|_| ())),
        ] {
            let err = result.unwrap_err();
            prop_assert_eq!(err.kind(), kind);
            prop_assert!(err.to_string().contains(&format!("{bad:?}")), "{}", err);
        }
    }

    #[test]
    fn traversal_is_refused(prefix in generic_id(), suffix in generic_id(), dots in prop::sample::select(vec![".", ".."])) {
        let input = format!("{prefix}/{dots}/{suffix}");
        for (kind, result) in [
            (ErrorKind::InvalidPackage, input.parse::<PackageId>().map(|_| ())),
            (ErrorKind::InvalidVersion, input.parse::<VersionId>().map(|_| ())),
            (ErrorKind::InvalidFile, input.parse::<FileId>().map(|_| ())),
        ] {
            let err = result.unwrap_err();
            prop_assert_eq!(err.kind(), kind);
            prop_assert!(err.to_string().contains("relative"), "{}", err);
        }
        // Through a resource name, encoded, it is refused the same way.
        let name = format!("projects/my-project/locations/us/repositories/r/files/{}", encode_id(&input));
        prop_assert_eq!(name.parse::<FileName>().unwrap_err().kind(), ErrorKind::InvalidFile);
    }

    #[test]
    fn wrong_digest_lengths_are_named(len in 0usize..200, algo in prop::sample::select(vec!["sha256", "sha512"])) {
        let expected = if algo == "sha256" { 64 } else { 128 };
        prop_assume!(len != expected);
        let input = format!("{algo}:{}", "a".repeat(len));
        let err = input.parse::<Digest>().unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::InvalidDigest);
        prop_assert!(err.to_string().contains(&format!("has {len} digits")), "{}", err);
    }

    #[test]
    fn over_long_input_is_refused(n in 1025usize..3000) {
        let long = "a".repeat(n);
        for (kind, result) in [
            (ErrorKind::InvalidPackage, long.parse::<PackageId>().map(|_| ())),
            (ErrorKind::InvalidVersion, long.parse::<VersionId>().map(|_| ())),
            (ErrorKind::InvalidFile, long.parse::<FileId>().map(|_| ())),
            (ErrorKind::InvalidTag, long.parse::<TagId>().map(|_| ())),
            (ErrorKind::InvalidRepository, long.parse::<RepositoryId>().map(|_| ())),
            (ErrorKind::InvalidProject, long.parse::<ProjectId>().map(|_| ())),
        ] {
            let err = result.unwrap_err();
            prop_assert_eq!(err.kind(), kind);
            prop_assert!(err.to_string().contains("characters long"), "{}", err);
            // The message shows a shortened input, not all of it.
            prop_assert!(err.to_string().len() < 400);
        }
        let err = format!("reg.io/{long}").parse::<ImageReference>().unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::InvalidReference);
    }

    #[test]
    fn unknown_locations_are_refused_with_suggestions(s in "[a-z]{1,12}(-[a-z]{1,10}[0-9])?") {
        prop_assume!(!MULTI_REGIONS.contains(&s.as_str()) && !REGIONS.contains(&s.as_str()));
        let err = s.parse::<Location>().unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::InvalidLocation);
        prop_assert!(err.to_string().contains(&format!("{s:?}")), "{}", err);
    }

    #[test]
    fn empty_input_is_refused_everywhere(_x in 0..1u8) {
        for (kind, result) in [
            (ErrorKind::InvalidProject, "".parse::<ProjectId>().map(|_| ())),
            (ErrorKind::InvalidRepository, "".parse::<RepositoryId>().map(|_| ())),
            (ErrorKind::InvalidPackage, "".parse::<PackageId>().map(|_| ())),
            (ErrorKind::InvalidVersion, "".parse::<VersionId>().map(|_| ())),
            (ErrorKind::InvalidTag, "".parse::<TagId>().map(|_| ())),
            (ErrorKind::InvalidFile, "".parse::<FileId>().map(|_| ())),
            (ErrorKind::InvalidDigest, "".parse::<Digest>().map(|_| ())),
            (ErrorKind::InvalidLocation, "".parse::<Location>().map(|_| ())),
            (ErrorKind::InvalidReference, "".parse::<ImageReference>().map(|_| ())),
            (ErrorKind::InvalidResourceName, "".parse::<RepositoryName>().map(|_| ())),
            (ErrorKind::InvalidArgument, "".parse::<Timestamp>().map(|_| ())),
            (ErrorKind::InvalidArgument, parse_duration("").map(|_| ())),
            (ErrorKind::InvalidArgument, "".parse::<BaseUrl>().map(|_| ())),
        ] {
            prop_assert_eq!(result.unwrap_err().kind(), kind);
        }
    }

    /// No parser panics, whatever it is given.
    #[test]
    fn parsers_never_panic(s in prop_oneof![".{0,300}", "\\PC{0,80}", "[a-z0-9/:@.%_-]{0,120}"]) {
        let _ = s.parse::<ProjectId>();
        let _ = s.parse::<RepositoryId>();
        let _ = s.parse::<PackageId>();
        for f in Format::KNOWN {
            let _ = PackageId::for_format(f, &s);
            let _ = VersionId::for_format(f, &s);
            let _ = TagId::for_format(f, &s);
        }
        let _ = s.parse::<VersionId>();
        let _ = s.parse::<TagId>();
        let _ = s.parse::<FileId>();
        let _ = s.parse::<Digest>();
        let _ = s.parse::<Location>();
        let _ = Location::custom(&s);
        let _ = s.parse::<LocationName>();
        let _ = s.parse::<RepositoryName>();
        let _ = s.parse::<PackageName>();
        let _ = s.parse::<VersionName>();
        let _ = s.parse::<TagName>();
        let _ = s.parse::<FileName>();
        let _ = s.parse::<DockerImageName>();
        let _ = s.parse::<ImageReference>();
        let _ = s.parse::<Timestamp>();
        let _ = s.parse::<BaseUrl>();
        let _ = parse_duration(&s);
        let _ = decode_id(&s);
        let _ = decode_url_path(&s);
        let _ = gar_core::Error::from_http(400, s.as_bytes(), None);
        let _ = gar_core::Error::from_oci(400, s.as_bytes(), None);
        let _ = serde_json::from_str::<Format>(&s);
        let _ = gar_core::cleanup::CleanupPolicies::from_gcloud_json(&s);
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&s) {
            let _ = gar_core::cleanup::CleanupPolicies::from_rest_value(&v);
        }
    }

    /// Names whose segments are parseable ids but in random order or count never panic
    /// and are refused with a resource-name or id error.
    #[test]
    fn shuffled_names_are_refused(segments in prop::collection::vec(prop_oneof![
        Just("projects"), Just("locations"), Just("repositories"), Just("packages"),
        Just("versions"), Just("tags"), Just("files"), Just("us"), Just("my-project"), Just("x"), Just("")
    ], 0..12)) {
        let s = segments.join("/");
        if let Err(e) = s.parse::<VersionName>() {
            prop_assert!(e.is_configuration(), "{:?}", e);
        }
        if let Err(e) = s.parse::<FileName>() {
            prop_assert!(e.is_configuration(), "{:?}", e);
        }
    }
}
