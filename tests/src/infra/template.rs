//! Reading the SAM template as JSON, with CloudFormation's short-form tags
//! (`!Ref`, `!GetAtt`, `!Sub`, …) turned into their long forms.

use serde_json::{Map, Value, json};
use std::path::Path;

/// Parses a CloudFormation YAML document into JSON in long-form intrinsics.
pub fn parse(yaml: &str) -> Result<Value, String> {
    let doc: serde_yaml::Value = serde_yaml::from_str(yaml).map_err(|e| e.to_string())?;
    to_json(doc)
}

/// Reads and parses the template at `path`.
pub fn load(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text)
}

fn to_json(v: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else {
                json!(n.as_f64().unwrap_or_default())
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return Err(format!("unsupported mapping key {other:?}")),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let inner = to_json(tagged.value)?;
            let (name, value) = match tag {
                "Ref" => ("Ref".to_string(), inner),
                "Condition" => ("Condition".to_string(), inner),
                // `!GetAtt A.B` is `{"Fn::GetAtt": ["A", "B"]}`.
                "GetAtt" => {
                    let value = match inner {
                        Value::String(s) => match s.split_once('.') {
                            Some((resource, attribute)) => json!([resource, attribute]),
                            None => {
                                return Err(format!("!GetAtt {s}: expected Resource.Attribute"));
                            }
                        },
                        other => other,
                    };
                    ("Fn::GetAtt".to_string(), value)
                }
                other => (format!("Fn::{other}"), inner),
            };
            let mut out = Map::new();
            out.insert(name, value);
            Value::Object(out)
        }
    })
}

/// The `Resources` map.
pub fn resources(template: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    template
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

/// Logical ids and bodies of the resources of type `kind`, sorted by id.
pub fn resources_of_type<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    let mut found: Vec<_> = resources(template)
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
        .map(|(id, r)| (id.as_str(), r))
        .collect();
    found.sort_by_key(|(id, _)| *id);
    found
}

/// A value as a list (CloudFormation accepts a single value where a list is expected).
pub fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// The logical ids an intrinsic value refers to (`Ref`, `Fn::GetAtt`, and
/// `${Name}` / `${Name.Attr}` inside `Fn::Sub`), in order of appearance.
pub fn referenced_ids(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_refs(v, &mut out);
    out
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, inner) in m {
                match (k.as_str(), inner) {
                    ("Ref", Value::String(id)) => out.push(id.clone()),
                    ("Fn::GetAtt", Value::Array(parts)) => {
                        if let Some(Value::String(id)) = parts.first() {
                            out.push(id.clone());
                        }
                    }
                    ("Fn::Sub", Value::String(s)) => sub_refs(s, out),
                    ("Fn::Sub", Value::Array(parts)) => {
                        if let Some(Value::String(s)) = parts.first() {
                            sub_refs(s, out);
                        }
                        for p in parts.iter().skip(1) {
                            collect_refs(p, out);
                        }
                    }
                    _ => collect_refs(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

fn sub_refs(s: &str, out: &mut Vec<String>) {
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.starts_with('!') && !name.starts_with("AWS::") {
            out.push(name.split('.').next().unwrap_or(name).to_string());
        }
        rest = &after[end + 1..];
    }
}
