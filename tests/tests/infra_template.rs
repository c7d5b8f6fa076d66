//! Checks of `infra/template.yaml` against the code, offline: cfn-lint, the
//! generated block, functions and routes, the table, least-privilege IAM,
//! queues, schedule, stream, alarms, logs and outputs.

use inbox_http::Action;
use inbox_runtime::{FUNCTION_ENV, Function};
use inbox_store::dynamo::table::{
    TIMERS, TTL_ATTRIBUTE, create_table_input,
    keys::{API_KEY_PREFIX, LIVE_PREFIX, OUTBOX_PREFIX},
};
use inbox_tests::infra::catalogue::{
    AI_AGENT_FUNCTION, AUTHORIZER_FUNCTION, DISPATCH_FUNCTION, JOB_WORKER_FUNCTION,
    LIVE_AUTHORIZER_FUNCTION, LIVE_FUNCTION, PUBLISHER_FUNCTION, READ_ONLY_POSTS, REPLAY_FUNCTION,
    SENDER_FUNCTION, SWEEP_FUNCTION, WEBHOOK_SENDER_FUNCTION, WORKER_FUNCTION, all_routes,
};

/// The HTTP functions whose work on many conversations continues as a job
/// (the contract's "Work that touches many conversations"), by name.
const FAN_OUT_FUNCTIONS: [&str; 7] = [
    "member-delete",
    "team-delete",
    "agent-delete",
    "contact-patch",
    "contact-block",
    "contact-unblock",
    "conversation-export-start",
];
/// The function that presigns export links.
const EXPORT_LINK_FUNCTION: &str = "conversation-export-get";
use inbox_tests::infra::generate::{TABLE_READ_ACTIONS, TABLE_UPDATE_ACTIONS, expected_template};
use inbox_tests::infra::template::{as_list, load, referenced_ids, resources, resources_of_type};
use inbox_tests::infra::{template_path, workspace_root};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

const CFN_LINT_VERSION: &str = "1.41.0";

fn template() -> Value {
    load(&template_path()).unwrap_or_else(|e| panic!("cannot read the template: {e}"))
}

fn resource<'a>(t: &'a Value, id: &str) -> &'a Value {
    resources(t)
        .get(id)
        .unwrap_or_else(|| panic!("the template has no resource {id}"))
}

fn props<'a>(t: &'a Value, id: &str) -> &'a Value {
    &resource(t, id)["Properties"]
}

/// Function resources by the catalogue function they run (their `INBOX_FUNCTION`).
fn functions_by_binary(t: &Value) -> BTreeMap<String, (String, Value)> {
    let mut out = BTreeMap::new();
    for (id, r) in resources_of_type(t, "AWS::Serverless::Function") {
        let name = r["Properties"]["Environment"]["Variables"][FUNCTION_ENV]
            .as_str()
            .unwrap_or_else(|| panic!("{id}: no Environment.Variables.{FUNCTION_ENV}"))
            .to_string();
        let previous = out.insert(name.clone(), (id.to_string(), r.clone()));
        assert!(
            previous.is_none(),
            "two function resources run the catalogue's {name}"
        );
    }
    out
}

/// The logical id of the role a function runs with (it must name one).
fn role_of(function_id: &str, f: &Value) -> String {
    let role = &f["Properties"]["Role"];
    let ids = referenced_ids(role);
    assert_eq!(
        ids.len(),
        1,
        "{function_id}: Role must be !GetAtt <its own role>.Arn (a SAM-made role would add managed policies on `*`), got {role}"
    );
    ids[0].clone()
}

/// `(actions, resources)` of every statement of a role's inline policies.
fn statements(t: &Value, role_id: &str) -> Vec<(Vec<String>, Vec<Value>, Value)> {
    let role = resource(t, role_id);
    assert_eq!(role["Type"], "AWS::IAM::Role", "{role_id} is not a role");
    assert!(
        role["Properties"].get("ManagedPolicyArns").is_none(),
        "{role_id}: no managed policies (they grant on `*`)"
    );
    let mut out = Vec::new();
    for policy in as_list(&role["Properties"]["Policies"]) {
        for s in as_list(&policy["PolicyDocument"]["Statement"]) {
            let actions = as_list(&s["Action"])
                .into_iter()
                .map(|a| {
                    a.as_str()
                        .unwrap_or_else(|| panic!("{role_id}: action {a}"))
                        .to_string()
                })
                .collect();
            let resources = as_list(&s["Resource"]).into_iter().cloned().collect();
            out.push((actions, resources, s.clone()));
        }
    }
    out
}

fn find_cfn_lint() -> Option<PathBuf> {
    let venv = workspace_root().join(".venv").join("bin").join("cfn-lint");
    if venv.is_file() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("cfn-lint"))
            .find(|p| p.is_file())
    })
}

#[test]
fn cfn_lint_passes_without_errors_or_unexplained_warnings() {
    let Some(cfn_lint) = find_cfn_lint() else {
        panic!(
            "cfn-lint is not installed: run scripts/test.sh (it installs cfn-lint {CFN_LINT_VERSION} into .venv \
             and puts .venv/bin on PATH), or `python3 -m venv .venv && .venv/bin/pip install cfn-lint=={CFN_LINT_VERSION}`"
        );
    };
    let version = Command::new(&cfn_lint)
        .arg("--version")
        .output()
        .expect("cfn-lint --version");
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let out = Command::new(&cfn_lint)
        .current_dir(workspace_root())
        .arg("infra/template.yaml")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", cfn_lint.display()));
    let code = out.status.code().unwrap_or(-1);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // cfn-lint's exit code is a bit set: 2 errors, 4 warnings, 8 informational.
    assert!(
        code == 0 || code == 8,
        "{} ({version}) found problems in infra/template.yaml (exit {code}); fix them, or suppress a \
         warning with an explained Metadata: cfn-lint: config: ignore_checks entry:\n{report}",
        cfn_lint.display()
    );
    if !version.contains(CFN_LINT_VERSION) {
        eprintln!(
            "note: {version} is not the pinned cfn-lint {CFN_LINT_VERSION} (scripts/test.sh installs it)"
        );
    }
}

#[test]
fn generated_block_is_current() {
    let current = std::fs::read_to_string(template_path()).expect("template");
    let expected = expected_template().expect("generate");
    assert!(
        current == expected,
        "infra/template.yaml's generated block is stale: run `cargo run -p inbox-tests --bin gen-template`"
    );
}

#[test]
fn every_catalogue_function_has_exactly_one_function_resource_and_back() {
    let t = template();
    let deployed = functions_by_binary(&t);
    let in_code: BTreeSet<String> = Function::all()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let in_template: BTreeSet<_> = deployed.keys().cloned().collect();
    let missing: Vec<_> = in_code.difference(&in_template).collect();
    let extra: Vec<_> = in_template.difference(&in_code).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the catalogue and the template disagree.\n  functions with no resource: {missing:?}\n  \
         resources the binary cannot run: {extra:?}"
    );
    for (id, f) in deployed.values() {
        assert!(
            f.get("Metadata").is_none(),
            "{id}: no per-function build: every function runs the one binary"
        );
        for key in ["Runtime", "Architectures", "Handler", "CodeUri"] {
            assert!(
                f["Properties"].get(key).is_none(),
                "{id}: {key} comes from Globals"
            );
        }
        let memory = f["Properties"]["MemorySize"].as_u64().unwrap_or(0);
        let timeout = f["Properties"]["Timeout"].as_u64().unwrap_or(0);
        assert!((128..=10240).contains(&memory), "{id}: MemorySize {memory}");
        assert!((1..=900).contains(&timeout), "{id}: Timeout {timeout}");
    }
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"], json!(["arm64"]));
    assert_eq!(globals["Handler"], "bootstrap");
    // The artifact `cargo lambda build --release --bin inbox-lambda` writes.
    assert_eq!(globals["CodeUri"], "../target/lambda/inbox-lambda/");
    let bin = workspace_root().join("functions/lambda/Cargo.toml");
    let manifest = std::fs::read_to_string(&bin).expect("functions/lambda/Cargo.toml");
    assert!(
        manifest.contains("name = \"inbox-lambda\""),
        "{}",
        bin.display()
    );
}

#[test]
fn every_route_has_exactly_one_api_event_and_back() {
    let t = template();
    let apis = resources_of_type(&t, "AWS::Serverless::HttpApi");
    assert_eq!(apis.len(), 1, "one HTTP API");
    let api_id = apis[0].0;
    assert_eq!(
        resources_of_type(&t, "AWS::Serverless::Api").len(),
        0,
        "no REST API"
    );
    let auth = &apis[0].1["Properties"]["Auth"];
    let default = auth["DefaultAuthorizer"]
        .as_str()
        .expect("a default authorizer");
    assert_eq!(
        auth["Authorizers"][default]["FunctionArn"],
        json!({"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}),
        "the default authorizer is the authorizer function"
    );

    let mut events: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (binary, (id, f)) in functions_by_binary(&t) {
        let Some(evs) = f["Properties"]["Events"].as_object() else {
            continue;
        };
        for (name, ev) in evs {
            if ev["Type"] != "HttpApi" {
                continue;
            }
            let p = &ev["Properties"];
            assert_eq!(
                p["ApiId"],
                json!({"Ref": api_id}),
                "{id}.{name}: every route is on the one HTTP API"
            );
            let method = p["Method"]
                .as_str()
                .unwrap_or_default()
                .to_ascii_uppercase();
            let path = p["Path"].as_str().unwrap_or_default().to_string();
            let webhook = path.starts_with("/webhooks/");
            if webhook {
                assert_eq!(
                    p["Auth"]["Authorizer"], "NONE",
                    "{id}.{name}: a webhook has no authorizer (the channel's signature authenticates it)"
                );
            } else {
                assert!(
                    p.get("Auth").is_none(),
                    "{id}.{name}: {method} {path} must keep the default authorizer"
                );
            }
            events
                .entry((method, path))
                .or_default()
                .push(binary.clone());
        }
    }
    let mut expected: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (method, path, function, _) in all_routes() {
        expected.entry((method, path)).or_default().push(function);
    }
    for (route, functions) in &events {
        assert_eq!(
            functions.len(),
            1,
            "{route:?} has several API events: {functions:?}"
        );
    }
    for (route, functions) in &expected {
        assert_eq!(
            functions.len(),
            1,
            "{route:?} is twice in the route table: {functions:?}"
        );
    }
    let missing: Vec<_> = expected
        .keys()
        .filter(|k| !events.contains_key(*k))
        .collect();
    let extra: Vec<_> = events
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routes and API events disagree.\n  routes with no event: {missing:?}\n  events with no route: {extra:?}"
    );
    for (route, functions) in &expected {
        assert_eq!(
            &events[route], functions,
            "{route:?} is served by the wrong function"
        );
    }
    // Every route of the table is covered.
    assert_eq!(expected.len(), Action::ALL.len());
}

#[test]
fn table_matches_the_store_definition() {
    let t = template();
    let p = props(&t, "Table");
    let input = create_table_input("any").expect("the store's table definition");

    let attrs: BTreeMap<String, String> = input
        .attribute_definitions()
        .iter()
        .map(|a| {
            (
                a.attribute_name().to_string(),
                a.attribute_type().as_str().to_string(),
            )
        })
        .collect();
    let template_attrs: BTreeMap<String, String> = as_list(&p["AttributeDefinitions"])
        .iter()
        .map(|a| {
            (
                a["AttributeName"].as_str().unwrap_or_default().to_string(),
                a["AttributeType"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(template_attrs, attrs, "attribute definitions");

    let keys = |schema: &Value| -> Vec<(String, String)> {
        as_list(schema)
            .iter()
            .map(|k| {
                (
                    k["AttributeName"].as_str().unwrap_or_default().to_string(),
                    k["KeyType"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let key_schema: Vec<(String, String)> = input
        .key_schema()
        .iter()
        .map(|k| {
            (
                k.attribute_name().to_string(),
                k.key_type().as_str().to_string(),
            )
        })
        .collect();
    assert_eq!(keys(&p["KeySchema"]), key_schema, "table key schema");

    let mut code_indexes = BTreeMap::new();
    for g in input.global_secondary_indexes() {
        let projection = g.projection().expect("projection");
        let non_key: BTreeSet<String> = projection.non_key_attributes().iter().cloned().collect();
        code_indexes.insert(
            g.index_name().to_string(),
            (
                g.key_schema()
                    .iter()
                    .map(|k| {
                        (
                            k.attribute_name().to_string(),
                            k.key_type().as_str().to_string(),
                        )
                    })
                    .collect::<Vec<_>>(),
                projection
                    .projection_type()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                non_key,
            ),
        );
    }
    let mut template_indexes = BTreeMap::new();
    for g in as_list(&p["GlobalSecondaryIndexes"]) {
        let non_key: BTreeSet<String> = as_list(&g["Projection"]["NonKeyAttributes"])
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        template_indexes.insert(
            g["IndexName"].as_str().unwrap_or_default().to_string(),
            (
                keys(&g["KeySchema"]),
                g["Projection"]["ProjectionType"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                non_key,
            ),
        );
    }
    assert_eq!(template_indexes, code_indexes, "global secondary indexes");
    assert!(
        p.get("LocalSecondaryIndexes").is_none(),
        "the store defines no local indexes"
    );

    let stream = input
        .stream_specification()
        .and_then(|s| s.stream_view_type())
        .map(|v| v.as_str().to_string())
        .expect("the store's table has a stream");
    assert_eq!(
        p["StreamSpecification"]["StreamViewType"],
        json!(stream),
        "stream view type"
    );
    assert_eq!(
        p["BillingMode"],
        json!(
            input
                .billing_mode()
                .map(|b| b.as_str())
                .unwrap_or("PAY_PER_REQUEST")
        ),
        "on-demand billing"
    );
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        p["TimeToLiveSpecification"],
        json!({"AttributeName": TTL_ATTRIBUTE, "Enabled": true}),
        "TTL"
    );
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true,
        "PITR"
    );

    // Deletion protection everywhere but dev.
    assert_eq!(
        p["DeletionProtectionEnabled"],
        json!({"Fn::If": ["IsProtected", true, false]})
    );
    let conditions = &t["Conditions"];
    assert_eq!(
        conditions["IsProtected"],
        json!({"Fn::Not": [{"Condition": "IsDev"}]})
    );
    assert_eq!(
        conditions["IsDev"],
        json!({"Fn::Equals": [{"Ref": "Stage"}, "dev"]})
    );
    assert_eq!(
        resource(&t, "Table")["DeletionPolicy"],
        "Retain",
        "the data outlives the stack"
    );
    // Intrinsics in these attributes need the LanguageExtensions transform,
    // which cfn-lint does not insist on but CloudFormation does.
    for (id, r) in resources(&t) {
        for attribute in ["DeletionPolicy", "UpdateReplacePolicy"] {
            if let Some(v) = r.get(attribute) {
                assert!(
                    v.is_string(),
                    "{id}: {attribute} must be a plain string, got {v}"
                );
            }
        }
    }
}

/// What a policy statement may name, by function.
fn allowed_resource_ids(binary: &str, log_group: &str) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = [log_group.to_string()].into();
    match binary {
        SWEEP_FUNCTION => {
            ids.extend(["Table".to_string(), "AutoCloseQueue".to_string()]);
        }
        WORKER_FUNCTION => {
            ids.extend(["Table".to_string(), "AutoCloseQueue".to_string()]);
        }
        PUBLISHER_FUNCTION => {
            ids.extend([
                "Table".to_string(),
                "EventBus".to_string(),
                "EventsDeadLetterQueue".to_string(),
            ]);
        }
        REPLAY_FUNCTION => {
            ids.extend(["EventBus".to_string(), "EventsDeadLetterQueue".to_string()]);
        }
        JOB_WORKER_FUNCTION => {
            ids.extend([
                "Table".to_string(),
                "JobsQueue".to_string(),
                "ExportsBucket".to_string(),
            ]);
        }
        EXPORT_LINK_FUNCTION => {
            ids.extend(["Table".to_string(), "ExportsBucket".to_string()]);
        }
        SENDER_FUNCTION => {
            ids.extend(["Table".to_string(), "SendQueue".to_string()]);
        }
        AI_AGENT_FUNCTION => {
            ids.extend(["Table".to_string(), "AgentQueue".to_string()]);
        }
        DISPATCH_FUNCTION => {
            ids.extend([
                "Table".to_string(),
                "WebhookQueue".to_string(),
                "LiveApi".to_string(),
                "LiveStage".to_string(),
            ]);
        }
        WEBHOOK_SENDER_FUNCTION => {
            ids.extend(["Table".to_string(), "WebhookQueue".to_string()]);
        }
        LIVE_FUNCTION => {
            ids.extend([
                "Table".to_string(),
                "LiveApi".to_string(),
                "LiveStage".to_string(),
            ]);
        }
        f if FAN_OUT_FUNCTIONS.contains(&f) => {
            ids.extend(["Table".to_string(), "JobsQueue".to_string()]);
        }
        _ => {
            ids.insert("Table".to_string());
        }
    }
    ids
}

/// Read-only functions: GET routes (and the POSTs the contract says write nothing).
fn read_only_functions() -> BTreeSet<String> {
    let mut out: BTreeSet<String> = all_routes()
        .into_iter()
        .filter(|(method, _, _, _)| method == "GET")
        .map(|(_, _, f, _)| f)
        .collect();
    // A function that also serves a write route is not read-only (WhatsApp's GET handshake).
    for (method, _, f, _) in all_routes() {
        if method != "GET" {
            out.remove(&f);
        }
    }
    out.extend(
        READ_ONLY_POSTS
            .iter()
            .map(|a| a.function_name().to_string()),
    );
    out
}

#[test]
fn every_function_has_its_own_least_privilege_role() {
    let t = template();
    let deployed = functions_by_binary(&t);
    let read_only = read_only_functions();
    let mut roles_seen = BTreeSet::new();
    let write_like = |action: &str| {
        let a = action.to_ascii_lowercase();
        a.starts_with("dynamodb:")
            && !TABLE_READ_ACTIONS
                .iter()
                .any(|r| r.eq_ignore_ascii_case(action))
            && !matches!(
                a.as_str(),
                "dynamodb:describestream"
                    | "dynamodb:getrecords"
                    | "dynamodb:getshariterator"
                    | "dynamodb:getsharditerator"
                    | "dynamodb:liststreams"
            )
    };
    for (binary, (id, f)) in &deployed {
        assert!(
            f["Properties"].get("Policies").is_none(),
            "{id}: permissions live on its own role, not SAM Policies"
        );
        let role = role_of(id, f);
        assert!(
            roles_seen.insert(role.clone()),
            "{id}: role {role} is shared with another function"
        );
        let log_group = referenced_ids(&f["Properties"]["LoggingConfig"]["LogGroup"]);
        assert_eq!(
            log_group.len(),
            1,
            "{id}: LoggingConfig.LogGroup names its own log group"
        );
        let allowed = allowed_resource_ids(binary, &log_group[0]);
        for (actions, resources, s) in statements(&t, &role) {
            assert_eq!(s["Effect"], "Allow", "{role}: only Allow statements");
            assert!(
                s.get("NotAction").is_none() && s.get("NotResource").is_none(),
                "{role}: no NotAction/NotResource"
            );
            for a in &actions {
                assert!(!a.contains('*'), "{role}: wildcard action {a}");
                if read_only.contains(binary) {
                    assert!(
                        !write_like(a),
                        "{role}: {binary} serves a read-only route but may {a}"
                    );
                }
            }
            assert!(
                !resources.is_empty(),
                "{role}: a statement without resources"
            );
            for r in &resources {
                assert!(r != &json!("*"), "{role}: a statement on `*`");
                if let Some(literal) = r.as_str() {
                    panic!(
                        "{role}: literal resource {literal}: name the stack's resources instead"
                    );
                }
                let ids = referenced_ids(r);
                assert!(
                    !ids.is_empty(),
                    "{role}: resource {r} names nothing in the stack"
                );
                for ref_id in ids {
                    assert!(
                        allowed.contains(&ref_id),
                        "{role}: {binary} may not touch {ref_id} ({actions:?})"
                    );
                }
            }
        }
    }
}

/// `(function, action, referenced resource id)` for every grant in the template.
fn grants(t: &Value) -> Vec<(String, String, String, Value)> {
    let mut out = Vec::new();
    for (binary, (id, f)) in functions_by_binary(t) {
        let role = role_of(&id, &f);
        for (actions, resources, _) in statements(t, &role) {
            for a in &actions {
                for r in &resources {
                    for ref_id in referenced_ids(r) {
                        out.push((binary.clone(), a.clone(), ref_id, r.clone()));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn queues_and_the_bus_are_used_only_by_their_functions() {
    let t = template();
    let g = grants(&t);
    let who = |service: &str, ref_id: &str| -> BTreeSet<String> {
        g.iter()
            .filter(|(_, a, r, _)| a.starts_with(service) && r == ref_id)
            .map(|(f, _, _, _)| f.clone())
            .collect()
    };
    let actions_of = |function: &str, service: &str| -> BTreeSet<String> {
        g.iter()
            .filter(|(f, a, _, _)| f == function && a.starts_with(service))
            .map(|(_, a, _, _)| a.clone())
            .collect()
    };
    assert_eq!(
        who("sqs:", "AutoCloseQueue"),
        [SWEEP_FUNCTION.to_string(), WORKER_FUNCTION.to_string()].into()
    );
    assert_eq!(
        actions_of(SWEEP_FUNCTION, "sqs:"),
        ["sqs:SendMessage".to_string()].into()
    );
    assert_eq!(
        actions_of(WORKER_FUNCTION, "sqs:"),
        [
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage"
        ]
        .map(String::from)
        .into()
    );
    assert_eq!(
        who("sqs:", "EventsDeadLetterQueue"),
        [PUBLISHER_FUNCTION.to_string(), REPLAY_FUNCTION.to_string()].into()
    );
    // The publisher only adds to its dead-letter queue; only the replay reads it.
    assert_eq!(
        actions_of(PUBLISHER_FUNCTION, "sqs:"),
        ["sqs:SendMessage".to_string()].into()
    );
    assert_eq!(
        actions_of(REPLAY_FUNCTION, "sqs:"),
        [
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage"
        ]
        .map(String::from)
        .into()
    );
    assert_eq!(
        who("sqs:", "AutoCloseDeadLetterQueue"),
        BTreeSet::new(),
        "nobody reads the DLQ but people"
    );
    let mut job_senders: BTreeSet<String> = FAN_OUT_FUNCTIONS.map(String::from).into();
    job_senders.insert(JOB_WORKER_FUNCTION.to_string());
    assert_eq!(who("sqs:", "JobsQueue"), job_senders);
    for f in FAN_OUT_FUNCTIONS {
        assert_eq!(
            actions_of(f, "sqs:"),
            ["sqs:SendMessage".to_string()].into(),
            "{f} only queues job steps"
        );
    }
    // The worker consumes steps and queues the next one.
    assert_eq!(
        actions_of(JOB_WORKER_FUNCTION, "sqs:"),
        [
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage",
            "sqs:SendMessage"
        ]
        .map(String::from)
        .into()
    );
    // Only the job worker writes export files; only the export route links them.
    assert_eq!(
        who("s3:", "ExportsBucket"),
        [
            JOB_WORKER_FUNCTION.to_string(),
            EXPORT_LINK_FUNCTION.to_string()
        ]
        .into()
    );
    assert_eq!(
        actions_of(JOB_WORKER_FUNCTION, "s3:"),
        ["s3:PutObject".to_string()].into()
    );
    assert_eq!(
        actions_of(EXPORT_LINK_FUNCTION, "s3:"),
        ["s3:GetObject".to_string()].into()
    );
    assert_eq!(
        who("sqs:", "JobsDeadLetterQueue"),
        BTreeSet::new(),
        "nobody reads the jobs DLQ but people"
    );
    // The sender consumes attempts and queues the next one; nothing else
    // touches its queue (the rule feeds it through the queue's policy).
    assert_eq!(
        who("sqs:", "SendQueue"),
        [SENDER_FUNCTION.to_string()].into()
    );
    assert_eq!(
        actions_of(SENDER_FUNCTION, "sqs:"),
        [
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage",
            "sqs:SendMessage"
        ]
        .map(String::from)
        .into()
    );
    assert_eq!(
        who("sqs:", "SendDeadLetterQueue"),
        BTreeSet::new(),
        "nobody reads the send DLQ but people"
    );
    // It updates and puts items, never deletes one.
    assert_eq!(
        actions_of(SENDER_FUNCTION, "dynamodb:")
            .into_iter()
            .filter(|a| !TABLE_READ_ACTIONS.contains(&a.as_str()))
            .collect::<BTreeSet<_>>(),
        TABLE_UPDATE_ACTIONS.map(String::from).into()
    );
    // ai-agent only consumes reply requests (the rule feeds its queue).
    assert_eq!(
        who("sqs:", "AgentQueue"),
        [AI_AGENT_FUNCTION.to_string()].into()
    );
    assert_eq!(
        actions_of(AI_AGENT_FUNCTION, "sqs:"),
        [
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage"
        ]
        .map(String::from)
        .into()
    );
    assert_eq!(
        who("sqs:", "AgentDeadLetterQueue"),
        BTreeSet::new(),
        "nobody reads the agents' DLQ but people"
    );
    assert_eq!(
        who("events:", "EventBus"),
        [PUBLISHER_FUNCTION.to_string(), REPLAY_FUNCTION.to_string()].into()
    );
    assert_eq!(
        actions_of(PUBLISHER_FUNCTION, "events:"),
        ["events:PutEvents".to_string()].into()
    );
    let all_sqs_or_events: BTreeSet<String> = g
        .iter()
        .filter(|(_, a, _, _)| a.starts_with("sqs:") || a.starts_with("events:"))
        .map(|(f, _, _, _)| f.clone())
        .collect();
    let mut expected: BTreeSet<String> = [
        SWEEP_FUNCTION,
        WORKER_FUNCTION,
        PUBLISHER_FUNCTION,
        REPLAY_FUNCTION,
        SENDER_FUNCTION,
        AI_AGENT_FUNCTION,
        DISPATCH_FUNCTION,
        WEBHOOK_SENDER_FUNCTION,
    ]
    .map(String::from)
    .into();
    expected.extend(job_senders);
    assert_eq!(
        all_sqs_or_events, expected,
        "no other API or webhook function touches a queue or the bus"
    );

    // The sweep only queries the due-timer index; the publisher reads only the stream.
    let sweep_table: Vec<_> = g
        .iter()
        .filter(|(f, _, r, _)| f == SWEEP_FUNCTION && r == "Table")
        .collect();
    assert!(!sweep_table.is_empty());
    for (_, a, _, r) in sweep_table {
        assert_eq!(a, "dynamodb:Query");
        assert_eq!(
            r,
            &json!({"Fn::Sub": format!("${{Table.Arn}}/index/{}", TIMERS.name)})
        );
    }
    for (_, a, _, r) in g
        .iter()
        .filter(|(f, _, r, _)| f == PUBLISHER_FUNCTION && r == "Table")
    {
        let on_stream = r == &json!({"Fn::GetAtt": ["Table", "StreamArn"]})
            || r == &json!({"Fn::Sub": "${Table.Arn}/stream/*"});
        assert!(
            on_stream,
            "the publisher may {a} only on the table's stream, not {r}"
        );
    }
}

fn function<'a>(deployed: &'a BTreeMap<String, (String, Value)>, binary: &str) -> &'a Value {
    &deployed
        .get(binary)
        .unwrap_or_else(|| panic!("no function runs {binary}"))
        .1
}

fn only_event<'a>(f: &'a Value, kind: &str) -> &'a Value {
    let evs: Vec<_> = f["Properties"]["Events"]
        .as_object()
        .map(|m| m.values().filter(|e| e["Type"] == kind).collect())
        .unwrap_or_default();
    assert_eq!(evs.len(), 1, "exactly one {kind} event");
    &evs[0]["Properties"]
}

#[test]
fn auto_close_and_event_plumbing() {
    let t = template();
    let deployed = functions_by_binary(&t);

    let sweep = only_event(function(&deployed, SWEEP_FUNCTION), "Schedule");
    assert_eq!(sweep["Schedule"], "rate(1 minute)");

    let queue = props(&t, "AutoCloseQueue");
    assert_eq!(
        queue["RedrivePolicy"]["deadLetterTargetArn"],
        json!({"Fn::GetAtt": ["AutoCloseDeadLetterQueue", "Arn"]})
    );
    let receives = queue["RedrivePolicy"]["maxReceiveCount"]
        .as_u64()
        .unwrap_or(0);
    assert!((2..=10).contains(&receives), "maxReceiveCount {receives}");
    let worker_fn = function(&deployed, WORKER_FUNCTION);
    let worker = only_event(worker_fn, "SQS");
    assert_eq!(
        worker["Queue"],
        json!({"Fn::GetAtt": ["AutoCloseQueue", "Arn"]})
    );
    assert_eq!(
        worker["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert!(
        worker["ScalingConfig"]["MaximumConcurrency"].is_object()
            || worker["ScalingConfig"]["MaximumConcurrency"].is_u64()
    );
    let visibility = queue["VisibilityTimeout"].as_u64().unwrap_or(0);
    let worker_timeout = worker_fn["Properties"]["Timeout"]
        .as_u64()
        .unwrap_or(u64::MAX);
    assert!(
        visibility >= 6 * worker_timeout,
        "visibility {visibility} s < 6 × worker timeout {worker_timeout} s"
    );

    assert_eq!(
        resources_of_type(&t, "AWS::Events::EventBus").len(),
        1,
        "one domain event bus"
    );
    let publisher_fn = function(&deployed, PUBLISHER_FUNCTION);
    let stream = only_event(publisher_fn, "DynamoDB");
    assert_eq!(
        stream["Stream"],
        json!({"Fn::GetAtt": ["Table", "StreamArn"]})
    );
    assert_eq!(
        stream["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(
        stream["DestinationConfig"]["OnFailure"]["Destination"],
        json!({"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]})
    );
    let filters = stream["FilterCriteria"]["Filters"].to_string();
    assert!(
        filters.contains(&format!("\\\"prefix\\\": \\\"{OUTBOX_PREFIX}\\\"")),
        "the stream filter passes the store's outbox items ({OUTBOX_PREFIX}): {filters}"
    );
    assert_eq!(
        publisher_fn["Properties"]["Environment"]["Variables"]["INBOX_EVENT_BUS_NAME"],
        json!({"Ref": "EventBus"})
    );
    // Nothing is dropped: the stream retries until the batch is published
    // or kept in the dead-letter queue, which both functions name.
    assert_eq!(stream["MaximumRetryAttempts"], json!(-1));
    for f in [PUBLISHER_FUNCTION, REPLAY_FUNCTION] {
        assert_eq!(
            function(&deployed, f)["Properties"]["Environment"]["Variables"]["INBOX_EVENTS_DLQ_URL"],
            json!({"Ref": "EventsDeadLetterQueue"}),
            "{f}"
        );
    }
    let replay = function(&deployed, REPLAY_FUNCTION);
    assert!(
        replay["Properties"].get("Events").is_none(),
        "the replay runs only when invoked"
    );
}

#[test]
fn logs_are_kept_for_a_while_and_critical_functions_raise_alarms() {
    let t = template();
    let deployed = functions_by_binary(&t);
    for (id, f) in deployed.values() {
        let lg = referenced_ids(&f["Properties"]["LoggingConfig"]["LogGroup"]);
        let group = resource(&t, &lg[0]);
        assert_eq!(group["Type"], "AWS::Logs::LogGroup", "{id}");
        assert_eq!(
            group["Properties"]["RetentionInDays"],
            json!({"Ref": "LogRetentionDays"}),
            "{id}: log retention"
        );
    }
    assert!(props(&t, "ApiAccessLogGroup")["RetentionInDays"].is_object());
    let api = resources_of_type(&t, "AWS::Serverless::HttpApi")[0].1;
    assert_eq!(
        api["Properties"]["AccessLogSettings"]["DestinationArn"],
        json!({"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]})
    );

    let alarms = resources_of_type(&t, "AWS::CloudWatch::Alarm");
    let has_alarm = |namespace: &str, metric: &str, dimension: &Value| {
        alarms.iter().any(|(_, a)| {
            let p = &a["Properties"];
            p["Namespace"] == namespace
                && p["MetricName"] == metric
                && as_list(&p["Dimensions"])
                    .iter()
                    .any(|d| &d["Value"] == dimension)
                && !as_list(&p["AlarmActions"]).is_empty()
        })
    };
    let mut critical: Vec<String> = [SWEEP_FUNCTION, WORKER_FUNCTION, PUBLISHER_FUNCTION]
        .map(String::from)
        .to_vec();
    critical.extend(
        deployed
            .keys()
            .filter(|b| b.starts_with("webhook-"))
            .cloned(),
    );
    assert!(
        critical.len() >= 7,
        "sweep, worker, publisher and the four webhooks: {critical:?}"
    );
    for binary in &critical {
        let id = &deployed
            .get(binary)
            .unwrap_or_else(|| panic!("no function {binary}"))
            .0;
        for metric in ["Errors", "Throttles"] {
            assert!(
                has_alarm("AWS/Lambda", metric, &json!({"Ref": id})),
                "no {metric} alarm on {binary}"
            );
        }
    }
    assert!(has_alarm(
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        &json!({"Fn::GetAtt": ["AutoCloseDeadLetterQueue", "QueueName"]})
    ));
    assert!(
        has_alarm("AWS/ApiGateway", "5xx", &json!({"Ref": "HttpApi"})),
        "no API 5xx alarm"
    );
}

#[test]
fn identity_and_outputs() {
    let t = template();
    let pool = props(&t, "UserPool");
    assert_eq!(
        pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"], true,
        "no self sign-up"
    );
    let custom: BTreeSet<&str> = as_list(&pool["Schema"])
        .iter()
        .filter_map(|a| a["Name"].as_str())
        .collect();
    assert!(
        custom.contains("workspace_id") && custom.contains("role"),
        "custom attributes: {custom:?}"
    );
    let client = props(&t, "UserPoolClient");
    let writable: Vec<&str> = as_list(&client["WriteAttributes"])
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert!(
        !writable.iter().any(|a| a.starts_with("custom:")),
        "users must not change their own workspace or role: {writable:?}"
    );
    let deployed = functions_by_binary(&t);
    let authorizer = function(&deployed, AUTHORIZER_FUNCTION);
    let env = &authorizer["Properties"]["Environment"]["Variables"];
    assert!(referenced_ids(&env["INBOX_JWT_ISSUER"]).contains(&"JwtIssuer".to_string()));
    assert!(referenced_ids(&env["INBOX_JWT_ISSUER"]).contains(&"UserPool".to_string()));
    assert!(referenced_ids(&env["INBOX_JWT_AUDIENCES"]).contains(&"JwtAudience".to_string()));
    assert!(referenced_ids(&env["INBOX_JWT_AUDIENCES"]).contains(&"UserPoolClient".to_string()));
    let cors =
        &resources_of_type(&t, "AWS::Serverless::HttpApi")[0].1["Properties"]["CorsConfiguration"];
    // The stack's own web inbox's origin, and those of the parameter.
    assert_eq!(
        cors["AllowOrigins"],
        json!({"Fn::Split": [",", {"Fn::Sub": ["https://${WebDistribution.DomainName},${Extra}",
                                               {"Extra": {"Ref": "CorsAllowedOrigins"}}]}]})
    );

    let outputs = t["Outputs"].as_object().expect("outputs");
    for name in [
        "ApiUrl",
        "TableName",
        "AutoCloseQueueUrl",
        "AutoCloseDeadLetterQueueUrl",
        "EventBusName",
        "UserPoolId",
        "UserPoolClientId",
    ] {
        assert!(outputs.contains_key(name), "no output {name}");
    }
}

#[test]
fn only_the_invitation_function_creates_users_and_only_with_the_pool() {
    let t = template();
    let resources = t["Resources"].as_object().expect("Resources");
    let policies: Vec<(&String, &Value)> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::IAM::Policy")
        .collect();
    assert_eq!(
        policies.len(),
        1,
        "one stand-alone policy: the invitation's"
    );
    let (_, policy) = policies[0];
    assert_eq!(policy["Condition"], "UseCognito");
    assert_eq!(
        policy["Properties"]["Roles"],
        json!([{"Ref": "MemberInviteRole"}])
    );
    let statement = &policy["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(statement["Action"], json!(["cognito-idp:AdminCreateUser"]));
    assert_eq!(
        statement["Resource"],
        json!([{"Fn::GetAtt": ["UserPool", "Arn"]}])
    );
    // No role's own policy names Cognito.
    for (id, r) in resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::IAM::Role")
    {
        assert!(
            !r["Properties"]["Policies"]
                .to_string()
                .contains("cognito-idp"),
            "{id} may not touch Cognito"
        );
    }
    let deployed = functions_by_binary(&t);
    let invite = function(&deployed, "member-invite");
    assert_eq!(
        invite["Properties"]["Environment"]["Variables"]["INBOX_USER_POOL_ID"],
        json!({"Fn::If": ["UseCognito", {"Ref": "UserPool"}, {"Ref": "AWS::NoValue"}]})
    );
}

/// What a stream consumer's event source mapping needs.
const STREAM_READ_ACTIONS: [&str; 4] = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
];

#[test]
fn webhooks_flow_from_the_stream_through_one_fifo_queue() {
    let t = template();
    let deployed = functions_by_binary(&t);
    let g = grants(&t);
    let who = |prefix: &str, resource: &str| -> BTreeSet<String> {
        g.iter()
            .filter(|(_, a, r, _)| a.starts_with(prefix) && r == resource)
            .map(|(f, _, _, _)| f.clone())
            .collect()
    };
    let actions_of = |function: &str| -> BTreeSet<String> {
        g.iter()
            .filter(|(f, a, _, _)| f == function && a.starts_with("sqs:"))
            .map(|(_, a, _, _)| a.clone())
            .collect()
    };
    // One FIFO queue, deduplicated by the id the dispatcher sets, per lane.
    let queue = props(&t, "WebhookQueue");
    assert_eq!(queue["FifoQueue"], true);
    assert_eq!(queue["ContentBasedDeduplication"], false);
    assert_eq!(queue["FifoThroughputLimit"], "perMessageGroupId");
    let dlq = props(&t, "WebhookDeadLetterQueue");
    assert_eq!(dlq["FifoQueue"], true, "a FIFO queue's DLQ is FIFO");
    assert_eq!(
        queue["RedrivePolicy"]["deadLetterTargetArn"],
        json!({"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]})
    );
    // Every attempt of the schedule is a receive, with room for failures inside.
    let attempts = inbox_domain::webhooks::RETRY_DELAYS_SECONDS.len() as u64 + 1;
    assert!(queue["RedrivePolicy"]["maxReceiveCount"].as_u64().unwrap() >= 2 * attempts);
    // Kept longer than the whole schedule takes.
    let schedule: i64 = inbox_domain::webhooks::RETRY_DELAYS_SECONDS.iter().sum();
    assert!(queue["MessageRetentionPeriod"].as_i64().unwrap() > 2 * schedule);
    // The longest wait fits a visibility timeout.
    let longest = *inbox_domain::webhooks::RETRY_DELAYS_SECONDS
        .iter()
        .max()
        .unwrap();
    assert!(longest <= inbox_runtime::webhooks::MAX_VISIBILITY_SECONDS);

    let dispatch = function(&deployed, DISPATCH_FUNCTION);
    let stream = only_event(dispatch, "DynamoDB");
    assert_eq!(
        stream["Stream"],
        json!({"Fn::GetAtt": ["Table", "StreamArn"]})
    );
    assert_eq!(stream["StartingPosition"], "TRIM_HORIZON");
    assert_eq!(stream["MaximumRetryAttempts"], -1);
    assert_eq!(
        stream["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    let pattern: Value = serde_json::from_str(
        stream["FilterCriteria"]["Filters"][0]["Pattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        pattern,
        json!({"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"entity": {"S": ["timeline", "message"]}}}})
    );
    let sender = function(&deployed, WEBHOOK_SENDER_FUNCTION);
    let event = only_event(sender, "SQS");
    assert_eq!(
        event["Queue"],
        json!({"Fn::GetAtt": ["WebhookQueue", "Arn"]})
    );
    assert_eq!(
        event["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    let visibility = queue["VisibilityTimeout"].as_u64().unwrap();
    let timeout = sender["Properties"]["Timeout"].as_u64().unwrap();
    assert!(
        visibility >= 6 * timeout,
        "visibility {visibility}, timeout {timeout}"
    );
    for f in [dispatch, sender] {
        assert_eq!(
            f["Properties"]["Environment"]["Variables"]["INBOX_WEBHOOK_QUEUE_URL"],
            json!({"Ref": "WebhookQueue"})
        );
    }
    // The dispatcher only queues; the sender only consumes and holds back.
    assert_eq!(
        who("sqs:", "WebhookQueue"),
        [
            DISPATCH_FUNCTION.to_string(),
            WEBHOOK_SENDER_FUNCTION.to_string()
        ]
        .into()
    );
    assert_eq!(
        actions_of(DISPATCH_FUNCTION),
        ["sqs:SendMessage".to_string()].into()
    );
    assert_eq!(
        actions_of(WEBHOOK_SENDER_FUNCTION),
        [
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage"
        ]
        .map(String::from)
        .into()
    );
    assert_eq!(who("sqs:", "WebhookDeadLetterQueue"), BTreeSet::new());
    // Neither deletes an item, but dispatch forgets gone live connections
    // (confined to their items: see `live_updates_have_a_websocket_api_of_their_own`).
    for f in [DISPATCH_FUNCTION, WEBHOOK_SENDER_FUNCTION] {
        let table: BTreeSet<String> = g
            .iter()
            .filter(|(n, a, _, _)| n == f && a.starts_with("dynamodb:"))
            .map(|(_, a, _, _)| a.clone())
            .filter(|a| !TABLE_READ_ACTIONS.contains(&a.as_str()))
            .filter(|a| !STREAM_READ_ACTIONS.contains(&a.as_str()))
            .filter(|a| !(f == DISPATCH_FUNCTION && a == "dynamodb:DeleteItem"))
            .collect();
        assert_eq!(table, TABLE_UPDATE_ACTIONS.map(String::from).into(), "{f}");
    }
    assert_eq!(props(&t, "WebhookDeadLetterAlarm")["Namespace"], "AWS/SQS");
}

#[test]
fn replies_reach_the_sender_through_the_outbound_rule() {
    let t = template();
    let deployed = functions_by_binary(&t);
    let rule = props(&t, "OutboundMessagesRule");
    assert_eq!(rule["EventBusName"], json!({"Ref": "EventBus"}));
    assert_eq!(
        rule["EventPattern"],
        json!({"source": ["inbox"], "detail-type": ["message.outbound"]})
    );
    let targets = as_list(&rule["Targets"]);
    assert_eq!(targets.len(), 1);
    assert_eq!(
        targets[0]["Arn"],
        json!({"Fn::GetAtt": ["SendQueue", "Arn"]})
    );
    assert_eq!(
        targets[0]["DeadLetterConfig"]["Arn"],
        json!({"Fn::GetAtt": ["SendDeadLetterQueue", "Arn"]})
    );

    let queue = props(&t, "SendQueue");
    assert_eq!(
        queue["RedrivePolicy"]["deadLetterTargetArn"],
        json!({"Fn::GetAtt": ["SendDeadLetterQueue", "Arn"]})
    );
    let sender = function(&deployed, SENDER_FUNCTION);
    let event = only_event(sender, "SQS");
    assert_eq!(event["Queue"], json!({"Fn::GetAtt": ["SendQueue", "Arn"]}));
    assert_eq!(
        event["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    // A record that comes back finds its claim's lease (2 minutes) over, and
    // its sender done: the visibility timeout outlasts both.
    let visibility = queue["VisibilityTimeout"].as_u64().unwrap_or(0);
    let timeout = sender["Properties"]["Timeout"].as_u64().unwrap_or(u64::MAX);
    assert!(
        visibility >= 6 * timeout,
        "visibility {visibility}, timeout {timeout}"
    );
    let lease = (inbox_domain::delivery::CLAIM_LEASE_MILLIS / 1000) as u64;
    assert!(visibility > lease && timeout < lease);

    // Only the rule may put messages on the send queues, and only over TLS.
    let policy = props(&t, "SendQueuesPolicy");
    let statements = as_list(&policy["PolicyDocument"]["Statement"]);
    let allow: Vec<&&Value> = statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .collect();
    assert_eq!(allow.len(), 1);
    assert_eq!(
        allow[0]["Principal"],
        json!({"Service": "events.amazonaws.com"})
    );
    assert_eq!(allow[0]["Action"], "sqs:SendMessage");
    assert_eq!(
        allow[0]["Condition"]["ArnEquals"]["aws:SourceArn"],
        json!({"Fn::GetAtt": ["OutboundMessagesRule", "Arn"]})
    );
    assert!(
        statements
            .iter()
            .any(|s| s["Effect"] == "Deny"
                && s["Condition"]["Bool"]["aws:SecureTransport"] == "false")
    );
    assert!(resources(&t).contains_key("SendDeadLetterAlarm"));
}

#[test]
fn one_authorizer_guards_the_api_and_reads_only_api_keys() {
    let t = template();
    let api = &resources_of_type(&t, "AWS::Serverless::HttpApi")[0].1["Properties"]["Auth"];
    let inbox = &api["Authorizers"][api["DefaultAuthorizer"].as_str().unwrap_or_default()];
    assert_eq!(inbox["AuthorizerPayloadFormatVersion"], "2.0");
    assert_eq!(
        inbox["EnableSimpleResponses"], true,
        "the function reads the simple response's context"
    );
    assert_eq!(inbox["EnableFunctionDefaultPermissions"], true);
    assert_eq!(inbox["Identity"]["Headers"], json!(["Authorization"]));
    assert_eq!(
        inbox["Identity"]["ReauthorizeEvery"],
        json!({"Ref": "AuthorizerCacheSeconds"}),
        "the cache time is a parameter"
    );
    assert_eq!(t["Parameters"]["AuthorizerCacheSeconds"]["Default"], 60);
    assert_eq!(t["Parameters"]["AuthorizerCacheSeconds"]["MinValue"], 0);

    let deployed = functions_by_binary(&t);
    let (id, f) = &deployed[AUTHORIZER_FUNCTION];
    assert!(
        f["Properties"].get("Events").is_none(),
        "API Gateway invokes it; nothing else does"
    );
    let table_statements: Vec<_> = statements(&t, &role_of(id, f))
        .into_iter()
        .filter(|(actions, _, _)| actions.iter().any(|a| a.starts_with("dynamodb:")))
        .collect();
    assert_eq!(table_statements.len(), 1, "{table_statements:?}");
    let (actions, resources, s) = &table_statements[0];
    assert_eq!(actions, &vec!["dynamodb:GetItem", "dynamodb:UpdateItem"]);
    assert_eq!(resources, &vec![json!({"Fn::GetAtt": ["Table", "Arn"]})]);
    assert_eq!(
        s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"],
        json!([format!("{API_KEY_PREFIX}*")]),
        "only API key items"
    );
}

/// The statements of a function's role that grant `action`.
fn granting(t: &Value, binary: &str, action: &str) -> Vec<(Vec<Value>, Value)> {
    let deployed = functions_by_binary(t);
    let (id, f) = &deployed[binary];
    statements(t, &role_of(id, f))
        .into_iter()
        .filter(|(actions, _, _)| actions.iter().any(|a| a == action))
        .map(|(_, resources, s)| (resources, s))
        .collect()
}

#[test]
fn live_updates_have_a_websocket_api_of_their_own() {
    let t = template();
    let api = props(&t, "LiveApi");
    assert_eq!(resource(&t, "LiveApi")["Type"], "AWS::ApiGatewayV2::Api");
    assert_eq!(api["ProtocolType"], "WEBSOCKET");
    let stage = props(&t, "LiveStage");
    assert_eq!(stage["ApiId"], json!({"Ref": "LiveApi"}));
    assert_eq!(
        stage["StageName"], "live",
        "the URL ends in /live, as on the dev server"
    );
    assert_eq!(stage["AutoDeploy"], true);

    // $connect through the token authorizer; the other two carry its context.
    let route = |key: &str| -> Value {
        resources_of_type(&t, "AWS::ApiGatewayV2::Route")
            .into_iter()
            .map(|(_, r)| r["Properties"].clone())
            .find(|p| p["RouteKey"] == key)
            .unwrap_or_else(|| panic!("no {key} route"))
    };
    let connect = route("$connect");
    assert_eq!(connect["AuthorizationType"], "CUSTOM");
    assert_eq!(
        connect["AuthorizerId"],
        json!({"Ref": "LiveConnectAuthorizer"})
    );
    for key in ["$connect", "$disconnect", "$default"] {
        let r = route(key);
        assert_eq!(r["ApiId"], json!({"Ref": "LiveApi"}), "{key}");
        assert_eq!(
            referenced_ids(&r["Target"]),
            ["LiveIntegration"],
            "{key} goes to the live function"
        );
    }
    assert_eq!(route("$default")["AuthorizationType"], "NONE");
    let authorizer = props(&t, "LiveConnectAuthorizer");
    assert_eq!(authorizer["AuthorizerType"], "REQUEST");
    assert_eq!(
        authorizer["IdentitySource"],
        json!(["route.request.querystring.token"])
    );
    assert!(
        referenced_ids(&authorizer["AuthorizerUri"])
            .contains(&"LiveAuthorizerFunction".to_string())
    );
    let integration = props(&t, "LiveIntegration");
    assert_eq!(integration["IntegrationType"], "AWS_PROXY");
    assert!(referenced_ids(&integration["IntegrationUri"]).contains(&"LiveFunction".to_string()));
    // API Gateway may invoke each function, from this API only.
    for (permission, function) in [
        ("LivePermission", "LiveFunction"),
        ("LiveAuthorizerPermission", "LiveAuthorizerFunction"),
    ] {
        let p = props(&t, permission);
        assert_eq!(p["Principal"], "apigateway.amazonaws.com");
        assert_eq!(p["FunctionName"], json!({"Ref": function}));
        assert!(referenced_ids(&p["SourceArn"]).contains(&"LiveApi".to_string()));
    }
    assert!(
        referenced_ids(&t["Outputs"]["LiveUrl"]["Value"]).contains(&"LiveApi".to_string()),
        "the live URL is an output"
    );
    assert!(
        t["Outputs"]["LiveUrl"]["Value"]["Fn::Sub"]
            .as_str()
            .is_some_and(|v| v.starts_with("wss://"))
    );

    // Managing connections: this API's only, by the two functions that post.
    let g = grants(&t);
    let managers: BTreeSet<String> = g
        .iter()
        .filter(|(_, a, _, _)| a == "execute-api:ManageConnections")
        .map(|(f, _, _, _)| f.clone())
        .collect();
    assert_eq!(
        managers,
        [DISPATCH_FUNCTION, LIVE_FUNCTION].map(String::from).into()
    );
    let deployed = functions_by_binary(&t);
    for f in [DISPATCH_FUNCTION, LIVE_FUNCTION] {
        let grants = granting(&t, f, "execute-api:ManageConnections");
        assert_eq!(grants.len(), 1, "{f}");
        let arn = grants[0].0[0]["Fn::Sub"].as_str().unwrap_or_default();
        assert!(
            arn.ends_with(":${LiveApi}/${LiveStage}/*/@connections/*"),
            "{f}: {arn}"
        );
        let env = &deployed[f].1["Properties"]["Environment"]["Variables"];
        assert!(
            referenced_ids(&env["INBOX_LIVE_ENDPOINT"]).contains(&"LiveApi".to_string()),
            "{f} knows the management endpoint"
        );
        // Deleting items: live connections only.
        for (_, s) in granting(&t, f, "dynamodb:DeleteItem") {
            assert_eq!(
                s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"],
                json!([format!("{LIVE_PREFIX}*")]),
                "{f}: {s}"
            );
        }
    }
    // The live function writes nothing but its connection items.
    for action in ["dynamodb:PutItem", "dynamodb:DeleteItem"] {
        for (_, s) in granting(&t, LIVE_FUNCTION, action) {
            assert_eq!(
                s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"],
                json!([format!("{LIVE_PREFIX}*")])
            );
        }
    }
    for action in [
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:BatchGetItem",
    ] {
        assert!(granting(&t, LIVE_FUNCTION, action).is_empty(), "{action}");
    }
    // The live authorizer may read API keys, as the HTTP one: nothing else.
    let live_authorizer = &deployed[LIVE_AUTHORIZER_FUNCTION];
    let http_authorizer = &deployed[AUTHORIZER_FUNCTION];
    let table_of = |(id, f): &(String, Value)| -> Vec<(Vec<String>, Value)> {
        statements(&t, &role_of(id, f))
            .into_iter()
            .filter(|(actions, _, _)| actions.iter().any(|a| a.starts_with("dynamodb:")))
            .map(|(actions, _, s)| (actions, s["Condition"].clone()))
            .collect()
    };
    assert_eq!(table_of(live_authorizer), table_of(http_authorizer));
    assert!(live_authorizer.1["Properties"].get("Events").is_none());
    assert!(
        deployed[LIVE_FUNCTION].1["Properties"]
            .get("Events")
            .is_none()
    );
}

#[test]
fn the_web_inbox_is_a_private_bucket_behind_its_distribution() {
    let t = template();
    let bucket = props(&t, "WebBucket");
    for block in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(
            bucket["PublicAccessBlockConfiguration"][block], true,
            "{block}"
        );
    }
    let dist = &props(&t, "WebDistribution")["DistributionConfig"];
    let origin = &dist["Origins"][0];
    assert_eq!(
        origin["OriginAccessControlId"],
        json!({"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}),
        "the bucket is read through origin access control"
    );
    assert_eq!(origin["S3OriginConfig"]["OriginAccessIdentity"], "");
    assert_eq!(dist["DefaultRootObject"], "index.html");
    assert_eq!(
        dist["DefaultCacheBehavior"]["ViewerProtocolPolicy"],
        "redirect-to-https"
    );
    let oac = &props(&t, "WebOriginAccessControl")["OriginAccessControlConfig"];
    assert_eq!(oac["SigningBehavior"], "always");
    assert_eq!(oac["OriginAccessControlOriginType"], "s3");
    // Only this distribution may read the bucket.
    let policy = &props(&t, "WebBucketPolicy")["PolicyDocument"]["Statement"];
    assert_eq!(policy.as_array().map(Vec::len), Some(1));
    let s = &policy[0];
    assert_eq!(
        s["Principal"],
        json!({"Service": "cloudfront.amazonaws.com"})
    );
    assert_eq!(s["Action"], "s3:GetObject");
    assert!(
        referenced_ids(&s["Condition"]["StringEquals"]["AWS:SourceArn"])
            .contains(&"WebDistribution".to_string())
    );

    // The page signs in through the hosted UI, back to itself, with PKCE (no secret).
    let client = props(&t, "UserPoolClient");
    assert_eq!(client["GenerateSecret"], false);
    assert_eq!(client["AllowedOAuthFlows"], json!(["code"]));
    assert_eq!(client["AllowedOAuthFlowsUserPoolClient"], true);
    assert!(referenced_ids(&client["CallbackURLs"][0]).contains(&"WebDistribution".to_string()));
    assert_eq!(
        props(&t, "UserPoolDomain")["UserPoolId"],
        json!({"Ref": "UserPool"})
    );

    // The deploy command's config.json is made from these outputs.
    let outputs = t["Outputs"].as_object().expect("outputs");
    for key in [
        "ApiUrl",
        "LiveUrl",
        "WebUrl",
        "WebBucketName",
        "WebDistributionId",
        "UserPoolClientId",
        "JwtIssuerUrl",
        "AuthDomain",
    ] {
        assert!(outputs.contains_key(key), "no {key} output");
    }
    let described = json!({"Stacks": [{"Outputs": [
        {"OutputKey": "ApiUrl", "OutputValue": "https://api.example/"},
        {"OutputKey": "LiveUrl", "OutputValue": "wss://live.example/live"},
        {"OutputKey": "WebUrl", "OutputValue": "https://d1.example/"},
        {"OutputKey": "UserPoolClientId", "OutputValue": "client-1"},
        {"OutputKey": "JwtIssuerUrl", "OutputValue": "https://cognito-idp.example/pool"}
    ]}]});
    let python = std::env::var("INBOX_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = std::process::Command::new(python)
        .arg(workspace_root().join("scripts/web_config.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(described.to_string().as_bytes())
        .expect("written");
    let out = child.wait_with_output().expect("it ends");
    assert!(out.status.success());
    let config: Value = serde_json::from_slice(&out.stdout).expect("config.json");
    assert_eq!(
        config,
        json!({"api_url": "https://api.example", "live_url": "wss://live.example/live",
               "auth": {"kind": "oidc", "authority": "https://cognito-idp.example/pool", "client_id": "client-1",
                        "redirect_uri": "https://d1.example/", "scope": "openid email profile"}})
    );
}
