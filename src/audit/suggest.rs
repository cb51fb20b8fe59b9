//! `audit suggest`: the least-privilege policy for the requests one subject made.
//!
//! Steps, for the distinct (operation, path) requests the server allowed:
//! 1. one exact rule per path, with the capability each operation needs (spec 3.2). On a KV v2
//!    mount a write needs `create` for a new key and `update` for an existing one, and which of
//!    the two the log shows depends only on whether the key existed, so either grants both;
//!    paths that need `sudo` (spec 6) get it, and are never generalised;
//! 2. a path segment becomes `+` when more than `threshold` distinct values were seen in that
//!    segment with the rest of the path and the capabilities equal (the mount, and a KV v2
//!    mount's `data/`, `metadata/`, ... segment, are never generalised);
//! 3. a folder `p/` becomes `p/*` when more than `threshold` distinct rules with equal
//!    capabilities lie under it (deepest folders first);
//! 4. the result is checked with capable's ACL against every observed request; a request it
//!    would not allow (a more specific generalised rule with fewer capabilities won) gets its
//!    own exact rule back;
//! 5. each rule is commented with the requests it decides, counted with the same ACL.
//!
//! Requests the `default` policy already allows are left to it when the subject holds
//! `default`. Denied requests are never granted. The policy is written for one namespace
//! (docs/namespaces.md): its paths are relative to it, a request in a child namespace becomes
//! a path through that child (`team-a/secret/...` in `admin/`), and a request outside the
//! namespace cannot be granted by it and is only counted. Cost: O(d × s²) for d distinct requests of s
//! segments, plus one ACL decision per distinct request per verification round (at most 3).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::observed::Observed;
use crate::acl::AclOptions;
use crate::acl::{builtin, Acl, Operation, Request};
use crate::config::Mounts;
use crate::namespace::Namespaces;
use crate::policy::{parse_policy, CapSet, Capability, Policy};
use crate::source::SourceFile;
use crate::target::Target;

/// The default for `threshold`: more than this many distinct values generalise a segment.
pub const DEFAULT_THRESHOLD: usize = 8;

/// KV v2 API folders directly under the mount.
const KV2_FOLDERS: &[&str] = &[
    "data",
    "metadata",
    "delete",
    "undelete",
    "destroy",
    "subkeys",
    "detailed-metadata",
];

/// One rule of the suggestion.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SuggestedRule {
    pub pattern: String,
    pub capabilities: Vec<String>,
    /// Requests this rule decides, in total and per operation.
    pub requests: u64,
    pub by_operation: BTreeMap<String, u64>,
}

/// The suggestion and what it is based on.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Suggestion {
    pub rules: Vec<SuggestedRule>,
    /// The policy text (HCL).
    pub text: String,
    pub covered_requests: u64,
    /// Requests left to the `default` policy.
    pub left_to_default: u64,
    /// Observed requests the suggestion still would not allow (0 unless the ACL disagrees
    /// with step 4's repair, which would be a bug).
    pub uncovered: u64,
    pub threshold: usize,
    /// The namespace the policy is for (`""` for root).
    pub namespace: String,
    /// Allowed requests outside that namespace (a policy there cannot grant them).
    pub outside_namespace: u64,
}

/// What to build the suggestion for.
pub struct SuggestInput<'a> {
    pub observed: &'a Observed,
    pub target: Target,
    pub mounts: &'a Mounts,
    /// The `default` policy the subject holds, if it holds one (its requests are left to it).
    pub default_policy: Option<&'a Policy>,
    pub threshold: usize,
    /// The header comment's first line (who the policy is for).
    pub title: String,
    /// The namespace the policy is written for (`""` for root).
    pub namespace: &'a str,
    /// The namespace tree (sudo is judged relative to the deepest namespace of a path).
    pub namespaces: &'a Namespaces,
}

#[derive(Clone, Debug)]
struct Item {
    segments: Vec<String>,
    caps: CapSet,
    /// Segments that are never generalised.
    protected: usize,
    /// Needs sudo: kept exact.
    exact_only: bool,
}

impl Item {
    fn pattern(&self) -> String {
        self.segments.join("/")
    }
}

/// Builds the suggestion. See the module documentation for the steps.
pub fn suggest(input: &SuggestInput<'_>) -> Suggestion {
    let default_acl = input.default_policy.and_then(|policy| {
        let mut policy = policy.clone();
        policy.namespace = input.namespace.to_string();
        Acl::with_options(&[&policy], input.target, None, &acl_options(input)).ok()
    });
    // (operation, full path, count) of the requests the suggestion must allow.
    let mut requests: Vec<(Operation, String, u64)> = Vec::new();
    let mut left_to_default = 0;
    let mut outside_namespace = 0;
    let mut exact: BTreeMap<String, Item> = BTreeMap::new();
    for ((operation, full_path), seen) in &input.observed.allowed {
        let operation = operation.0;
        let Some(path) = full_path.strip_prefix(input.namespace) else {
            outside_namespace += seen.count;
            continue;
        };
        if let Some(acl) = &default_acl {
            if acl.is_allowed(&Request::new(operation, full_path.clone())) {
                left_to_default += seen.count;
                continue;
            }
        }
        requests.push((operation, full_path.clone(), seen.count));
        let mount_point = seen
            .mount_point
            .as_deref()
            .and_then(|mount| mount.strip_prefix(input.namespace));
        let kv2 = is_kv2(
            full_path,
            path,
            mount_point,
            seen.mount_type.as_deref(),
            input.mounts,
        );
        let (_, routed) = input.namespaces.split(full_path);
        let item = exact.entry(path.to_string()).or_insert_with(|| Item {
            segments: path.split('/').map(str::to_string).collect(),
            caps: CapSet::EMPTY,
            protected: protected_segments(path, mount_point, kv2),
            exact_only: needs_sudo(input.target, routed),
        });
        item.caps = item.caps.union(needed(operation, kv2));
        if item.exact_only {
            item.caps = item.caps.with(Capability::Sudo);
        }
    }
    let exact_items: Vec<Item> = exact.values().cloned().collect();
    let mut items = collapse_plus(exact_items.clone(), input.threshold);
    items = collapse_star(items, input.threshold);
    let mut uncovered = 0;
    for _round in 0..3 {
        let text = render(&items, &BTreeMap::new(), input, left_to_default);
        let Some(acl) = acl_of(&text, input) else {
            break;
        };
        let failing: Vec<&(Operation, String, u64)> = requests
            .iter()
            .filter(|(op, path, _)| !acl.is_allowed(&Request::new(*op, path.clone())))
            .collect();
        uncovered = failing.iter().map(|(_, _, count)| count).sum();
        if failing.is_empty() {
            break;
        }
        for (_, full_path, _) in failing {
            let path = &full_path[input.namespace.len()..];
            if let Some(original) = exact.get(path) {
                items.retain(|item| item.pattern() != *path);
                items.push(original.clone());
            }
        }
        items = merge_items(items);
    }
    let counts = count_by_rule(&items, &requests, input);
    let text = render(&items, &counts, input, left_to_default);
    let rules = items
        .iter()
        .map(|item| {
            let pattern = item.pattern();
            let by_operation = counts.get(&pattern).cloned().unwrap_or_default();
            SuggestedRule {
                requests: by_operation.values().sum(),
                capabilities: cap_names(item.caps),
                by_operation,
                pattern,
            }
        })
        .collect();
    Suggestion {
        rules,
        text,
        covered_requests: requests.iter().map(|(_, _, count)| count).sum::<u64>() - uncovered,
        left_to_default,
        uncovered,
        threshold: input.threshold,
        namespace: input.namespace.to_string(),
        outside_namespace,
    }
}

/// The ACL options of the suggestion's namespace.
fn acl_options(input: &SuggestInput<'_>) -> AclOptions {
    AclOptions {
        namespaces: Namespaces::new(input.namespaces.iter().chain([input.namespace])),
        ..AclOptions::default()
    }
}

/// The capabilities an operation needs; KV v2 writes get both `create` and `update`.
fn needed(operation: Operation, kv2: bool) -> CapSet {
    let Some(capability) = operation.capability() else {
        return CapSet::EMPTY;
    };
    match capability {
        Capability::Create | Capability::Update if kv2 => {
            CapSet::of(&[Capability::Create, Capability::Update])
        }
        other => CapSet::only(other),
    }
}

fn needs_sudo(target: Target, path: &str) -> bool {
    path == "sys/seal" || path == "sys/step-down" || builtin::requires_sudo(target, path)
}

/// Whether the path is in a KV v2 mount's API layout: the mount table's answer when it knows
/// the mount, else the log's mount type and the KV v2 folder under the mount. `path` and
/// `mount_point` are relative to the policy's namespace, `full_path` is not.
fn is_kv2(
    full_path: &str,
    path: &str,
    mount_point: Option<&str>,
    mount_type: Option<&str>,
    mounts: &Mounts,
) -> bool {
    if let Some(mount) = mounts.find(full_path) {
        return mount.engine == "kv" && mount.kv_version == Some(2);
    }
    let Some(mount) = mount_point else {
        return false;
    };
    if !matches!(mount_type, Some("kv") | Some("generic")) {
        return false;
    }
    let rest = path.strip_prefix(mount).unwrap_or("");
    let folder = rest.split('/').next().unwrap_or("");
    KV2_FOLDERS.contains(&folder)
}

/// Segments of the mount path, plus the KV v2 API folder.
fn protected_segments(path: &str, mount_point: Option<&str>, kv2: bool) -> usize {
    let mount_depth = match mount_point {
        Some(mount) if path.starts_with(mount) => mount.trim_end_matches('/').split('/').count(),
        _ => 1,
    };
    mount_depth + usize::from(kv2)
}

/// Step 2: `+` for a segment with more than `threshold` distinct values.
fn collapse_plus(mut items: Vec<Item>, threshold: usize) -> Vec<Item> {
    loop {
        // (position, the other segments, capabilities) → the distinct values at that position.
        let mut groups: HashMap<(usize, Vec<String>, u16), BTreeSet<String>> = HashMap::new();
        for item in items.iter().filter(|item| !item.exact_only) {
            for position in item.protected..item.segments.len() {
                let value = &item.segments[position];
                if value.is_empty() || value == "+" || value == "*" {
                    continue;
                }
                let mut others = item.segments.clone();
                others[position] = String::new();
                groups
                    .entry((position, others, item.caps.bits()))
                    .or_default()
                    .insert(value.clone());
            }
        }
        let wide: Vec<(usize, Vec<String>, u16)> = groups
            .into_iter()
            .filter(|(_, values)| values.len() > threshold)
            .map(|(key, _)| key)
            .collect();
        if wide.is_empty() {
            return items;
        }
        for item in items.iter_mut().filter(|item| !item.exact_only) {
            for (position, others, caps) in &wide {
                if item.caps.bits() != *caps || item.segments.len() != others.len() {
                    continue;
                }
                let mut mine = item.segments.clone();
                if *position >= mine.len() {
                    continue;
                }
                mine[*position] = String::new();
                if mine == *others {
                    item.segments[*position] = "+".into();
                }
            }
        }
        items = merge_items(items);
    }
}

/// Step 3: `p/*` for a folder with more than `threshold` distinct rules of equal
/// capabilities, deepest folders first.
fn collapse_star(mut items: Vec<Item>, threshold: usize) -> Vec<Item> {
    let deepest = items
        .iter()
        .map(|item| item.segments.len())
        .max()
        .unwrap_or(0);
    for depth in (1..deepest).rev() {
        let mut groups: HashMap<(Vec<String>, u16), usize> = HashMap::new();
        for item in &items {
            if item.exact_only || item.protected > depth || item.segments.len() <= depth {
                continue;
            }
            let folder = item.segments[..depth].to_vec();
            *groups.entry((folder, item.caps.bits())).or_default() += 1;
        }
        let wide: BTreeSet<(Vec<String>, u16)> = groups
            .into_iter()
            .filter(|(_, count)| *count > threshold)
            .map(|(key, _)| key)
            .collect();
        if wide.is_empty() {
            continue;
        }
        for item in items.iter_mut() {
            if item.exact_only || item.protected > depth || item.segments.len() <= depth {
                continue;
            }
            let key = (item.segments[..depth].to_vec(), item.caps.bits());
            if wide.contains(&key) {
                item.segments.truncate(depth);
                item.segments.push("*".into());
            }
        }
        items = merge_items(items);
    }
    items
}

/// One item per pattern (capabilities joined), sorted by pattern.
fn merge_items(items: Vec<Item>) -> Vec<Item> {
    let mut by_pattern: BTreeMap<String, Item> = BTreeMap::new();
    for item in items {
        match by_pattern.get_mut(&item.pattern()) {
            Some(existing) => {
                existing.caps = existing.caps.union(item.caps);
                existing.exact_only |= item.exact_only;
                existing.protected = existing.protected.min(item.protected);
            }
            None => {
                by_pattern.insert(item.pattern(), item);
            }
        }
    }
    by_pattern.into_values().collect()
}

/// The ACL of a suggestion's text, as a policy of the suggestion's namespace.
fn acl_of(text: &str, input: &SuggestInput<'_>) -> Option<Acl> {
    let source = Arc::new(SourceFile::new("suggested.hcl", text));
    let mut policy = parse_policy(source, input.target).policy?;
    policy.namespace = input.namespace.to_string();
    Acl::with_options(&[&policy], input.target, None, &acl_options(input)).ok()
}

/// Requests per winning rule pattern and operation, decided with the suggestion's ACL.
fn count_by_rule(
    items: &[Item],
    requests: &[(Operation, String, u64)],
    input: &SuggestInput<'_>,
) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let text = items
        .iter()
        .map(|item| rule_text(item, None))
        .collect::<String>();
    let Some(acl) = acl_of(&text, input) else {
        return counts;
    };
    for (operation, path, count) in requests {
        let decision = acl.authorize(&Request::new(*operation, path.clone()));
        let Some(winner) = decision.explanation.winner else {
            continue;
        };
        let Some(source) = winner.sources.first() else {
            continue;
        };
        *counts
            .entry(source.raw_pattern.clone())
            .or_default()
            .entry(operation.name().to_string())
            .or_default() += count;
    }
    counts
}

fn cap_names(caps: CapSet) -> Vec<String> {
    caps.iter().map(|c| c.name().to_string()).collect()
}

fn rule_text(item: &Item, counts: Option<&BTreeMap<String, u64>>) -> String {
    let capabilities = cap_names(item.caps)
        .iter()
        .map(|name| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let comment = match counts {
        Some(counts) => {
            let total: u64 = counts.values().sum();
            let parts = counts
                .iter()
                .map(|(op, n)| format!("{op} {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let noun = if total == 1 { "request" } else { "requests" };
            if parts.is_empty() {
                format!("# {total} {noun}\n")
            } else {
                format!("# {total} {noun}: {parts}\n")
            }
        }
        None => String::new(),
    };
    format!(
        "{comment}path \"{}\" {{\n  capabilities = [{capabilities}]\n}}\n",
        escape(&item.pattern())
    )
}

/// HCL string escaping for a pattern (quotes and backslashes; paths rarely hold either).
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

fn count_of(requests: u64) -> String {
    if requests == 1 {
        "1 request".into()
    } else {
        format!("{requests} requests")
    }
}

fn render(
    items: &[Item],
    counts: &BTreeMap<String, BTreeMap<String, u64>>,
    input: &SuggestInput<'_>,
    left_to_default: u64,
) -> String {
    let observed = input.observed;
    let mut text = String::new();
    text.push_str(&format!("# {}\n", input.title));
    if !input.namespace.is_empty() {
        text.push_str(&format!(
            "# a policy of the namespace `{}`: its paths are relative to it\n",
            input.namespace
        ));
    }
    let window = match (&observed.first, &observed.last) {
        (Some(first), Some(last)) => format!(", {first} .. {last}"),
        _ => String::new(),
    };
    text.push_str(&format!(
        "# from {} allowed requests{window}\n",
        observed.allowed_requests()
    ));
    if left_to_default > 0 {
        text.push_str(&format!(
            "# {} left to the `default` policy the subject holds\n",
            count_of(left_to_default)
        ));
    }
    if observed.denied > 0 {
        text.push_str(&format!(
            "# {} the server denied, not granted\n",
            count_of(observed.denied)
        ));
    }
    let outside: u64 = observed
        .allowed
        .iter()
        .filter(|((_, path), _)| !path.starts_with(input.namespace))
        .map(|(_, seen)| seen.count)
        .sum();
    if outside > 0 {
        text.push_str(&format!(
            "# {} outside the namespace `{}`, which a policy there cannot grant\n",
            count_of(outside),
            crate::namespace::display(input.namespace)
        ));
    }
    text.push_str(&format!(
        "# a path segment becomes `+`, and a folder `*`, only when more than {} distinct values \
         were seen\n",
        input.threshold
    ));
    let empty = BTreeMap::new();
    for item in items {
        text.push('\n');
        let rule_counts = counts.get(&item.pattern()).unwrap_or(&empty);
        text.push_str(&rule_text(item, Some(rule_counts)));
    }
    text
}

/// One line of `--diff`: what the subject's current rules grant that the suggestion does not,
/// rule by rule (same pattern), and the suggestion's new rules.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DiffLine {
    /// `removed`, `narrowed` or `added`.
    pub change: &'static str,
    pub pattern: String,
    /// Capabilities the change takes away (`removed`, `narrowed`) or grants (`added`).
    pub capabilities: Vec<String>,
    /// `policy file:line` of the current rule.
    pub location: Option<String>,
}

/// Compares the current ACL's rules with the suggestion's. Rules of the built-in `default`
/// policy are left out. Cost: O(rules log rules).
pub fn diff_rules(current: &Acl, suggestion: &Suggestion) -> Vec<DiffLine> {
    let suggested: BTreeMap<String, CapSet> = suggestion
        .rules
        .iter()
        .map(|rule| {
            let caps = rule
                .capabilities
                .iter()
                .filter_map(|name| Capability::parse(name, current.target()))
                .collect::<Vec<_>>();
            (
                format!(
                    "{}{}",
                    suggestion.namespace,
                    rule.pattern.trim_start_matches('/')
                ),
                CapSet::of(&caps),
            )
        })
        .collect();
    let mut lines = Vec::new();
    let mut matched: BTreeSet<String> = BTreeSet::new();
    let mut rules = current.rules();
    rules.sort_by(|a, b| a.pattern.normalized.cmp(&b.pattern.normalized));
    for rule in rules {
        let Some(source) = rule.sources.first() else {
            continue;
        };
        if source.file.name.starts_with("<builtin") {
            continue;
        }
        let location = Some(format!(
            "`{}` {}:{}",
            source.policy,
            source.file.name,
            source.line_col().0
        ));
        let full_pattern = rule.pattern.normalized.clone();
        if rule.capabilities.is_deny() {
            continue;
        }
        let pattern = full_pattern
            .strip_prefix(suggestion.namespace.as_str())
            .unwrap_or(&full_pattern)
            .to_string();
        match suggested.get(&full_pattern) {
            None => lines.push(DiffLine {
                change: "removed",
                pattern,
                capabilities: cap_names(rule.capabilities),
                location,
            }),
            Some(caps) => {
                matched.insert(full_pattern.clone());
                let lost: Vec<String> = rule
                    .capabilities
                    .iter()
                    .filter(|c| !caps.contains(*c))
                    .map(|c| c.name().to_string())
                    .collect();
                if !lost.is_empty() {
                    lines.push(DiffLine {
                        change: "narrowed",
                        pattern,
                        capabilities: lost,
                        location,
                    });
                }
            }
        }
    }
    for (full_pattern, caps) in &suggested {
        if !matched.contains(full_pattern) {
            lines.push(DiffLine {
                change: "added",
                pattern: full_pattern[suggestion.namespace.len()..].to_string(),
                capabilities: cap_names(*caps),
                location: None,
            });
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::observed::{OperationKey, Seen};

    fn observed(requests: &[(&str, &str)]) -> Observed {
        let mut observed = Observed::default();
        for (op, path) in requests {
            let operation: Operation = op.parse().unwrap();
            let seen = observed
                .allowed
                .entry((OperationKey(operation), path.to_string()))
                .or_insert_with(|| Seen {
                    mount_point: Some("secret/".into()),
                    mount_type: Some("kv".into()),
                    ..Seen::default()
                });
            seen.count += 1;
        }
        observed
    }

    fn run(observed: &Observed, threshold: usize) -> Suggestion {
        suggest(&SuggestInput {
            observed,
            target: Target::OpenBao,
            mounts: &Mounts::default(),
            default_policy: None,
            threshold,
            title: "test".into(),
            namespace: "",
            namespaces: &Namespaces::default(),
        })
    }

    #[test]
    fn few_keys_stay_exact_and_kv2_writes_get_create_and_update() {
        let observed = observed(&[
            ("read", "secret/data/app/db"),
            ("read", "secret/data/app/db"),
            ("create", "secret/data/app/new"),
            ("list", "secret/metadata/app/"),
        ]);
        let suggestion = run(&observed, 8);
        let patterns: Vec<(&str, Vec<String>)> = suggestion
            .rules
            .iter()
            .map(|r| (r.pattern.as_str(), r.capabilities.clone()))
            .collect();
        assert_eq!(
            patterns,
            vec![
                ("secret/data/app/db", vec!["read".to_string()]),
                (
                    "secret/data/app/new",
                    vec!["create".into(), "update".into()]
                ),
                ("secret/metadata/app/", vec!["list".into()]),
            ]
        );
        assert_eq!(suggestion.rules[0].requests, 2);
        assert_eq!(suggestion.uncovered, 0);
        assert!(suggestion
            .text
            .contains("# 2 requests: read 2\npath \"secret/data/app/db\""));
    }

    #[test]
    fn many_keys_generalise_a_segment_then_a_folder() {
        let mut requests: Vec<(String, String)> = (0..10)
            .map(|i| {
                (
                    "read".to_string(),
                    format!("secret/data/tenants/t{i}/config"),
                )
            })
            .collect();
        requests.push(("read".into(), "secret/data/tenants/t0/extra".into()));
        let refs: Vec<(&str, &str)> = requests
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let suggestion = run(&observed(&refs), 8);
        let patterns: Vec<&str> = suggestion
            .rules
            .iter()
            .map(|r| r.pattern.as_str())
            .collect();
        assert_eq!(
            patterns,
            vec![
                "secret/data/tenants/+/config",
                "secret/data/tenants/t0/extra"
            ]
        );
        let many: Vec<String> = (0..12).map(|i| format!("secret/data/logs/{i}")).collect();
        let refs: Vec<(&str, &str)> = many.iter().map(|p| ("read", p.as_str())).collect();
        let suggestion = run(&observed(&refs), 8);
        let patterns: Vec<&str> = suggestion
            .rules
            .iter()
            .map(|r| r.pattern.as_str())
            .collect();
        assert_eq!(patterns, vec!["secret/data/logs/+"]);
        assert_eq!(suggestion.rules[0].requests, 12);
    }

    #[test]
    fn sudo_paths_stay_exact_with_sudo() {
        let observed = observed(&[("update", "sys/auth/foo")]);
        let suggestion = run(&observed, 0);
        assert_eq!(suggestion.rules[0].pattern, "sys/auth/foo");
        assert_eq!(suggestion.rules[0].capabilities, vec!["update", "sudo"]);
    }
}
