//! Hygiene checks that run as ordinary tests (`cargo test -p xtask`).

#[cfg(test)]
mod tests {
    use crate::root;
    use std::path::{Path, PathBuf};

    /// Every Cargo manifest of the workspace's crates.
    fn manifests() -> Vec<PathBuf> {
        let root = root();
        let mut out = vec![root.join("xtask/Cargo.toml")];
        for dir in ["crates", "bindings"] {
            if let Ok(entries) = std::fs::read_dir(root.join(dir)) {
                for e in entries.flatten() {
                    let m = e.path().join("Cargo.toml");
                    if m.exists() {
                        out.push(m);
                    }
                }
            }
        }
        out
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name()
                    .is_some_and(|n| n != "target" && n != "node_modules")
                {
                    rust_files(&p, out);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// The napi crate: napi-derive's generated code carries `#[allow(unsafe_code)]`,
    /// which the workspace's `forbid` rejects, so it copies the lints instead.
    const NAPI_CRATE: &str = "bindings/node/Cargo.toml";

    /// `name = "level"` lines of a TOML section.
    fn lint_levels(text: &str, section: &str) -> Vec<(String, String)> {
        let Some(body) = text.split(&format!("{section}\n")).nth(1) else {
            return Vec::new();
        };
        body.split("\n[")
            .next()
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
            .collect()
    }

    #[test]
    fn the_napi_crate_copies_the_workspace_lints_but_unsafe_code_is_deny() {
        let root_text = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
        let napi = std::fs::read_to_string(root().join(NAPI_CRATE)).unwrap();
        for (workspace, own) in [
            ("[workspace.lints.rust]", "[lints.rust]"),
            ("[workspace.lints.clippy]", "[lints.clippy]"),
        ] {
            let mut expected = lint_levels(&root_text, workspace);
            assert!(!expected.is_empty(), "{workspace} not found");
            for (name, level) in &mut expected {
                if name == "unsafe_code" {
                    *level = "deny".to_owned();
                }
            }
            let mut got = lint_levels(&napi, own);
            expected.sort();
            got.sort();
            assert_eq!(
                got, expected,
                "{NAPI_CRATE} {own} must equal {workspace} (unsafe_code = \"deny\")"
            );
        }
    }

    #[test]
    fn every_crate_uses_the_workspace_lints() {
        for manifest in manifests() {
            if manifest.ends_with(NAPI_CRATE) {
                continue;
            }
            let text = std::fs::read_to_string(&manifest).unwrap();
            assert!(
                text.contains("[lints]\nworkspace = true"),
                "{} must opt in to the workspace lints with `[lints] workspace = true`",
                manifest.display()
            );
        }
    }

    #[test]
    fn every_crate_is_a_workspace_member() {
        let text = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
        let members = text
            .split("members = [")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .unwrap();
        for manifest in manifests() {
            let dir = manifest.parent().unwrap().strip_prefix(root()).unwrap();
            let dir = dir.to_string_lossy().replace('\\', "/");
            assert!(
                members.contains(&format!("\"{dir}\"")),
                "{dir} is not in the workspace members, so nothing builds or tests it"
            );
        }
    }

    #[test]
    fn workspace_dependencies_leave_default_features_off() {
        let text = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
        let section = text
            .split("[workspace.dependencies]")
            .nth(1)
            .and_then(|rest| rest.split("\n[").next())
            .unwrap();
        for line in section.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.contains("path =") {
                continue;
            }
            assert!(
                line.contains("default-features = false"),
                "workspace dependency without `default-features = false`: {line}"
            );
        }
    }

    #[test]
    fn no_placeholders_or_ignored_tests() {
        let root = root();
        let mut files = Vec::new();
        for dir in ["crates", "bindings", "tests", "xtask"] {
            rust_files(&root.join(dir), &mut files);
        }
        assert!(!files.is_empty());
        // Built from pieces so that this file does not trip its own check.
        let banned = [
            format!("{}!(", "todo"),
            format!("{}!(", "unimplemented"),
            format!("#[{}", "ignore"),
        ];
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for needle in &banned {
                assert!(
                    !text.contains(needle.as_str()),
                    "{} contains `{needle}`: finish it or remove it",
                    file.display()
                );
            }
        }
    }
}
