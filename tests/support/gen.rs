//! Seeded random generation of policies, paths and requests for the OpenBao differential tests.
//!
//! Everything derives from one `u64` seed: `CAPABLE_SEED` when set, else the clock, so each run
//! explores new cases and a failing one can be replayed exactly.
#![allow(dead_code)]

use std::fmt::Write as _;

/// SplitMix64: tiny, fast and good enough to spread test cases; deterministic per seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (`bound > 0`).
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A fresh generator for a sub-task, so adding draws in one place does not shift others.
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }
}

/// The seed for this run: `CAPABLE_SEED` if set, else time-based. Always printed, so the output
/// of a failing test shows how to replay it.
pub fn seed(test: &str) -> u64 {
    let seed = match std::env::var("CAPABLE_SEED") {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("CAPABLE_SEED must be an unsigned integer, got `{text}`")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    };
    println!("{test}: replay with CAPABLE_SEED={seed}");
    eprintln!("{test}: replay with CAPABLE_SEED={seed}");
    seed
}

// ---------------------------------------------------------------------------------------------
// Path rules for `sys/capabilities` (test (a))
// ---------------------------------------------------------------------------------------------

/// Few, short segments, so generated patterns and paths collide often.
const SEGMENTS: &[&str] = &["a", "b", "ab", "ba", "abc", "x"];
const ROOTS: &[&str] = &["s", "t", "s2"];

/// Capability names OpenBao accepts (deny included).
pub const OPENBAO_CAPS: &[&str] = &[
    "create", "read", "update", "delete", "list", "sudo", "patch", "scan", "deny",
];

/// One `path` block.
#[derive(Clone, Debug)]
pub struct Block {
    pub pattern: String,
    /// `None` writes no `capabilities` key at all.
    pub capabilities: Option<Vec<String>>,
    /// Old-style `policy = "..."`.
    pub old_policy: Option<&'static str>,
    /// Extra attribute lines, written as is (parameters, TTLs).
    pub extra: Vec<String>,
}

/// A policy: a name and blocks, rendered as HCL (or JSON when `json` is set and possible).
#[derive(Clone, Debug)]
pub struct GenPolicy {
    pub name: String,
    pub blocks: Vec<Block>,
    pub json: bool,
}

impl GenPolicy {
    pub fn text(&self) -> String {
        if self.json && self.blocks.iter().all(|b| b.extra.is_empty()) {
            return self.json_text();
        }
        self.hcl_text()
    }

    fn hcl_text(&self) -> String {
        let mut text = format!("# generated policy {}\n", self.name);
        for block in &self.blocks {
            let _ = writeln!(text, "path \"{}\" {{", block.pattern);
            if let Some(capabilities) = &block.capabilities {
                let quoted: Vec<String> = capabilities.iter().map(|c| format!("\"{c}\"")).collect();
                let _ = writeln!(text, "  capabilities = [{}]", quoted.join(", "));
            }
            if let Some(old) = block.old_policy {
                let _ = writeln!(text, "  policy = \"{old}\"");
            }
            for line in &block.extra {
                let _ = writeln!(text, "  {line}");
            }
            text.push_str("}\n");
        }
        text
    }

    /// The JSON list form (`"path": [ {...}, ... ]`), which keeps duplicate labels.
    fn json_text(&self) -> String {
        let blocks: Vec<serde_json::Value> = self
            .blocks
            .iter()
            .map(|block| {
                let mut body = serde_json::Map::new();
                if let Some(capabilities) = &block.capabilities {
                    body.insert("capabilities".into(), serde_json::json!(capabilities));
                }
                if let Some(old) = block.old_policy {
                    body.insert("policy".into(), serde_json::json!(old));
                }
                serde_json::json!({ block.pattern.clone(): body })
            })
            .collect();
        serde_json::json!({ "path": blocks }).to_string()
    }
}

fn random_segments(rng: &mut Rng, depth: usize) -> Vec<String> {
    let mut parts = vec![rng.pick(ROOTS).to_string()];
    for _ in 1..depth {
        parts.push(rng.pick(SEGMENTS).to_string());
    }
    parts
}

/// A random pattern: exact, prefix (`/*`, `x*`), `+` segments, `*` mid-path (a literal),
/// trailing `/`, leading `/`, and the catch-alls. Never `+*` (OpenBao refuses it; validation
/// is another test's business).
pub fn random_pattern(rng: &mut Rng) -> String {
    if rng.chance(4) {
        return rng.pick(&["*", "+", "+/*", "+/+", "s*", "+/a"]).to_string();
    }
    let depth = 1 + rng.below(4);
    let mut parts = random_segments(rng, depth);
    for part in parts.iter_mut() {
        match rng.below(100) {
            0..=21 => *part = "+".to_string(),
            // A `+` that is not a whole segment is literal (`a/+b` is still stored as a
            // segment-wildcard pattern, `a+` is exact).
            22..=23 => part.insert(0, '+'),
            24 => part.push('+'),
            _ => {}
        }
    }
    if depth > 2 && rng.chance(5) {
        let index = 1 + rng.below(depth - 2);
        parts[index] = "*".to_string();
    }
    let mut pattern = parts.join("/");
    match rng.below(10) {
        0 | 1 => pattern.push_str("/*"),
        2 => pattern.push('*'),
        3 => {
            // Glob inside the last segment: `s/ab` becomes `s/a*`.
            if let Some(last) = parts.last().filter(|p| p.len() > 1 && *p != "+") {
                pattern.truncate(pattern.len() - last.len() + 1);
            }
            pattern.push('*');
        }
        4 => pattern.push('/'),
        _ => {}
    }
    if rng.chance(6) {
        pattern.insert(0, '/');
    }
    if rng.chance(2) {
        // Only one leading `/` is stripped: `//x` is the pattern `/x`.
        pattern.insert_str(0, "//");
    }
    if pattern.contains("+*") {
        pattern = pattern.replace("+*", "+/*");
    }
    pattern
}

/// A random capability list: mostly a few granting capabilities, sometimes deny, sometimes
/// empty.
pub fn random_capabilities(rng: &mut Rng) -> Vec<String> {
    if rng.chance(8) {
        return Vec::new();
    }
    if rng.chance(10) {
        return vec!["deny".to_string()];
    }
    let count = 1 + rng.below(4);
    let mut capabilities: Vec<String> = (0..count)
        .map(|_| rng.pick(&OPENBAO_CAPS[..8]).to_string())
        .collect();
    if rng.chance(6) {
        let at = rng.below(capabilities.len() + 1);
        capabilities.insert(at, "deny".to_string());
    }
    capabilities
}

/// A block for a pattern: capabilities, old-style policy, or both; occasionally neither.
pub fn random_block(rng: &mut Rng, pattern: String) -> Block {
    let mut block = Block {
        pattern,
        capabilities: Some(random_capabilities(rng)),
        old_policy: None,
        extra: Vec::new(),
    };
    if rng.chance(10) {
        block.old_policy = Some(*rng.pick(&["deny", "read", "write", "sudo"]));
        if rng.chance(60) {
            block.capabilities = None;
        }
    } else if rng.chance(3) {
        block.capabilities = None;
    }
    block
}

/// A set of policies drawn from a small pattern pool, so duplicate blocks (within and across
/// policies) are common. Names are `<prefix>-<i>`.
pub fn random_policy_set(rng: &mut Rng, prefix: &str) -> (Vec<GenPolicy>, Vec<String>) {
    let pool: Vec<String> = (0..3 + rng.below(8)).map(|_| random_pattern(rng)).collect();
    let policy_count = 1 + rng.below(4);
    let policies = (0..policy_count)
        .map(|index| {
            let blocks = (0..1 + rng.below(6))
                .map(|_| {
                    let pattern = rng.pick(&pool).clone();
                    random_block(rng, pattern)
                })
                .collect();
            GenPolicy {
                name: format!("{prefix}-{index}"),
                blocks,
                json: rng.chance(10),
            }
        })
        .collect();
    (policies, pool)
}

/// Paths to ask about: instances of the patterns (`+` and `*` filled in, with and without
/// trailing `/`, trimmed variants), the patterns themselves as literal paths, and random paths.
/// Distinct and non-empty.
pub fn random_paths(rng: &mut Rng, patterns: &[String], count: usize) -> Vec<String> {
    let mut paths = std::collections::BTreeSet::new();
    let mut attempts = 0;
    while paths.len() < count && attempts < count * 20 {
        attempts += 1;
        let path = match rng.below(10) {
            0 => {
                let depth = 1 + rng.below(5);
                random_segments(rng, depth).join("/")
            }
            1 => rng.pick(patterns).trim_start_matches('/').to_string(),
            _ => {
                let pattern = rng.pick(patterns).clone();
                instantiate(rng, &pattern)
            }
        };
        let path = decorate(rng, path);
        if !path.trim_start_matches('/').is_empty() {
            paths.insert(path);
        }
    }
    paths.into_iter().collect()
}

/// Fills a pattern's wildcards: `+` with a segment (rarely empty), a trailing `*` with nothing,
/// a segment tail or more segments.
fn instantiate(rng: &mut Rng, pattern: &str) -> String {
    let pattern = pattern.trim_start_matches('/');
    let (body, glob) = match pattern.strip_suffix('*') {
        Some(body) => (body, true),
        None => (pattern, false),
    };
    let mut parts: Vec<String> = body
        .split('/')
        .map(|part| match part {
            "+" if rng.chance(8) => String::new(),
            "+" => rng.pick(SEGMENTS).to_string(),
            other => other.to_string(),
        })
        .collect();
    if glob {
        let last = parts.last_mut().expect("split yields one part");
        match rng.below(4) {
            0 => {}
            1 => last.push_str(rng.pick::<&str>(SEGMENTS)),
            _ => {
                last.push_str(rng.pick::<&str>(&["", "c"]));
                for _ in 0..1 + rng.below(2) {
                    parts.push(rng.pick(SEGMENTS).to_string());
                }
            }
        }
    }
    parts.join("/")
}

/// Near misses: add or drop a trailing `/`, cut the last character, add leading slashes.
fn decorate(rng: &mut Rng, mut path: String) -> String {
    match rng.below(12) {
        0..=2 => {
            if path.ends_with('/') {
                path.pop();
            } else {
                path.push('/');
            }
        }
        3 => {
            path.pop();
        }
        4 => path.push_str(rng.pick::<&str>(&["x", "/x", "/+", "*"])),
        _ => {}
    }
    if rng.chance(4) {
        path.insert(0, '/');
    }
    path
}

// ---------------------------------------------------------------------------------------------
// Parameter and wrapping-TTL rules on a KV v1 mount (test (c))
// ---------------------------------------------------------------------------------------------

/// Parameter names used in policies and requests (mixed case on purpose).
pub const PARAM_NAMES: &[&str] = &["a", "b", "foo", "Foo", "zz"];

/// HCL values for parameter lists: globs, literal `*`, empty string, ints, bools.
pub const HCL_VALUES: &[&str] = &[
    "\"x\"", "\"x*\"", "\"*x\"", "\"*x*\"", "\"**\"", "\"*\"", "\"\"", "\"xy\"", "\"5\"", "5",
    "true", "\"true\"", "1.5",
];

/// A random `name = [values]` map body for allowed/denied parameters.
pub fn random_param_map(rng: &mut Rng, allow_star: bool) -> String {
    let mut entries = Vec::new();
    let mut used = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let key = if allow_star && rng.chance(15) {
            "*"
        } else {
            rng.pick(PARAM_NAMES)
        };
        // Keys equal after lower-casing (`foo`, `Foo`) make OpenBao nondeterministic: it
        // lower-cases while iterating a Go map, so either value list may win.
        if used.contains(&key.to_lowercase()) {
            continue;
        }
        used.push(key.to_lowercase());
        let values: Vec<&str> = if rng.chance(35) {
            Vec::new()
        } else {
            (0..1 + rng.below(3))
                .map(|_| *rng.pick(HCL_VALUES))
                .collect()
        };
        let quoted_key = if rng.chance(50) {
            format!("\"{key}\"")
        } else if key == "*" {
            "\"*\"".to_string()
        } else {
            key.to_string()
        };
        entries.push(format!("{quoted_key} = [{}]", values.join(", ")));
    }
    format!("{{ {} }}", entries.join("\n    "))
}

/// A TTL as policy text: an int, a duration string or a plain-number string.
pub fn ttl_text(rng: &mut Rng, seconds: i64) -> String {
    match rng.below(3) {
        0 => seconds.to_string(),
        1 => format!("\"{seconds}s\""),
        _ if seconds % 60 == 0 => format!("\"{}m\"", seconds / 60),
        _ => format!("\"{seconds}\""),
    }
}

/// TTLs (seconds) policies choose from; requests pick around them.
pub const MIN_TTLS: &[i64] = &[60, 300];
pub const MAX_TTLS: &[i64] = &[120, 600, 3600];
pub const WRAP_TTLS: &[i64] = &[30, 60, 90, 120, 300, 450, 600, 3600, 7200];

/// A parameter block for the KV v1 mount: capabilities that grant the request kinds,
/// plus random parameter and wrapping constraints.
pub fn random_param_block(rng: &mut Rng, pattern: &str) -> Block {
    let mut capabilities: Vec<String> = ["create", "read", "update", "delete", "list", "scan"]
        .iter()
        .filter(|_| rng.chance(88))
        .map(|c| c.to_string())
        .collect();
    if rng.chance(4) {
        capabilities = vec!["deny".to_string()];
    }
    let mut extra = Vec::new();
    if rng.chance(35) {
        extra.push(format!(
            "allowed_parameters = {}",
            random_param_map(rng, true)
        ));
    }
    if rng.chance(30) {
        let allow_star = rng.chance(20);
        extra.push(format!(
            "denied_parameters = {}",
            random_param_map(rng, allow_star)
        ));
    }
    if rng.chance(12) {
        let names: Vec<String> = (0..1 + rng.below(2))
            .map(|_| format!("\"{}\"", rng.pick(PARAM_NAMES)))
            .collect();
        extra.push(format!("required_parameters = [{}]", names.join(", ")));
    }
    if rng.chance(12) {
        let min = *rng.pick(MIN_TTLS);
        extra.push(format!("min_wrapping_ttl = {}", ttl_text(rng, min)));
    }
    if rng.chance(12) {
        let max = *rng.pick(MAX_TTLS);
        extra.push(format!("max_wrapping_ttl = {}", ttl_text(rng, max)));
    }
    if rng.chance(10) {
        // OpenBao only (spec 3.9).
        extra.push(format!("pagination_limit = {}", 1 + rng.below(4)));
    }
    if has_inverted_ttls(&extra) {
        extra.retain(|line| !line.starts_with("min_wrapping_ttl"));
    }
    Block {
        pattern: pattern.to_string(),
        capabilities: Some(capabilities),
        old_policy: None,
        extra,
    }
}

/// Within one block OpenBao refuses max < min; keep generated blocks valid.
fn has_inverted_ttls(extra: &[String]) -> bool {
    let seconds = |key: &str| {
        extra
            .iter()
            .find_map(|line| line.strip_prefix(key))
            .map(|value| parse_ttl_text(value.trim_start_matches(" = ")))
    };
    matches!(
        (seconds("min_wrapping_ttl"), seconds("max_wrapping_ttl")),
        (Some(min), Some(max)) if max < min
    )
}

fn parse_ttl_text(text: &str) -> i64 {
    let text = text.trim_matches('"');
    if let Some(minutes) = text.strip_suffix('m') {
        return minutes.parse::<i64>().unwrap_or(0) * 60;
    }
    text.trim_end_matches('s').parse().unwrap_or(0)
}

/// A random request value for a JSON body: strings (glob bait), numbers, bools, a list.
pub fn random_body_value(rng: &mut Rng) -> serde_json::Value {
    match rng.below(12) {
        0 => serde_json::json!(5),
        1 => serde_json::json!(1.5),
        2 => serde_json::json!(true),
        3 => serde_json::json!(["x", "y"]),
        _ => serde_json::json!(rng.pick(QUERY_VALUES)),
    }
}

/// Values usable in a query string.
pub const QUERY_VALUES: &[&str] = &[
    "x", "xy", "yx", "axb", "*", "**", "", "5", "true", "y", "x*", "1.5",
];

/// `limit` values for list and scan requests (spec 3.9).
pub const LIMIT_VALUES: &[&str] = &["1", "3", "10", "0", "-1", "max", "x"];
