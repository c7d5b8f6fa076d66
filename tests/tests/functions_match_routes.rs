//! Every route of the API has exactly one Lambda function crate, named after
//! its action, whose `main` serves that action; and every function crate
//! serves a route or is one of the known event-driven functions.

use inbox_http::Action;
use inbox_tests::infra::catalogue::{
    CHANNEL_ROUTES, PUBLISHER_FUNCTION, SWEEP_FUNCTION, WORKER_FUNCTION,
};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The dev server lives in `functions/` too, but is not a Lambda function.
const NOT_LAMBDA: [&str; 1] = ["inbox-dev"];

fn functions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../functions")
}

fn function_crates() -> BTreeSet<String> {
    std::fs::read_dir(functions_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !NOT_LAMBDA.contains(&n.as_str()))
        .collect()
}

#[test]
fn every_action_has_its_function_serving_it() {
    for action in Action::ALL {
        let name = action.function_name();
        let dir = functions_dir().join(name);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_else(|_| {
            panic!(
                "{name}: no function crate for {} {}",
                action.method(),
                action.path()
            )
        });
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name}: package/bin not named after the action"
        );
        let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
        let serves = format!("inbox_http::Action::{action:?})");
        assert!(
            main.contains(&serves),
            "{name}: main does not serve Action::{action:?}"
        );
        assert_eq!(Action::from_function_name(name), Some(*action));
    }
}

#[test]
fn every_function_serves_a_route_or_an_event_source() {
    let mut expected: BTreeSet<String> = Action::ALL
        .iter()
        .map(|a| a.function_name().to_string())
        .collect();
    expected.extend(CHANNEL_ROUTES.iter().map(|r| r.2.to_string()));
    expected.extend([SWEEP_FUNCTION, WORKER_FUNCTION, PUBLISHER_FUNCTION].map(String::from));
    let found = function_crates();
    let missing: Vec<_> = expected.difference(&found).collect();
    let unknown: Vec<_> = found.difference(&expected).collect();
    assert!(
        missing.is_empty(),
        "routes or event sources without a function crate: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "function crates that serve nothing known: {unknown:?}"
    );
}
