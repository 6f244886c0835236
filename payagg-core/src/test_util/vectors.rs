//! Where the shared test vectors are: one rule for every test in the workspace.
//!
//! Self-contained (std only): payagg-core's own integration tests include this file with
//! `#[path]`, since they cannot turn on the crate's `test-util` feature.

use std::path::{Path, PathBuf};

/// The shared test-vector folder (`…/vectors`, holding `wechat/`, `alipay/`, `unionpay/`):
///
/// 1. `$PAYAGG_VECTORS` when the variable is set, as it is: a file missing there fails the
///    test that reads it.
/// 2. Else `shared/vectors` beside the workspace root (`../shared/vectors` from the root,
///    the nearest ancestor of `manifest_dir` whose `Cargo.toml` has a `[workspace]` table),
///    when that folder exists; a file missing there fails too.
/// 3. Else `None`, after printing on stderr that `what` is skipped and why.
///
/// Pass `env!("CARGO_MANIFEST_DIR")` as `manifest_dir`.
#[must_use]
pub fn vectors_dir(manifest_dir: &str, what: &str) -> Option<PathBuf> {
    match resolve(std::env::var_os("PAYAGG_VECTORS"), Path::new(manifest_dir)) {
        Found::Variable(dir) => Some(dir),
        Found::Beside(dir) => {
            eprintln!("{what}: PAYAGG_VECTORS is not set, using {}", dir.display());
            Some(dir)
        }
        Found::Neither(why) => {
            eprintln!("skipping {what}: PAYAGG_VECTORS is not set and {why}");
            None
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Found {
    Variable(PathBuf),
    Beside(PathBuf),
    Neither(String),
}

fn resolve(var: Option<std::ffi::OsString>, manifest_dir: &Path) -> Found {
    if let Some(dir) = var {
        return Found::Variable(PathBuf::from(dir));
    }
    let Some(root) = workspace_root(manifest_dir) else {
        return Found::Neither(format!(
            "no workspace root above {}",
            manifest_dir.display()
        ));
    };
    let shared = root
        .parent()
        .unwrap_or(&root)
        .join("shared")
        .join("vectors");
    if shared.is_dir() {
        Found::Beside(shared)
    } else {
        Found::Neither(format!("{} does not exist", shared.display()))
    }
}

/// The nearest ancestor of `dir` (itself included) whose `Cargo.toml` declares a workspace.
fn workspace_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| {
            std::fs::read_to_string(d.join("Cargo.toml"))
                .is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_root_is_found_from_a_member() {
        let member = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = workspace_root(member);
        assert_eq!(root.as_deref(), member.parent());
    }

    #[test]
    fn the_variable_wins_then_the_folder_beside_the_workspace_then_nothing() {
        let tmp = std::env::temp_dir().join(format!("payagg-vectors-{}", std::process::id()));
        let ws = tmp.join("repo");
        let member = ws.join("payagg-x");
        std::fs::create_dir_all(&member).unwrap();
        std::fs::write(ws.join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
        std::fs::write(member.join("Cargo.toml"), "[package]\n").unwrap();
        // Set: taken as it is, even when missing (reading a file there then fails).
        assert_eq!(
            resolve(Some("/nowhere".into()), &member),
            Found::Variable("/nowhere".into())
        );
        // Unset, no shared/vectors beside the workspace: skipped, saying where it looked.
        let Found::Neither(why) = resolve(None, &member) else {
            panic!("expected no vectors");
        };
        assert!(why.contains("shared"), "{why}");
        // Unset, the folder exists: used.
        std::fs::create_dir_all(tmp.join("shared/vectors")).unwrap();
        assert_eq!(
            resolve(None, &member),
            Found::Beside(tmp.join("shared").join("vectors"))
        );
        // No workspace above at all.
        assert!(matches!(resolve(None, Path::new("/")), Found::Neither(_)));
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
