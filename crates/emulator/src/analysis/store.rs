//! Where occurrences, notes and scans live, how a scan finishes, paging, and
//! persistence (`analysis.json` beside the registry's `state.json`).
//!
//! Scans finish lazily: every call first moves each scan whose delay has passed
//! on the emulator's clock to FINISHED_SUCCESS and adds its vulnerability
//! occurrences, so advancing the clock (`POST /_emulator/clock`) is all a test
//! needs to do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gar_proto::grafeas::v1::discovery_occurrence::{AnalysisCompleted, AnalysisStatus};
use gar_proto::grafeas::v1::note;
use gar_proto::grafeas::v1::occurrence::Details;
use gar_proto::grafeas::v1::{DiscoveryNote, Note, NoteKind, Occurrence, SbomReferenceNote};
use gar_proto::wkt::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rules::{self, InstalledPackage, SbomFormat};
use super::seed::{DEFAULT_SCAN_DELAY_SECONDS, SeedAnalysis, VulnerabilityRule};
use crate::blobs::{random_hex, write_atomic};
use crate::state::lock;
use crate::{Error, Result};

/// The project of the analysis notes (DISCOVERY, SBOM references).
pub(crate) const ANALYSIS_PROJECT: &str = "goog-analysis";
/// The note of every vulnerability-scan DISCOVERY occurrence.
pub(crate) const DISCOVERY_NOTE: &str = "projects/goog-analysis/notes/PACKAGE_VULNERABILITY";

/// The note of SBOM references of `format`.
pub(crate) fn sbom_note_name(format: SbomFormat) -> String {
    format!(
        "projects/{ANALYSIS_PROJECT}/notes/sbom-reference-{}",
        format.name()
    )
}

/// A timestamp at `secs` past the epoch.
pub(crate) fn at(secs: i64) -> Timestamp {
    Timestamp {
        seconds: secs,
        nanos: 0,
    }
}

/// The analysis of one pushed image.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Scan {
    /// The project whose occurrences it writes.
    pub project: String,
    /// Its DISCOVERY occurrence.
    pub discovery: String,
    /// When it started (emulator clock, Unix seconds).
    pub started: i64,
    /// The packages found so far.
    pub packages: Vec<InstalledPackage>,
    /// Whether it has finished.
    pub finished: bool,
}

/// Everything the services hold.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Store {
    /// Notes by full name.
    pub notes: BTreeMap<String, Note>,
    /// Occurrences by full name.
    pub occurrences: BTreeMap<String, Occurrence>,
    /// Scans by resource URI.
    pub scans: BTreeMap<String, Scan>,
    /// Set by every change; tells the caller to save.
    #[serde(skip)]
    pub changed: bool,
}

/// A fresh occurrence name in `project`: `projects/{project}/occurrences/{uuid}`.
pub(crate) fn new_occurrence_name(project: &str) -> String {
    let hex = random_hex(16);
    let part = |a: usize, b: usize| hex.get(a..b).unwrap_or_default();
    format!(
        "projects/{project}/occurrences/{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}

/// The kind its details imply, for occurrences and notes sent without one.
pub(crate) fn kind_of_details(details: Option<&Details>) -> NoteKind {
    match details {
        Some(Details::Vulnerability(_)) => NoteKind::Vulnerability,
        Some(Details::Package(_)) => NoteKind::Package,
        Some(Details::Discovery(_)) => NoteKind::Discovery,
        Some(Details::SbomReference(_)) => NoteKind::SbomReference,
        None => NoteKind::Unspecified,
    }
}

/// The kind its type implies.
pub(crate) fn kind_of_note_type(t: Option<&note::Type>) -> NoteKind {
    match t {
        Some(note::Type::Vulnerability(_)) => NoteKind::Vulnerability,
        Some(note::Type::Package(_)) => NoteKind::Package,
        Some(note::Type::Discovery(_)) => NoteKind::Discovery,
        Some(note::Type::SbomReference(_)) => NoteKind::SbomReference,
        None => NoteKind::Unspecified,
    }
}

impl Store {
    /// Adds `note` unless one of that name exists.
    fn ensure_note(&mut self, note: Note) {
        if !self.notes.contains_key(&note.name) {
            self.notes.insert(note.name.clone(), note);
            self.changed = true;
        }
    }

    /// Finishes every scan whose delay has passed at `now`.
    pub(crate) fn finish_due(&mut self, now: i64, delay: i64, rules: &[VulnerabilityRule]) {
        let due: Vec<String> = self
            .scans
            .iter()
            .filter(|(_, s)| !s.finished && s.started.saturating_add(delay) <= now)
            .map(|(uri, _)| uri.clone())
            .collect();
        for uri in due {
            let Some(scan) = self.scans.get_mut(&uri) else {
                continue;
            };
            scan.finished = true;
            let done = at(scan.started.saturating_add(delay));
            let (project, discovery, packages) = (
                scan.project.clone(),
                scan.discovery.clone(),
                scan.packages.clone(),
            );
            if let Some(occ) = self.occurrences.get_mut(&discovery)
                && let Some(Details::Discovery(d)) = &mut occ.details
            {
                d.analysis_status = AnalysisStatus::FinishedSuccess as i32;
                d.last_scan_time = Some(done);
                d.analysis_completed = Some(AnalysisCompleted {
                    analysis_type: vec!["OS".to_owned()],
                });
                occ.update_time = Some(done);
            }
            self.add_vulnerabilities(&project, &uri, &packages, rules, done);
            self.changed = true;
        }
    }

    /// Adds a VULNERABILITY occurrence on `uri` for every rule that affects one of
    /// `packages`, unless the same finding is already there.
    pub(crate) fn add_vulnerabilities(
        &mut self,
        project: &str,
        uri: &str,
        packages: &[InstalledPackage],
        rules: &[VulnerabilityRule],
        when: Timestamp,
    ) {
        for package in packages {
            for rule in rules.iter().filter(|r| rules::affects(r, package)) {
                let note_name = rules::note_name(&rule.id);
                let known = self.occurrences.values().any(|o| {
                    o.resource_uri == uri
                        && o.note_name == note_name
                        && matches!(&o.details, Some(Details::Vulnerability(v))
                            if v.package_issue.iter().any(|p| p.affected_package == package.name))
                });
                if known {
                    continue;
                }
                let name = new_occurrence_name(project);
                self.occurrences.insert(
                    name.clone(),
                    Occurrence {
                        name,
                        resource_uri: uri.to_owned(),
                        note_name,
                        kind: NoteKind::Vulnerability as i32,
                        remediation: rule
                            .fixed
                            .as_ref()
                            .map(|f| format!("Upgrade {} to {f} or later.", rule.package))
                            .unwrap_or_default(),
                        create_time: Some(when),
                        update_time: Some(when),
                        details: Some(Details::Vulnerability(rules::vulnerability_details(
                            rule, package,
                        ))),
                    },
                );
                self.changed = true;
            }
        }
    }
}

/// The Grafeas and Container Analysis services' data and settings.
#[derive(Debug)]
pub(crate) struct Analysis {
    store: Mutex<Store>,
    rules: Vec<VulnerabilityRule>,
    delay: i64,
    path: Option<PathBuf>,
    order: tokio::sync::Mutex<()>,
}

/// The project an occurrence sent without a name goes to: its `parent`, else
/// the project of its `pkg.dev` resource URL.
fn seed_project(value: &Value, occ: &Occurrence) -> Option<String> {
    if let Some(parent) = value.get("parent").and_then(Value::as_str) {
        return parent
            .strip_prefix("projects/")
            .map(|p| p.split('/').next().unwrap_or(p).to_owned());
    }
    let rest = occ.resource_uri.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/')?;
    host.ends_with(".pkg.dev")
        .then(|| path.split('/').next().map(str::to_owned))
        .flatten()
}

fn seeded(seed: &SeedAnalysis, now: Timestamp) -> Result<Store> {
    let mut store = Store::default();
    for (i, v) in seed.notes.iter().enumerate() {
        let mut n: Note = gar_proto::json::from_value("grafeas.v1.Note", v.clone())
            .map_err(|e| Error::new(format!("seed analysis.notes[{i}]: {e}")))?;
        let ok = n.name.strip_prefix("projects/").is_some_and(|rest| {
            let parts: Vec<&str> = rest.split('/').collect();
            parts.len() == 3 && parts.get(1) == Some(&"notes")
        });
        if !ok {
            return Err(Error::new(format!(
                "seed analysis.notes[{i}]: name {:?} is not projects/{{p}}/notes/{{id}}",
                n.name
            )));
        }
        if n.kind == 0 {
            n.kind = kind_of_note_type(n.r#type.as_ref()) as i32;
        }
        n.create_time.get_or_insert(now);
        n.update_time.get_or_insert(now);
        store.notes.insert(n.name.clone(), n);
    }
    for (i, v) in seed.occurrences.iter().enumerate() {
        let mut o: Occurrence = gar_proto::json::from_value("grafeas.v1.Occurrence", v.clone())
            .map_err(|e| Error::new(format!("seed analysis.occurrences[{i}]: {e}")))?;
        if o.name.is_empty() {
            let project = seed_project(v, &o).ok_or_else(|| {
                Error::new(format!(
                    "seed analysis.occurrences[{i}]: give a name, a parent or a pkg.dev resourceUri"
                ))
            })?;
            o.name = new_occurrence_name(&project);
        }
        if o.kind == 0 {
            o.kind = kind_of_details(o.details.as_ref()) as i32;
        }
        if o.kind == 0 {
            return Err(Error::new(format!(
                "seed analysis.occurrences[{i}]: give a kind or details"
            )));
        }
        o.create_time.get_or_insert(now);
        o.update_time.get_or_insert(now);
        store.occurrences.insert(o.name.clone(), o);
    }
    Ok(store)
}

impl Analysis {
    /// The services' state: loaded from `data_dir/analysis.json` when it exists,
    /// else from the seed. Rules and the delay always come from the seed.
    pub(crate) fn new(seed: Option<&SeedAnalysis>, data_dir: Option<&Path>) -> Result<Self> {
        let default = SeedAnalysis::default();
        let seed = seed.unwrap_or(&default);
        for rule in &seed.vulnerability_rules {
            rules::validate(rule).map_err(|e| Error::new(format!("seed analysis: {e}")))?;
        }
        let path = data_dir.map(|d| d.join("analysis.json"));
        let now = Timestamp::from_core(gar_core::protojson::Timestamp::now());
        let saved = match &path {
            Some(p) => match std::fs::read(p) {
                Ok(bytes) => Some(
                    serde_json::from_slice::<Store>(&bytes)
                        .map_err(|e| Error::new(format!("cannot load {}: {e}", p.display())))?,
                ),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(Error::io(format!("cannot read {}", p.display()), e)),
            },
            None => None,
        };
        let fresh = saved.is_none();
        let mut store = match saved {
            Some(s) => s,
            None => seeded(seed, now)?,
        };
        store.ensure_note(Note {
            name: DISCOVERY_NOTE.to_owned(),
            short_description: "Package vulnerability scanning".to_owned(),
            kind: NoteKind::Discovery as i32,
            create_time: Some(now),
            update_time: Some(now),
            r#type: Some(note::Type::Discovery(DiscoveryNote {
                analysis_kind: NoteKind::Vulnerability as i32,
            })),
            ..Note::default()
        });
        for format in [SbomFormat::Spdx, SbomFormat::CycloneDx] {
            store.ensure_note(Note {
                name: sbom_note_name(format),
                short_description: format!("{} SBOM", format.name()),
                kind: NoteKind::SbomReference as i32,
                create_time: Some(now),
                update_time: Some(now),
                r#type: Some(note::Type::SbomReference(SbomReferenceNote {
                    format: format.name().to_owned(),
                    version: String::new(),
                })),
                ..Note::default()
            });
        }
        for rule in &seed.vulnerability_rules {
            let mut n = rules::vulnerability_note(rule);
            n.create_time = Some(now);
            n.update_time = Some(now);
            store.ensure_note(n);
        }
        if fresh
            && let Some(o) = store
                .occurrences
                .values()
                .find(|o| !store.notes.contains_key(&o.note_name))
        {
            return Err(Error::new(format!(
                "seed analysis: occurrence on {} refers to the note {:?}, which neither the seed's notes nor its vulnerability rules declare",
                o.resource_uri, o.note_name
            )));
        }
        store.changed = false;
        let delay = seed
            .scan_delay_seconds
            .unwrap_or(DEFAULT_SCAN_DELAY_SECONDS);
        Ok(Self {
            store: Mutex::new(store),
            rules: seed.vulnerability_rules.clone(),
            delay: i64::try_from(delay).unwrap_or(i64::MAX),
            path,
            order: tokio::sync::Mutex::new(()),
        })
    }

    /// The vulnerability rules.
    pub(crate) fn rules(&self) -> &[VulnerabilityRule] {
        &self.rules
    }

    /// Runs `f` on the store after finishing the scans due at `now`; returns its
    /// result and whether anything changed (then call [`Analysis::save`]).
    pub(crate) fn with<R>(&self, now: i64, f: impl FnOnce(&mut Store) -> R) -> (R, bool) {
        let mut store: MutexGuard<'_, Store> = lock(&self.store);
        store.changed = false;
        store.finish_due(now, self.delay, &self.rules);
        let r = f(&mut store);
        let changed = store.changed;
        store.changed = false;
        (r, changed)
    }

    /// Writes the store under the data directory, if there is one; failures are
    /// reported on stderr. Saves are serialised and each snapshots the latest state.
    pub(crate) async fn save(&self) {
        let Some(path) = &self.path else {
            return;
        };
        let _order = self.order.lock().await;
        let bytes = match serde_json::to_vec(&*lock(&self.store)) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("gar-emulator: could not encode the analysis state: {e}");
                return;
            }
        };
        let path = path.clone();
        let written = tokio::task::spawn_blocking(move || write_atomic(&path, &bytes)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("gar-emulator: could not save the analysis state: {e}"),
            Err(e) => eprintln!("gar-emulator: could not save the analysis state: {e}"),
        }
    }
}

/// One page of `items` (already filtered, in name order): at most `page_size`
/// (20 when 0, at most 1000) after the name the token holds.
pub(crate) fn page<'a, T: Clone + 'a>(
    items: impl Iterator<Item = (&'a String, &'a T)>,
    page_size: i32,
    token: &str,
) -> std::result::Result<(Vec<T>, String), String> {
    if page_size < 0 {
        return Err(format!("page size {page_size} is negative"));
    }
    let size = match page_size {
        0 => 20,
        n => usize::try_from(n).unwrap_or(1000).min(1000),
    };
    let after = if token.is_empty() {
        None
    } else {
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| format!("invalid page token {token:?}"))?;
        Some(String::from_utf8(bytes).map_err(|_| format!("invalid page token {token:?}"))?)
    };
    let mut out: Vec<(&String, &T)> = items
        .filter(|(name, _)| after.as_ref().is_none_or(|a| name.as_str() > a.as_str()))
        .take(size.saturating_add(1))
        .collect();
    let next = if out.len() > size {
        out.truncate(size);
        out.last()
            .map(|(name, _)| URL_SAFE_NO_PAD.encode(name.as_bytes()))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok((out.into_iter().map(|(_, v)| v.clone()).collect(), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_names_and_refuse_bad_tokens() {
        let items: BTreeMap<String, u32> = (0..45).map(|i| (format!("n{i:02}"), i)).collect();
        let mut token = String::new();
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let (got, next) = page(items.iter(), 0, &token).unwrap();
            pages += 1;
            seen.extend(got);
            if next.is_empty() {
                break;
            }
            token = next;
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, (0..45).collect::<Vec<_>>());
        let (all, next) = page(items.iter(), 5000, "").unwrap();
        assert_eq!((all.len(), next.as_str()), (45, ""));
        assert!(page(items.iter(), -1, "").is_err());
        assert!(page(items.iter(), 1, "%%%").is_err());
    }

    #[test]
    fn seeds_are_checked() {
        let ok = Analysis::new(Some(&SeedAnalysis::demo()), None).unwrap();
        assert_eq!(ok.rules().len(), 5);
        let (notes, _) = ok.with(0, |s| s.notes.len());
        assert_eq!(notes, 5 + 3, "rule notes, discovery and two SBOM notes");
        let mut bad = SeedAnalysis::demo();
        bad.vulnerability_rules[0].severity = "SEVERE".into();
        assert!(Analysis::new(Some(&bad), None).is_err());
        let mut dangling = SeedAnalysis::default();
        dangling.occurrences.push(serde_json::json!({
            "resourceUri": "https://us-docker.pkg.dev/p/r/i@sha256:00",
            "noteName": "projects/p/notes/missing", "kind": "BUILD"
        }));
        assert!(Analysis::new(Some(&dangling), None).is_err());
        let mut nameless = SeedAnalysis::default();
        nameless.occurrences.push(serde_json::json!({
            "resourceUri": "https://example.com/x",
            "noteName": DISCOVERY_NOTE
        }));
        assert!(
            Analysis::new(Some(&nameless), None).is_err(),
            "no project to put it in"
        );
        nameless.occurrences[0]["parent"] = serde_json::json!("projects/p");
        assert!(Analysis::new(Some(&nameless), None).is_err(), "no kind");
        nameless.occurrences[0]["discovery"] = serde_json::json!({"analysisStatus": "COMPLETE"});
        let a = Analysis::new(Some(&nameless), None).unwrap();
        let (o, _) = a.with(0, |s| s.occurrences.values().next().cloned().unwrap());
        assert!(o.name.starts_with("projects/p/occurrences/"));
        assert_eq!(o.kind, NoteKind::Discovery as i32, "implied by the details");
    }

    #[test]
    fn a_scan_finishes_once_its_delay_has_passed() {
        let rules = vec![VulnerabilityRule {
            id: "CVE-1".into(),
            package: "openssl".into(),
            fixed: Some("3.0.8".into()),
            severity: "HIGH".into(),
            ..VulnerabilityRule::default()
        }];
        let mut s = Store::default();
        let discovery = new_occurrence_name("p");
        s.occurrences.insert(
            discovery.clone(),
            Occurrence {
                name: discovery.clone(),
                resource_uri: "u".into(),
                kind: NoteKind::Discovery as i32,
                details: Some(Details::Discovery(Default::default())),
                ..Default::default()
            },
        );
        s.scans.insert(
            "u".into(),
            Scan {
                project: "p".into(),
                discovery: discovery.clone(),
                started: 100,
                packages: vec![InstalledPackage {
                    name: "openssl".into(),
                    version: "3.0.1".into(),
                }],
                finished: false,
            },
        );
        s.finish_due(129, 30, &rules);
        assert!(!s.changed);
        assert_eq!(s.occurrences.len(), 1);
        s.finish_due(130, 30, &rules);
        assert!(s.changed);
        assert_eq!(s.occurrences.len(), 2);
        let Some(Details::Discovery(d)) = &s.occurrences[&discovery].details else {
            panic!("not a discovery");
        };
        assert_eq!(d.analysis_status, AnalysisStatus::FinishedSuccess as i32);
        assert_eq!(d.last_scan_time, Some(at(130)));
        // The same findings are not added twice.
        let packages = s.scans["u"].packages.clone();
        s.add_vulnerabilities("p", "u", &packages, &rules, at(200));
        assert_eq!(s.occurrences.len(), 2);
        assert!(new_occurrence_name("p").starts_with("projects/p/occurrences/"));
        assert_eq!(
            new_occurrence_name("p").len(),
            "projects/p/occurrences/".len() + 36
        );
    }
}
