//! The official SARIF 2.1.0 JSON schema (vendored in `tests/data/`) as a validator, shared by
//! the tests of every command that writes SARIF (`check`, `diff`).
#![allow(dead_code)]

use std::path::Path;

fn official_schema() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The official schema with every `format` asserted (`uri`, `uri-reference`, ...).
///
/// One edit: the schema's `language` patterns have a stray `]` that ECMA-262 accepts but this
/// crate's regex engine does not, and the crate always checks a schema against its
/// meta-schema (which asserts `format: regex`), so the unedited file does not compile. Those
/// patterns are replaced by their intent (`ll` or `ll-CC`); we never write a `language`.
pub fn sarif_validator() -> jsonschema::Validator {
    let mut schema = official_schema();
    let replaced = replace_pattern(
        &mut schema,
        "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
        "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
    );
    assert!(replaced > 0, "the schema changed: review this workaround");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

/// Replaces every `"pattern": from` in a schema; returns how many.
fn replace_pattern(value: &mut serde_json::Value, from: &str, to: &str) -> usize {
    match value {
        serde_json::Value::Object(map) => {
            let mut count = 0;
            for (key, child) in map.iter_mut() {
                if key == "pattern" && child == from {
                    *child = to.into();
                    count += 1;
                } else {
                    count += replace_pattern(child, from, to);
                }
            }
            count
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .map(|item| replace_pattern(item, from, to))
            .sum(),
        _ => 0,
    }
}

pub fn assert_valid_sarif(text: &str) {
    let instance: serde_json::Value = serde_json::from_str(text).expect("SARIF is JSON");
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema errors:\n{}",
        errors.join("\n")
    );
}
