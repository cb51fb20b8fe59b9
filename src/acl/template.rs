//! Identity templates in path labels, resolved when the ACL is built (spec 1.8).
//!
//! A failure makes the ACL skip that one rule; the reason is kept so `explain` can show it.

use super::identity::{Alias, Group, Identity};
use crate::target::Target;

pub use crate::policy::TemplateFlags;

/// What a substitution may read.
pub(crate) struct TemplateInput<'a> {
    pub identity: Option<&'a Identity>,
    pub target: Target,
    pub flags: TemplateFlags,
    /// Unix seconds for `time.now`.
    pub now: i64,
}

const UNBALANCED: &str = "unbalanced templating characters";
const NOT_FOUND: &str = "no value could be found for one of the template directives";

/// Why a substitution failed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TemplateError {
    /// The value is missing (no entity, unknown variable, ...): the rule is skipped.
    Skip(String),
    /// OpenBao refused a substituted value: the whole policy fails to parse, so every request
    /// of the token fails (asked of OpenBao 2.7.2).
    Forbidden(String),
}

impl TemplateError {
    pub fn message(&self) -> &str {
        match self {
            TemplateError::Skip(message) | TemplateError::Forbidden(message) => message,
        }
    }
}

/// Substitutes every `{{...}}` directive of `label` (identitytpl's `PopulateString` in ACL
/// mode), in order; the first failing directive decides. Cost: O(label length + identity size).
pub(crate) fn substitute(label: &str, input: &TemplateInput<'_>) -> Result<String, TemplateError> {
    if !label.contains("{{") || !label.contains("}}") {
        return Ok(label.to_string());
    }
    let mut pieces = label.split("{{");
    let first = pieces.next().unwrap_or("");
    if first.contains("}}") {
        return Err(TemplateError::Skip(UNBALANCED.into()));
    }
    let mut out = String::from(first);
    for piece in pieces {
        let parts: Vec<&str> = piece.split("}}").collect();
        let [directive, rest] = parts[..] else {
            return Err(TemplateError::Skip(UNBALANCED.into()));
        };
        let value = resolve(directive.trim(), input).map_err(TemplateError::Skip)?;
        check_vault_globs(&value, input).map_err(TemplateError::Skip)?;
        check_forbidden(&value, input).map_err(TemplateError::Forbidden)?;
        out.push_str(&value);
        out.push_str(rest);
    }
    Ok(out)
}

/// Vault's newest `identitytpl` refuses a substituted value containing `*` or `+`; the rule is
/// skipped like any failed substitution, the rest of the policy applies (spec 1.8).
fn check_vault_globs(value: &str, input: &TemplateInput<'_>) -> Result<(), String> {
    if input.target != Target::Vault || !value.contains(['*', '+']) {
        return Ok(());
    }
    Err("globs and wildcards are not allowed in template result".into())
}

/// OpenBao blocks `/`, `*` and `+` in substituted values unless the policy allows them.
fn check_forbidden(value: &str, input: &TemplateInput<'_>) -> Result<(), String> {
    if input.target != Target::OpenBao {
        return Ok(());
    }
    let mut blocked: Vec<&str> = Vec::new();
    if !input.flags.allow_slashes {
        blocked.push("/");
    }
    if !input.flags.allow_wildcards {
        blocked.extend(["*", "+"]);
    }
    match blocked.into_iter().find(|needle| value.contains(needle)) {
        Some(needle) => Err(format!(
            "template substitution contains forbidden value: {needle:?}"
        )),
        None => Ok(()),
    }
}

/// The directives of `label` that `substitute` may resolve, trimmed, in order: the text
/// before the first `}}` of each piece after a `{{` (a superset: pieces past an unbalanced
/// one are listed too, though substitution stops there). Cost: O(label length).
pub fn label_directives(label: &str) -> impl Iterator<Item = &str> {
    let templated = label.contains("{{") && label.contains("}}");
    label
        .split("{{")
        .skip(1)
        .filter(move |_| templated)
        .map(|piece| piece.split("}}").next().unwrap_or("").trim())
}

/// What of a directive's value can change a rule's template step (see [`directive_shape`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DirectiveShape {
    /// No value: the rule is skipped, whatever else it holds.
    Missing,
    /// The value with each run of other characters than `/`, `*`, `+`, `{` and `}` made one
    /// `a` (an empty value stays empty).
    Value(String),
}

/// The shape of `directive`'s value for `identity` (a directive as [`label_directives`]
/// gives it; `time.*` read at the Unix epoch, which gives the shape of every instant: digits
/// and `-`). Two identities with the same shape for every directive of a rule get the same
/// template step for it: `substitute` reads of a value only whether it resolves and which
/// of `/`, `*`, `+` it holds (Vault's glob refusal, OpenBao's forbidden values), and the
/// pattern's parse only where `+` meets `*` (spec 1.5 step 6), which a run of other
/// characters, of any length but zero, keeps apart; `{` and `}` in a value are inserted as
/// text, kept only to be safe. Cost: O(value length + identity size).
pub fn directive_shape(directive: &str, identity: Option<&Identity>) -> DirectiveShape {
    let input = TemplateInput {
        identity,
        target: Target::Vault,
        flags: TemplateFlags::default(),
        now: 0,
    };
    let Ok(value) = resolve(directive, &input) else {
        return DirectiveShape::Missing;
    };
    let mut shape = String::new();
    for c in value.chars() {
        match c {
            '/' | '*' | '+' | '{' | '}' => shape.push(c),
            _ if shape.ends_with('a') => {}
            _ => shape.push('a'),
        }
    }
    DirectiveShape::Value(shape)
}

fn resolve(directive: &str, input: &TemplateInput<'_>) -> Result<String, String> {
    if let Some(rest) = directive.strip_prefix("identity.entity.") {
        let identity = input
            .identity
            .ok_or("no entity associated with the request's token")?;
        return entity_value(rest, identity);
    }
    if let Some(rest) = directive.strip_prefix("identity.groups.") {
        let groups = input.identity.map(|i| i.groups.as_slice()).unwrap_or(&[]);
        if groups.is_empty() {
            return Err(
                "string contains groups template directives but no groups were provided".into(),
            );
        }
        return group_value(rest, groups);
    }
    if let Some(rest) = directive.strip_prefix("time.") {
        return time_value(rest, input.now);
    }
    Err(format!("invalid template directive `{directive}`"))
}

fn entity_value(selector: &str, identity: &Identity) -> Result<String, String> {
    if selector == "id" {
        return Ok(identity.entity_id.clone());
    }
    if selector == "name" {
        return non_empty(&identity.entity_name);
    }
    if let Some(key) = selector.strip_prefix("metadata.") {
        return identity
            .metadata
            .get(key)
            .cloned()
            .ok_or_else(|| NOT_FOUND.into());
    }
    if let Some(rest) = selector.strip_prefix("aliases.") {
        let Some((accessor, field)) = rest.split_once('.') else {
            return Err("invalid alias selector".into());
        };
        let alias = identity
            .aliases
            .iter()
            .find(|alias| alias.mount_accessor == accessor)
            .ok_or_else(|| format!("alias not found for mount accessor `{accessor}`"))?;
        return alias_value(field, alias);
    }
    Err(NOT_FOUND.into())
}

fn alias_value(field: &str, alias: &Alias) -> Result<String, String> {
    if field == "id" {
        return Ok(alias.id.clone());
    }
    if field == "name" {
        return non_empty(&alias.name);
    }
    let found = if let Some(key) = field.strip_prefix("metadata.") {
        alias.metadata.get(key)
    } else if let Some(key) = field.strip_prefix("custom_metadata.") {
        alias.custom_metadata.get(key)
    } else {
        None
    };
    found.cloned().ok_or_else(|| NOT_FOUND.into())
}

fn group_value(selector: &str, groups: &[Group]) -> Result<String, String> {
    let (by_ids, rest) = match selector.split_once('.') {
        Some(("ids", rest)) => (true, rest),
        Some(("names", rest)) => (false, rest),
        _ => return Err("invalid groups selector".into()),
    };
    let Some((wanted, field)) = rest.split_once('.') else {
        return Err("invalid groups accessor".into());
    };
    let group = groups
        .iter()
        .find(|group| {
            if by_ids {
                group.id == wanted
            } else {
                group.name == wanted
            }
        })
        .ok_or_else(|| format!("entity is not a member of group {wanted:?}"))?;
    if field == "id" {
        return Ok(group.id.clone());
    }
    if field == "name" {
        return non_empty(&group.name);
    }
    match field.strip_prefix("metadata.") {
        Some(key) => group.metadata.get(key).cloned().ok_or(NOT_FOUND.into()),
        None => Err(NOT_FOUND.into()),
    }
}

fn time_value(selector: &str, now: i64) -> Result<String, String> {
    if selector == "now" {
        return Ok(now.to_string());
    }
    if let Some(duration) = selector.strip_prefix("now.plus.") {
        return Ok((now + duration_seconds(duration)?).to_string());
    }
    if let Some(duration) = selector.strip_prefix("now.minus.") {
        return Ok((now - duration_seconds(duration)?).to_string());
    }
    Err(format!("invalid time selector `{selector}`"))
}

fn non_empty(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err(NOT_FOUND.into());
    }
    Ok(value.to_string())
}

/// A `ParseDurationSecond` subset for `time.now.plus.<d>`: integer seconds, `<n>d` days, or a
/// Go duration made of integer or decimal numbers with `h`, `m`, `s`, `ms`, `us`, `ns` units.
fn duration_seconds(text: &str) -> Result<i64, String> {
    let invalid = || format!("invalid duration `{text}`");
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    if let Some(days) = text.strip_suffix('d') {
        if let Ok(days) = days.parse::<i64>() {
            return Ok(days * 86_400);
        }
    }
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        let number: f64 = rest[..number_len].parse().map_err(|_| invalid())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return Err(invalid()),
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    Ok(total as i64)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn identity() -> Identity {
        Identity {
            entity_id: "e-1".into(),
            entity_name: "alice".into(),
            metadata: BTreeMap::from([("team".to_string(), "ai".to_string())]),
            aliases: vec![Alias {
                mount_accessor: "auth_userpass_1".into(),
                id: "a-1".into(),
                name: "alice-up".into(),
                metadata: BTreeMap::from([("region".to_string(), "eu".to_string())]),
                custom_metadata: BTreeMap::from([("cost".to_string(), "42".to_string())]),
            }],
            groups: vec![Group {
                id: "g-1".into(),
                name: "admins".into(),
                metadata: BTreeMap::from([("env".to_string(), "prod/eu".to_string())]),
            }],
        }
    }

    fn run(
        label: &str,
        target: Target,
        identity: Option<&Identity>,
    ) -> Result<String, TemplateError> {
        let input = TemplateInput {
            identity,
            target,
            flags: TemplateFlags::default(),
            now: 1000,
        };
        substitute(label, &input)
    }

    #[test]
    fn substitutes_every_variable_of_spec_1_8() {
        let who = identity();
        let cases = [
            ("a/{{identity.entity.id}}", "a/e-1"),
            ("a/{{ identity.entity.name }}/b", "a/alice/b"),
            ("{{identity.entity.metadata.team}}", "ai"),
            ("{{identity.entity.aliases.auth_userpass_1.id}}", "a-1"),
            (
                "{{identity.entity.aliases.auth_userpass_1.name}}",
                "alice-up",
            ),
            (
                "{{identity.entity.aliases.auth_userpass_1.metadata.region}}",
                "eu",
            ),
            (
                "{{identity.entity.aliases.auth_userpass_1.custom_metadata.cost}}",
                "42",
            ),
            ("{{identity.groups.ids.g-1.name}}", "admins"),
            ("{{identity.groups.names.admins.id}}", "g-1"),
            ("{{time.now}}", "1000"),
            ("{{time.now.plus.1h}}", "4600"),
            ("{{time.now.minus.10}}", "990"),
        ];
        for (label, expected) in cases {
            assert_eq!(
                run(label, Target::Vault, Some(&who)).as_deref(),
                Ok(expected),
                "{label}"
            );
        }
    }

    #[test]
    fn failures_skip_the_rule() {
        let who = identity();
        for label in [
            "{{identity.entity.unknown}}",
            "{{identity.entity.metadata.missing}}",
            "{{identity.entity.metadata}}",
            "{{identity.entity.aliases.nope.name}}",
            "{{identity.groups.names.nobody.id}}",
            "{{identity.bogus}}",
            "a}}{{identity.entity.id}}",
        ] {
            assert!(run(label, Target::Vault, Some(&who)).is_err(), "{label}");
        }
        assert!(run("{{identity.entity.id}}", Target::Vault, None).is_err());
        let no_name = Identity {
            entity_id: "e".into(),
            ..Identity::default()
        };
        assert!(run("{{identity.entity.name}}", Target::Vault, Some(&no_name)).is_err());
        assert!(run(
            "{{identity.groups.ids.g.id}}",
            Target::Vault,
            Some(&no_name)
        )
        .is_err());
    }

    /// Spec 1.8: OpenBao blocks `/`, `*`, `+` in substituted values; Vault allows `/`.
    #[test]
    fn openbao_blocks_slashes_and_wildcards() {
        let who = identity();
        let label = "x/{{identity.groups.ids.g-1.metadata.env}}";
        assert_eq!(
            run(label, Target::Vault, Some(&who)).as_deref(),
            Ok("x/prod/eu")
        );
        let blocked = run(label, Target::OpenBao, Some(&who)).unwrap_err();
        assert_eq!(
            blocked,
            TemplateError::Forbidden(
                "template substitution contains forbidden value: \"/\"".into()
            )
        );
        let allowed = TemplateInput {
            identity: Some(&who),
            target: Target::OpenBao,
            flags: TemplateFlags {
                allow_slashes: true,
                allow_wildcards: false,
            },
            now: 0,
        };
        assert_eq!(substitute(label, &allowed).as_deref(), Ok("x/prod/eu"));
    }

    /// A value's shape keeps whether it resolves, its emptiness and each of `/`, `*`, `+`,
    /// `{`, `}` in order, and nothing else: `+{{x}}*` fails its parse for an empty value only.
    #[test]
    fn directive_shapes_keep_what_a_template_step_reads() {
        let shape = |team: Option<&str>| {
            let mut who = identity();
            who.metadata.remove("team");
            if let Some(team) = team {
                who.metadata.insert("team".into(), team.into());
            }
            directive_shape("identity.entity.metadata.team", Some(&who))
        };
        let value = |text: &str| DirectiveShape::Value(text.into());
        assert_eq!(shape(None), DirectiveShape::Missing);
        assert_eq!(shape(Some("")), value(""));
        assert_eq!(shape(Some("ai")), value("a"));
        assert_eq!(shape(Some("x/yz*+{q}")), value("a/a*+{a}"));
        assert_eq!(shape(Some("é/")), value("a/"));
        assert_ne!(shape(Some("")), shape(Some("a")));
        for special in ["/", "*", "+", "{", "}"] {
            assert_ne!(shape(Some(special)), shape(Some("a")), "{special}");
        }
        let directives: Vec<&str> = label_directives("a/{{ x }}/{{y}}b{{z").collect();
        assert_eq!(directives, ["x", "y", "z"]);
        assert_eq!(label_directives("a/{{x").count(), 0);
    }

    /// Spec 1.8 (Vault newest `identitytpl`): a substituted `*` or `+` skips the rule on Vault,
    /// whatever OpenBao's policy flags say; `/` stays allowed.
    #[test]
    fn vault_refuses_globs_in_substituted_values() {
        for (value, refused) in [("+", true), ("a*", true), ("x+y", true), ("a/b", false)] {
            let mut who = identity();
            who.metadata.insert("team".into(), value.into());
            let result = run(
                "secret/data/{{identity.entity.metadata.team}}/*",
                Target::Vault,
                Some(&who),
            );
            match refused {
                true => assert_eq!(
                    result,
                    Err(TemplateError::Skip(
                        "globs and wildcards are not allowed in template result".into()
                    )),
                    "{value}"
                ),
                false => assert_eq!(result, Ok(format!("secret/data/{value}/*")), "{value}"),
            }
        }
    }
}
