//! Parameter checks on the winning rule (spec 3.7) and OpenBao pagination (spec 3.9).
//!
//! Cost: O(request keys × listed values × value size).

use serde_json::Value;

use super::types::{DenyReason, MergedRule};
use crate::policy::{ParamEntry, ParamMap, ParamValue};
use crate::target::Target;

/// Checks required, denied and allowed parameters of `data` against `rule`.
pub(crate) fn check_parameters(
    rule: &MergedRule,
    data: &serde_json::Map<String, Value>,
    target: Target,
) -> Result<(), DenyReason> {
    for required in &rule.required_parameters {
        let wanted = required.to_lowercase();
        if !data.contains_key(&wanted) {
            return Err(DenyReason::MissingRequiredParameter(wanted));
        }
    }
    if data.is_empty() {
        return Ok(());
    }
    let matcher = Matcher { target };
    if let Some(denied) = non_empty(&rule.denied_parameters) {
        if denied.contains_key("*") {
            let first = data.keys().next().cloned().unwrap_or_default();
            return Err(DenyReason::DeniedParameter(first));
        }
        for (name, value) in data {
            let Some(entry) = denied.get(&name.to_lowercase()) else {
                continue;
            };
            if matcher.denied_matches(name, value, entry) {
                return Err(DenyReason::DeniedParameter(name.clone()));
            }
        }
    }
    let Some(allowed) = non_empty(&rule.allowed_parameters) else {
        return Ok(());
    };
    let allows_all = allowed.contains_key("*");
    if allows_all && allowed.len() == 1 {
        return Ok(());
    }
    for (name, value) in data {
        match allowed.get(&name.to_lowercase()) {
            None if allows_all => {}
            None => return Err(DenyReason::ParameterNotAllowed(name.clone())),
            Some(entry) if !matcher.allowed_matches(name, value, entry) => {
                return Err(DenyReason::ParameterNotAllowed(name.clone()));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn non_empty(map: &Option<ParamMap>) -> Option<&ParamMap> {
    map.as_ref().filter(|map| !map.is_empty())
}

struct Matcher {
    target: Target,
}

impl Matcher {
    /// Vault ≥ 1.21 splits lists and comma-separated strings; OpenBao matches whole values.
    fn per_element(&self) -> bool {
        self.target == Target::Vault
    }

    fn allowed_matches(&self, name: &str, value: &Value, entry: &ParamEntry) -> bool {
        let value = self.normalise(name, value);
        if value_in_list(&value, entry) {
            return true;
        }
        if !self.per_element() {
            return false;
        }
        let elements = elements(&value);
        !elements.is_empty() && elements.iter().all(|e| value_in_list(e, entry))
    }

    fn denied_matches(&self, name: &str, value: &Value, entry: &ParamEntry) -> bool {
        let value = self.normalise(name, value);
        if value_in_list(&value, entry) {
            return true;
        }
        self.per_element() && elements(&value).iter().any(|e| value_in_list(e, entry))
    }

    /// Vault newest lower-cases the values of `policies` and `token_policies`.
    fn normalise(&self, name: &str, value: &Value) -> Value {
        let lowered = name.to_lowercase();
        if !self.per_element() || (lowered != "policies" && lowered != "token_policies") {
            return value.clone();
        }
        match value {
            Value::String(text) => Value::String(text.to_lowercase()),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| match item {
                        Value::String(text) => Value::String(text.to_lowercase()),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// A list's elements, or a string's comma-separated, trimmed pieces (Vault ≥ 1.21). An empty
/// list has no element, so it never matches element-wise (our decision: spec 3.7 is silent).
fn elements(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::String(text) => text
            .split(',')
            .map(|piece| Value::String(piece.trim().to_string()))
            .collect(),
        _ => Vec::new(),
    }
}

/// `valueInParameterList`: an empty list matches anything.
fn value_in_list(value: &Value, entry: &ParamEntry) -> bool {
    entry.values.is_empty()
        || entry
            .values
            .iter()
            .any(|element| element_matches(&element.value, value))
}

/// One list element against a request value: nil only equals nil, two strings glob-match,
/// anything else is a type-sensitive deep equality (a JSON number never equals an HCL number,
/// because the HTTP layer decodes numbers as `json.Number`).
fn element_matches(element: &ParamValue, value: &Value) -> bool {
    match (element, value) {
        (ParamValue::Null, _) | (_, Value::Null) => {
            matches!((element, value), (ParamValue::Null, Value::Null))
        }
        (ParamValue::Str(pattern), Value::String(text)) => glob_matches(pattern, text),
        _ => deep_equal(element, value),
    }
}

fn deep_equal(element: &ParamValue, value: &Value) -> bool {
    match (element, value) {
        (ParamValue::Null, Value::Null) => true,
        (ParamValue::Str(a), Value::String(b)) => a == b,
        (ParamValue::Bool(a), Value::Bool(b)) => a == b,
        (ParamValue::List(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| deep_equal(x, y))
        }
        (ParamValue::Map(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, x)| b.get(key).is_some_and(|y| deep_equal(x, y)))
        }
        _ => false,
    }
}

/// `strutil.GlobbedStringsMatch` with the policy value as the pattern.
pub fn glob_matches(pattern: &str, value: &str) -> bool {
    if pattern.len() < 2 {
        return value == pattern;
    }
    let starts = pattern.starts_with('*');
    let ends = pattern.ends_with('*');
    match (starts, ends) {
        (true, true) => value.contains(&pattern[1..pattern.len() - 1]),
        (true, false) => value.ends_with(&pattern[1..]),
        (false, true) => value.starts_with(&pattern[..pattern.len() - 1]),
        (false, false) => value == pattern,
    }
}

/// OpenBao pagination for list and scan (spec 3.9), judged on `limit` only.
pub(crate) fn check_pagination(
    rule: &MergedRule,
    data: &serde_json::Map<String, Value>,
) -> Result<(), DenyReason> {
    let limit = rule.pagination_limit;
    if limit <= 0 {
        return Ok(());
    }
    let Some(requested) = data.get("limit") else {
        let required = rule
            .required_parameters
            .iter()
            .any(|name| name.eq_ignore_ascii_case("limit"));
        if required {
            return Err(DenyReason::MissingRequiredParameter("limit".into()));
        }
        return Ok(());
    };
    let text = match requested {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        other => other.to_string(),
    };
    match text.parse::<i64>() {
        Ok(asked) if asked < 0 || asked > limit => Err(DenyReason::Other(format!(
            "`limit` {asked} is outside 0..={limit} (pagination_limit)"
        ))),
        Ok(_) => Ok(()),
        Err(_) if text == "max" => Ok(()),
        Err(_) => Err(DenyReason::Other(format!(
            "`limit` `{text}` is neither an integer nor `max`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_rules_of_spec_3_7() {
        assert!(glob_matches("*", "*"));
        assert!(!glob_matches("*", "anything"));
        assert!(glob_matches("**", "anything"));
        assert!(glob_matches("*oo*", "foobar"));
        assert!(glob_matches("*bar", "foobar"));
        assert!(!glob_matches("*bar", "barfoo"));
        assert!(glob_matches("foo*", "foobar"));
        assert!(glob_matches("a*b", "a*b"));
        assert!(!glob_matches("a*b", "axb"));
        assert!(glob_matches("", ""));
    }

    #[test]
    fn deep_equality_is_type_sensitive() {
        assert!(!element_matches(&ParamValue::Int(1), &serde_json::json!(1)));
        assert!(!element_matches(
            &ParamValue::Float(1.0),
            &serde_json::json!(1.0)
        ));
        assert!(!element_matches(
            &ParamValue::Str("1".into()),
            &serde_json::json!(1)
        ));
        assert!(element_matches(
            &ParamValue::Bool(true),
            &serde_json::json!(true)
        ));
        let list = ParamValue::List(vec![ParamValue::Str("a".into())]);
        assert!(element_matches(&list, &serde_json::json!(["a"])));
        assert!(!element_matches(
            &ParamValue::List(vec![ParamValue::Str("a*".into())]),
            &serde_json::json!(["ab"])
        ));
        let map = ParamValue::Map([("good".to_string(), ParamValue::Str("one".into()))].into());
        assert!(element_matches(&map, &serde_json::json!({"good": "one"})));
        assert!(!element_matches(&map, &serde_json::json!({"good": "two"})));
        assert!(element_matches(&ParamValue::Null, &Value::Null));
        assert!(!element_matches(&ParamValue::Str("".into()), &Value::Null));
    }
}
