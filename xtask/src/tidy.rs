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

    #[test]
    fn every_crate_uses_the_workspace_lints() {
        for manifest in manifests() {
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
