//! The one Lambda binary: `functions/` holds it and the dev server only, its
//! catalogue serves every route exactly once, and it links no SQLite, no
//! contract test kit and no proptest.

use inbox_http::Action;
use inbox_runtime::Function;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn functions_holds_the_lambda_binary_and_the_dev_server_only() {
    let crates: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .expect("functions/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        crates,
        BTreeSet::from(["inbox-dev".to_string(), "lambda".to_string()]),
        "a function is a catalogue entry of functions/lambda, not a crate of its own"
    );
}

#[test]
fn every_route_is_served_by_exactly_one_catalogue_function() {
    let all = Function::all();
    for &action in Action::ALL {
        let serving: Vec<&str> = all
            .iter()
            .filter(|f| f.routes().contains(&action))
            .map(|f| f.name())
            .collect();
        assert_eq!(
            serving,
            vec![action.function_name()],
            "{} {}",
            action.method(),
            action.path()
        );
    }
    // Background functions serve no route; every HTTP function serves one at least.
    for f in all {
        match f {
            Function::Http(_) => assert!(!f.routes().is_empty(), "{}", f.name()),
            _ => assert!(f.routes().is_empty(), "{}", f.name()),
        }
    }
}

#[test]
fn the_lambda_binary_links_no_sqlite_testkit_or_proptest() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        .args([
            "tree",
            "-p",
            "inbox-lambda",
            "-e",
            "normal,features",
            "--prefix",
            "none",
            "--locked",
            "--offline",
        ])
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("inbox-runtime"), "{tree}");
    assert!(tree.contains("aws-sdk-dynamodb"), "{tree}");
    let crates: BTreeSet<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for banned in ["rusqlite", "libsqlite3-sys", "proptest"] {
        assert!(
            !crates.contains(banned),
            "the Lambda binary links {banned}:\n{tree}"
        );
    }
    for feature in ["sqlite", "testkit"] {
        let line = format!("inbox-store feature \"{feature}\"");
        assert!(
            !tree.contains(&line),
            "the Lambda binary's store has {feature}:\n{tree}"
        );
    }
}
