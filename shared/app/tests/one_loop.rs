//! There is one read-decide-commit loop: the application layer's. Outside
//! `shared/app` (and the store's own adapters), no product code sends a
//! commit, a contact update or a just-in-time provisioning, and none keeps a
//! retry budget of its own. Tests, examples and the store's contract kit are
//! fixtures and may write directly.

use std::path::{Path, PathBuf};

/// Calls that write a decision: only the application layer makes them.
const WRITES: [&str; 3] = [".commit(", ".update_contact(", ".provision_member("];
/// What a second retry loop would be built from.
const LOOPS: [&str; 2] = ["MAX_ATTEMPTS", "..MAX_"];

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            // Fixtures and harnesses, not product code.
            if !matches!(
                name.as_str(),
                "tests" | "examples" | "benches" | "fuzz" | "testkit" | "target"
            ) {
                rust_files(&p, out);
            }
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

/// Product code: every `src/` of `shared/` and `functions/` but the application
/// layer itself and the store (whose adapters implement the writes).
fn product_files() -> Vec<PathBuf> {
    let root = workspace();
    let mut files = Vec::new();
    for top in ["shared", "functions"] {
        let Ok(crates) = std::fs::read_dir(root.join(top)) else {
            continue;
        };
        for c in crates.filter_map(Result::ok) {
            let name = c.file_name().to_string_lossy().into_owned();
            if top == "shared" && (name == "app" || name == "store") {
                continue;
            }
            rust_files(&c.path().join("src"), &mut files);
        }
    }
    files
}

/// The code of `text` without `#[cfg(test)]` modules and comments.
fn code_of(text: &str) -> String {
    let code = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn only_the_application_layer_writes_decisions() {
    let files = product_files();
    assert!(files.len() > 20, "found only {} product files", files.len());
    let mut found = Vec::new();
    for f in &files {
        let code = code_of(&std::fs::read_to_string(f).expect("readable"));
        for needle in WRITES.iter().chain(LOOPS.iter()) {
            if code.contains(needle) {
                found.push(format!("{}: {needle}", f.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "a read-decide-commit loop outside shared/app; run the command through App::execute:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_guard_sees_a_loop_when_there_is_one() {
    let sneaky = "async fn f() { for _ in 0..MAX_ATTEMPTS { store.commit(c).await; } }";
    assert!(WRITES.iter().any(|n| code_of(sneaky).contains(n)));
    assert!(LOOPS.iter().any(|n| code_of(sneaky).contains(n)));
    let tested = "fn ok() {}\n#[cfg(test)]\nmod t { fn x() { s.commit(c); } }";
    assert!(!WRITES.iter().any(|n| code_of(tested).contains(n)));
}
