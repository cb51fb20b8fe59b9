//! Human and JSON renderings of `audit replay`, `suggest` and `usage`. Nothing here can print
//! a token, accessor or HMAC: the inputs hold only paths, operations, policy and rule names,
//! display names, times and counts.

use serde_json::{json, Value};

use super::reader::ReadStats;
use super::replay::{Group, ReplayReport};
use super::suggest::{DiffLine, Suggestion};
use super::usage::Usage;

/// The `version` field of every JSON output of `audit`.
pub const JSON_VERSION: u32 = 1;

fn plural(count: u64, one: &str, many: &str) -> String {
    if count == 1 {
        format!("{count} {one}")
    } else {
        format!("{count} {many}")
    }
}

/// The bad-lines paragraph (empty when every line was an entry).
pub fn render_bad_lines(read: &ReadStats) -> String {
    if read.bad_lines == 0 {
        return String::new();
    }
    let mut text = format!(
        "warning: {} not audit entries (skipped)\n",
        plural(read.bad_lines, "line is", "lines are")
    );
    for bad in &read.bad {
        text.push_str(&format!("  {}:{}: {}\n", bad.source, bad.line, bad.reason));
    }
    let hidden = read.bad_lines - read.bad.len() as u64;
    if hidden > 0 {
        text.push_str(&format!("  ... and {hidden} more\n"));
    }
    text
}

fn render_groups(text: &mut String, groups: &[Group], before: &str, after: &str) {
    let mut subject: Option<&str> = None;
    for group in groups {
        if subject != Some(group.subject.as_str()) {
            text.push_str(&format!("  {}\n", group.subject));
            subject = Some(group.subject.as_str());
        }
        let window = if group.first_seen == group.last_seen {
            group.first_seen.clone()
        } else {
            format!("{} .. {}", group.first_seen, group.last_seen)
        };
        let namespace = if group.namespace.is_empty() {
            String::new()
        } else {
            format!(" in namespace `{}`", group.namespace)
        };
        text.push_str(&format!(
            "    {} `{}`{namespace}: {}, {window}\n",
            group.operation,
            group.path,
            plural(group.count, "request", "requests")
        ));
        if let Some(endpoint) = &group.endpoint {
            text.push_str(&format!("      endpoint: {}\n", endpoint.words()));
        }
        text.push_str(&format!("      {before} {}\n", describe(&group.before)));
        text.push_str(&format!("      {after} {}\n", describe(&group.after)));
    }
}

fn describe(verdict: &super::decide::Verdict) -> String {
    let decided = if verdict.allowed { "allowed" } else { "denied" };
    match (&verdict.rule, verdict.reason.is_empty()) {
        (Some(rule), true) => format!("{decided} by {}", rule.describe()),
        (Some(rule), false) => format!("{decided}: {}, rule {}", verdict.reason, rule.describe()),
        (None, true) => decided.to_string(),
        (None, false) => format!("{decided}: {}", verdict.reason),
    }
}

/// `audit replay` for people.
pub fn render_replay_human(report: &ReplayReport, base: &str, proposed: Option<&str>) -> String {
    let mut text = String::new();
    let under = match proposed {
        Some(proposed) => format!("{base} and {proposed}"),
        None => base.to_string(),
    };
    text.push_str(&format!(
        "replayed {} under {under}\n",
        plural(report.replayed, "request", "requests")
    ));
    if !report.by_namespace.is_empty() {
        let counts: Vec<String> = report
            .by_namespace
            .iter()
            .map(|(namespace, count)| format!("`{namespace}` {count}"))
            .collect();
        text.push_str(&format!("in child namespaces: {}\n", counts.join(", ")));
    }
    let mut skipped = Vec::new();
    if report.not_checked > 0 {
        skipped.push(format!("{} without an ACL decision", report.not_checked));
    }
    if report.unknown_namespace > 0 {
        skipped.push(format!(
            "{} in namespaces the log names only by id",
            report.unknown_namespace
        ));
    }
    if report.undecidable > 0 {
        skipped.push(format!(
            "{} decided by parameter values the log holds only as HMACs",
            report.undecidable
        ));
    }
    if !skipped.is_empty() {
        text.push_str(&format!("not replayed: {}\n", skipped.join(", ")));
    }
    if let Some(proposed) = proposed {
        for (title, groups, after) in [
            ("newly denied", &report.newly_denied, "proposed:"),
            ("newly allowed", &report.newly_allowed, "proposed:"),
        ] {
            text.push('\n');
            if groups.is_empty() {
                text.push_str(&format!("{title}: none\n"));
                continue;
            }
            text.push_str(&format!(
                "{title}: {} in {} under {proposed}\n",
                plural(ReplayReport::requests_in(groups), "request", "requests"),
                plural(groups.len() as u64, "group", "groups")
            ));
            render_groups(&mut text, groups, "today:   ", after);
        }
    }
    if !report.fidelity.is_empty() {
        text.push_str(&format!(
            "\nwarning: the server decided {} differently than capable does under {base}: the \
             tree does not match what the server ran\n",
            plural(
                ReplayReport::requests_in(&report.fidelity),
                "request",
                "requests"
            )
        ));
        render_groups(&mut text, &report.fidelity, "server: ", "capable:");
    }
    for (tree, names) in &report.missing_policies {
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        text.push_str(&format!(
            "note: {tree} does not define {} named in the log; they were left out as the server \
             leaves out a missing policy\n",
            names.join(", ")
        ));
    }
    if !report.undeclared_namespaces.is_empty() {
        let names: Vec<String> = report
            .undeclared_namespaces
            .iter()
            .map(|n| format!("`{n}`"))
            .collect();
        text.push_str(&format!(
            "note: the log has requests in {}, which `capable.yaml` does not declare under \
             `namespaces:`; policies of an undeclared namespace cannot be in the tree\n",
            names.join(", ")
        ));
    }
    for (tree, errors) in &report.acl_errors {
        for error in errors {
            text.push_str(&format!("warning: {tree}: {error}\n"));
        }
    }
    let bad = render_bad_lines(&report.read);
    if !bad.is_empty() {
        text.push('\n');
        text.push_str(&bad);
    }
    text
}

/// `audit replay` as JSON.
pub fn render_replay_json(report: &ReplayReport, base: &str, proposed: Option<&str>) -> Value {
    json!({
        "version": JSON_VERSION,
        "base": base,
        "proposed": proposed,
        "replayed": report.replayed,
        "not_checked": report.not_checked,
        "by_namespace": report.by_namespace,
        "undeclared_namespaces": report.undeclared_namespaces,
        "unknown_namespace": report.unknown_namespace,
        "undecidable": report.undecidable,
        "newly_denied": report.newly_denied,
        "newly_allowed": report.newly_allowed,
        "fidelity": report.fidelity,
        "missing_policies": report.missing_policies,
        "acl_errors": report.acl_errors,
        "read": report.read,
    })
}

/// `audit suggest --diff` for people.
pub fn render_diff_human(current: &str, lines: &[DiffLine]) -> String {
    let mut text = format!("compared with the current policies of {current}:\n");
    if lines.is_empty() {
        text.push_str("  no change\n");
    }
    for line in lines {
        let capabilities = line.capabilities.join(", ");
        let location = line
            .location
            .as_ref()
            .map(|l| format!("  ({l})"))
            .unwrap_or_default();
        let sign = match line.change {
            "added" => "+",
            "narrowed" => "~",
            _ => "-",
        };
        let what = match line.change {
            "added" => format!("added: [{capabilities}]"),
            "narrowed" => format!("loses [{capabilities}]"),
            _ => format!("removed: [{capabilities}]"),
        };
        text.push_str(&format!(
            "{sign} path `{}` {what}{location}\n",
            line.pattern
        ));
    }
    text
}

/// `audit suggest` as JSON.
pub fn render_suggest_json(
    subject: &str,
    suggestion: &Suggestion,
    diff: Option<&[DiffLine]>,
    lint: &[Value],
    read: &ReadStats,
) -> Value {
    json!({
        "version": JSON_VERSION,
        "subject": subject,
        "policy": suggestion.text,
        "rules": suggestion.rules,
        "covered_requests": suggestion.covered_requests,
        "left_to_default": suggestion.left_to_default,
        "uncovered": suggestion.uncovered,
        "threshold": suggestion.threshold,
        "diff": diff,
        "lint": lint,
        "read": read,
    })
}

/// `audit usage` for people.
pub fn render_usage_human(subject: &str, usage: &Usage, requests: u64, read: &ReadStats) -> String {
    let mut text = format!(
        "{subject}: {} allowed in the log\n",
        plural(requests, "request", "requests")
    );
    let never: Vec<_> = usage.rules.iter().filter(|r| r.requests() == 0).collect();
    let used: Vec<_> = usage.rules.iter().filter(|r| r.requests() > 0).collect();
    text.push_str(&format!(
        "\nnever used: {}\n",
        plural(never.len() as u64, "rule", "rules")
    ));
    for rule in &never {
        text.push_str(&format!(
            "  `{}` [{}]  ({}, {})\n",
            rule.rule.pattern,
            rule.granted.join(", "),
            rule.rule.policies.join(", "),
            rule.rule.location
        ));
    }
    text.push_str(&format!(
        "\nused: {}\n",
        plural(used.len() as u64, "rule", "rules")
    ));
    for rule in &used {
        let counts: Vec<String> = rule.used.iter().map(|(c, n)| format!("{c} {n}")).collect();
        let unused = if rule.unused.is_empty() {
            String::new()
        } else {
            format!("; never: {}", rule.unused.join(", "))
        };
        text.push_str(&format!(
            "  `{}` {}{unused}  ({}, {})\n",
            rule.rule.pattern,
            counts.join(", "),
            rule.rule.policies.join(", "),
            rule.rule.location
        ));
    }
    if usage.not_allowed_now > 0 {
        text.push_str(&format!(
            "\nwarning: {} the server allowed would be denied by these policies today\n",
            plural(usage.not_allowed_now, "request", "requests")
        ));
    }
    let bad = render_bad_lines(read);
    if !bad.is_empty() {
        text.push('\n');
        text.push_str(&bad);
    }
    text
}

/// `audit usage` as JSON.
pub fn render_usage_json(subject: &str, usage: &Usage, requests: u64, read: &ReadStats) -> Value {
    json!({
        "version": JSON_VERSION,
        "subject": subject,
        "requests": requests,
        "rules": usage.rules,
        "not_allowed_now": usage.not_allowed_now,
        "read": read,
    })
}
