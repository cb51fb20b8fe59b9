//! The little YAML `pull` writes: block maps of flow values, every string either plain (when
//! no YAML reading could change it) or double-quoted with JSON escapes (a subset of YAML's).

use serde_json::Value;

/// A string as a YAML scalar. Plain only for `[A-Za-z_][A-Za-z0-9_./@-]*` that is not a YAML
/// 1.1 boolean or null word; otherwise JSON-quoted.
pub fn scalar(text: &str) -> String {
    if is_plain(text) {
        return text.to_string();
    }
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

fn is_plain(text: &str) -> bool {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '_') {
        return false;
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '@' | '-')) {
        return false;
    }
    const WORDS: &[&str] = &["true", "false", "yes", "no", "on", "off", "null", "y", "n"];
    !WORDS.contains(&text.to_ascii_lowercase().as_str())
}

/// `[a, "b c"]`.
pub fn list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|item| scalar(item)).collect();
    format!("[{}]", inner.join(", "))
}

/// `{key: "value", ...}` of string pairs.
pub fn string_map<'a>(entries: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let inner: Vec<String> = entries
        .into_iter()
        .map(|(key, value)| {
            format!(
                "{}: {}",
                scalar(key),
                serde_json::to_string(value).unwrap_or_default()
            )
        })
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// Any JSON value as a YAML flow value (objects as `{k: v}`, strings always quoted).
pub fn flow(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => serde_json::to_string(text).unwrap_or_default(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(key, value)| format!("{}: {}", scalar(key), flow(value)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_strings_stay_plain() {
        assert_eq!(scalar("userpass/alice"), "userpass/alice");
        assert_eq!(scalar("admin/"), "admin/");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("2fa"), "\"2fa\"");
        assert_eq!(scalar("a b"), "\"a b\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("x\"\n"), "\"x\\\"\\n\"");
        let value = serde_json::json!({"k": ["a", 1, true, null], "a b": {"c": "d"}});
        assert_eq!(
            flow(&value),
            r#"{k: ["a", 1, true, null], "a b": {c: "d"}}"#
        );
    }
}
