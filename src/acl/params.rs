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
    for required in &rule.extra().required_parameters {
        let wanted = required.to_lowercase();
        if !data.contains_key(&wanted) {
            return Err(DenyReason::MissingRequiredParameter(wanted));
        }
    }
    if data.is_empty() {
        return Ok(());
    }
    let matcher = Matcher { target };
    if let Some(denied) = non_empty(&rule.extra().denied_parameters) {
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
    let Some(allowed) = non_empty(&rule.extra().allowed_parameters) else {
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

/// The parameters whose values Vault's newest source compares as canonical policy names
/// (spec 3.7, `acl_policy_canonicalization_test.go`).
const POLICY_NAME_PARAMETERS: [&str; 6] = [
    "policies",
    "token_policies",
    "allowed_policies",
    "disallowed_policies",
    "allowed_policies_glob",
    "disallowed_policies_glob",
];

struct Matcher {
    target: Target,
}

impl Matcher {
    /// Vault ≥ 1.21 splits lists and comma-separated strings; OpenBao matches whole values.
    fn per_element(&self) -> bool {
        self.target == Target::Vault
    }

    /// Vault newest: values of the policy-bearing parameters are policy names, compared
    /// case-folded and trimmed on both sides, with `*` allowed anywhere in the pattern.
    fn policy_names(&self, name: &str) -> bool {
        self.target == Target::Vault && POLICY_NAME_PARAMETERS.contains(&&*name.to_lowercase())
    }

    fn allowed_matches(&self, name: &str, value: &Value, entry: &ParamEntry) -> bool {
        let names = self.policy_names(name);
        let value = canonical_value(value, names);
        if value_in_list(&value, entry, names) {
            return true;
        }
        if !self.per_element() {
            return false;
        }
        let elements = elements(&value);
        !elements.is_empty() && elements.iter().all(|e| value_in_list(e, entry, names))
    }

    fn denied_matches(&self, name: &str, value: &Value, entry: &ParamEntry) -> bool {
        let names = self.policy_names(name);
        let value = canonical_value(value, names);
        if value_in_list(&value, entry, names) {
            return true;
        }
        self.per_element()
            && elements(&value)
                .iter()
                .any(|e| value_in_list(e, entry, names))
    }
}

/// A policy name as Vault's newest source compares it: surrounding whitespace (Unicode
/// `White_Space`, so U+00A0 too) trimmed, case-folded.
fn canonical_policy_name(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The request value with its strings (and the strings of a list) canonicalised when they are
/// policy names; otherwise unchanged.
fn canonical_value(value: &Value, policy_names: bool) -> Value {
    if !policy_names {
        return value.clone();
    }
    match value {
        Value::String(text) => Value::String(canonical_policy_name(text)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| canonical_value(item, matches!(item, Value::String(_))))
                .collect(),
        ),
        other => other.clone(),
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
fn value_in_list(value: &Value, entry: &ParamEntry, policy_names: bool) -> bool {
    entry.values.is_empty()
        || entry
            .values
            .iter()
            .any(|element| match (&element.value, value) {
                (ParamValue::Str(pattern), Value::String(text)) if policy_names => {
                    policy_name_matches(&canonical_policy_name(pattern), text)
                }
                (element, value) => element_matches(element, value),
            })
}

/// A canonical policy-name pattern against a canonical name: [`glob_matches`], and besides a
/// `*` inside the pattern matches any run of characters (`team.*.lead`). Cost: O(pattern ×
/// value) in the worst case, linear for the usual one or two stars.
fn policy_name_matches(pattern: &str, name: &str) -> bool {
    if pattern.len() < 2 || !pattern.contains('*') {
        return glob_matches(pattern, name);
    }
    let pieces: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = pieces.split_first().unwrap_or((&"", &[]));
    let Some(mut remaining) = name.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for piece in middle {
        match remaining.find(piece) {
            Some(at) => remaining = &remaining[at + piece.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
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
    let limit = rule.extra().pagination_limit;
    if limit <= 0 {
        return Ok(());
    }
    let Some(requested) = data.get("limit") else {
        let required = rule
            .extra()
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

    /// Spec 3.7, Vault newest (`acl_policy_canonicalization_test.go`): policy-name patterns
    /// with a `*` inside.
    #[test]
    fn policy_name_patterns_of_spec_3_7() {
        assert!(policy_name_matches("team.*.lead", "team.platform.lead"));
        assert!(!policy_name_matches("team.*.lead", "team.platform.leads"));
        assert!(policy_name_matches("a*b*c", "abc"));
        assert!(policy_name_matches("a*b*c", "axxbyyc"));
        assert!(!policy_name_matches("a*b*c", "ac"));
        assert!(policy_name_matches("ab*", "abc"));
        assert!(policy_name_matches("*bc", "abc"));
        assert!(!policy_name_matches("aa*aa", "aaa"));
        assert!(policy_name_matches("*", "*"));
        assert!(!policy_name_matches("*", "x"));
        assert_eq!(canonical_policy_name(" Super-Admin\u{a0}\n"), "super-admin");
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
