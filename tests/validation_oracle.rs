//! OpenBao differential test (issue 2, test (b)): every corpus policy and a few hundred
//! generated mutations are accepted or refused by `parse_policy(.., Target::OpenBao)` exactly
//! as a real OpenBao 2.7.2 refuses or accepts `PUT sys/policies/acl/NAME`, and when refused,
//! our first error carries OpenBao's own text.
//!
//! The mutations are generated from a seed: `CAPABLE_SEED=<n>` replays a run; the seed is
//! printed with every failure.

mod support;

use std::sync::Arc;

use capable::diag::Diagnostic;
use capable::policy::parse_policy;
use capable::source::SourceFile;
use capable::target::Target;
use support::bao::Bao;

const DEFAULT_SEED: u64 = 0x5eed_cafe_2026;
const MUTATIONS: usize = 450;

/// SplitMix64: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Hand-written seeds covering every feature and quirk the write path has.
const SEEDS: &[&str] = &[
    "path \"secret/data/ai/openai\" { capabilities = [\"read\"] }\npath \"secret/*\" { capabilities = [\"deny\"] }\n",
    "path \"a\" { capabilities = [\"read\"] }\npath \"a\" { capabilities = [\"update\"] }\n",
    // JSON is flattened once: `b` stays a key of `path "a"`, and a list of objects under
    // `capabilities` is an object item, not more keys.
    "{\"path\": {\"a\": {\"b\": [{\"capabilities\": [\"read\"]}]}}}",
    "{\"path\": {\"x\": {\"capabilities\": [{\"a\": 1}]}}}",
    "path \"a\" {\n  capabilities = [\"read\"]\n  capabilities = [\"list\"]\n}\n",
    "path \"a\" { capabilities = [\"deny\", \"banana\"] }",
    "path \"a\" { capabilities = [\"deny\"] min_wrapping_ttl = 300 max_wrapping_ttl = 200 }",
    "path {}\n",
    "path \"a\" \"b\" { capabilities = [\"read\"] }",
    "name = \"dev\"\npath \"a\" { capabilities = [\"read\"] }",
    "# only a comment\n",
    "   \n",
    "/* block */\n// line\n",
    "path \"a\" { capabilities = [\"read\"], }, path \"b\" { capabilities = [\"list\",] }",
    "path \"a\" { capabilities = [1] }",
    "path \"secret/${var.x}/*\" { capabilities = [\"read\"] }",
    "path \"a\" {\n  capabilities = [\"create\", \"update\"]\n  allowed_parameters = {\n    \"ttl\" = []\n    \"*\" = []\n  }\n  denied_parameters = { \"policies\" = [\"root\"] }\n  required_parameters = [\"name\"]\n}\n",
    "path \"a\" {\n  capabilities = [\"update\"]\n  min_wrapping_ttl = \"1s\"\n  max_wrapping_ttl = \"90s\"\n}\n",
    "path \"a\" { capabilities = [\"update\"] min_wrapping_ttl = 300 max_wrapping_ttl = \"1h\" }",
    "path \"a\" { policy = \"write\" }\npath \"b\" { policy = \"read\" }\npath \"c\" { policy = \"sudo\" }\npath \"d\" { policy = \"deny\" capabilities = [\"banana\"] }",
    "path \"secret/data/{{identity.entity.id}}/*\" { capabilities = [\"read\", \"update\"] }",
    "path \"secret/{{identity.entity.aliases.auth_kubernetes_1234.metadata.service_account_namespace}}/*\" { capabilities = [\"read\"] }",
    "path \"a/+/b\" { capabilities = [\"read\"] }\npath \"+\" { capabilities = [\"list\"] }\npath \"a/+/*\" { capabilities = [\"read\"] }",
    "path \"a/*\" {\n  capabilities = [\"list\", \"scan\"]\n  pagination_limit = 100\n  list_scan_response_keys_filter_path = \"{{ .path }}{{ .key }}\"\n}\n",
    "path \"a\" { capabilities = [\"read\"] expiration = \"2099-01-01T00:00:00Z\" }",
    "path \"a\" { capabilities = [\"banana\"] expiration = \"2020-01-01T00:00:00Z\" }",
    "path \"a\" { capabilities = [\"read\"] mfa_methods = [\"totp\"] comment = \"x\" }",
    "path \"a\" {\n  capabilities = [\"read\"]\n  control_group = {\n    ttl = \"4h\"\n    factor \"approvers\" {\n      controlled_capabilities = [\"read\"]\n      identity {\n        group_names = [\"managers\"]\n        approvals = 1\n      }\n    }\n  }\n}\n",
    "path \"a\" {\n  capabilities = [\"read\"]\n  policy = <<EOT\nread\nEOT\n}\n",
    "{\"path\": {\"secret/foo\": {\"capabilities\": [\"read\"]}}}",
    "{\"path\": [{\"secret/foo\": {\"capabilities\": [\"read\"]}}, {\"secret/bar\": {\"policy\": \"write\"}}]}",
    "{\"name\": \"x\", \"path\": {\"a/*\": {\"capabilities\": [\"read\", \"list\"], \"allowed_parameters\": {\"a\": [\"b\"]}}}}",
    "path \"a\" { capabilities = [] }\npath \"b\" {}\n",
    "path \"//x\" { capabilities = [\"read\"] }\npath \"foo**\" { capabilities = [\"read\"] }\npath \"a*b\" { capabilities = [\"read\"] }",
    "path \"a\" { capabilities = [\"read\"] }\npath \"a\" { capabilities = [\"banana\"] }",
    "path \"a\" { capabilities = [\"read\"] allowed_parameters \"x\" \"y\" {} }",
    "path \"a\" { capabilities \"x\" {} }",
    "path \"a\" { capabilities = [\"list\"] pagination_limit \"x\" {} }",
    "path \"a\" { policy \"x\" {} }",
    "path \"a\" { capabilities = [\"read\"] min_wrapping_ttl {} }",
    "path \"a\" { capabilities = [\"read\"] min_wrapping_ttl \"x\" {} }",
    "path \"a\" { capabilities = [\"read\"] expiration = 1 }",
    "path \"a/+*\" { capabilities = [\"read\"] expiration = \"2020-01-01T00:00:00Z\" }",
    "name \"x\" {}\npath \"a\" {}",
    "name = true",
    "{\"path\": {\"a\": {\"capabilities\": \"read\"}}}",
    "{\"path\": {\"a\": {\"capabilities\": [\"read\"]}, \"b\": []}}",
    "{\"bad\": 1}",
    "{\"path\": {\"a\": {}}}",
    "{\"path\": []}",
    "{\"path\": [{\"a\": {\"capabilities\": [\"read\"]}}, 1]}",
    "{\"path\": {\"a\": {\"capabilities\": [\"read\"], \"allowed_parameters\": {\"x\": \"y\"}}}}",
    "{\"path\": {\"a\": {\"capabilities\": [\"update\"], \"min_wrapping_ttl\": 1.5, \"max_wrapping_ttl\": \"1h\"}}}",
    "{\"path\": {\"a\": {\"capabilities\": [\"read\", 1]}}}",
    "{\"path\": {\"a\": {\"capabilities\": [\"read\"], \"control_group\": {\"factor\": {\"f\": {\"controlled_capabilities\": [\"read\"], \"identity\": {\"group_names\": [\"g\"], \"approvals\": 1}}}}}}}",
    "path \"a\" { capabilities = [\"read\"] allowed_parameters = {} denied_parameters = {} }",
    "path \"a\" { capabilities = [\"read\"] control_group \"x\" {} }",
    "path \"a\" { capabilities = [\"read\"], policy = \"read\" }",
    "path \"a\" { capabilities = [[\"read\"]] }",
    "path \"a\" { capabilities = [{}] }",
    "path \"a\" { capabilities = [\"read\"] allowed_parameters = { \"a\" = [[1], {}] } }",
    "path \"a\" { capabilities = [\"read\"] required_parameters = [] mfa_methods = [] }",
    "path \"a\" { capabilities = [\"read\"] min_wrapping_ttl = \"1h\" min_wrapping_ttl = 5 }",
    "path \"a\" { capabilities = [\"read\"] min_wrapping_ttl = 5 min_wrapping_ttl = \"x\" }",
    "path \"a\" { capabilities = [\"read\"] min_wrapping_ttl = 1.5 min_wrapping_ttl = 2 }",
    "path \"a\" { capabilities = [\"read\"] min_wrapping_ttl = [1] min_wrapping_ttl = 2 }",
    "path \"a\" { capabilities = [\"read\"] pagination_limit = 08 }",
    "path \"a\" { capabilities = [08] }",
    "path \"a\" { capabilities = [\"read\"] min_wrapping_ttl = 08 }",
    "path \"a\" { capabilities = [\"read\"] allowed_parameters = { \"a\" = [1e400] } }",
    "path \"a\" { capabilities = [\"read\"] allowed_parameters = { \"a\" = [99999999999999999999] } }",
    "path \"\" { capabilities = [\"read\"] }",
    "path \"/\" { capabilities = [\"read\"] }",
    "path \"a\" { capabilities = [\"read\"] control_group = { factor \"f\" { controlled_capabilities = [\"read\"] identity = { group_names = [\"g\"], approvals = \"2\" } } } }",    "path \"a\" { capabilities = [\"read\"] }\nname = \"x\"\nname = [\"y\"]",
    "path \"a\" \"b\" \"c\" { capabilities = [\"read\"] }",
    "path \"a\" { \"capabilities\" = [\"read\"] }\n\"path\" \"b\" { \"policy\" = \"read\" }",
    "path \"a\" { capabilities = [\"read\"] allowed_parameters = { \"A\" = [\"x\"] \"b\" = [\"y\"] } allowed_parameters = { \"c\" = [] } }",
    "path \"a\" { capabilities = [\"read\"] control_group = { Factor \"f\" {} } }",
    "path \"a\" { capabilities = [\"read\"] control_group = { factor \"f\" { controlled_capabilities = [\"read\"] identity { group_names = [\"g\"] approvals = 1 extra = 2 } } } }",
    "path \"a\" { capabilities = [\"read\"] control_group = { ttl = \"1h\" ttl = \"2h\" factor \"f\" { controlled_capabilities = [\"read\"] identity { group_names = [\"g\"] approvals = 1 } } } }",
    "path \"a\" { capabilities = [\"read\"] control_group = { factor \"f\" { controlled_capabilities = [\"read\"] controlled_capabilities = [\"update\"] identity { group_names = [\"g\"] approvals = 1 } } } }",
    "path \"a\" { capabilities = [\"list\"] list_scan_response_keys_filter_path = \"{{- .key -}}\" }",
    "path \"a\" { capabilities = [\"list\"] list_scan_response_keys_filter_path = \"{{ .key | printf \\\"%s/x\\\" }}\" }",
    "path \"a\" { capabilities = [\"list\"] list_scan_response_keys_filter_path = \"{{ with .key }}{{ . }}{{ end }}\" }",
    "path \"a\" { capabilities = [\"list\"] list_scan_response_keys_filter_path = \"{{ $k := .key }}{{ $k }}\" }",
    "path \"a\" { capabilities = [\"list\"] list_scan_response_keys_filter_path = \"{{ .path }}/{{ urlquery .key }}\" }",
    "path \"a\" { capabilities = [\"list\"] list_scan_response_keys_filter_path = 12 }",
    "path \"a\" { capabilities = [\"read\"] expiration = \"2099-01-01T00:00:00+25:00\" }",
    "path \"a\" { capabilities = [\"read\"] expiration = \"2099-02-29T00:00:00Z\" }",
    "path \"a\" { capabilities = [\"read\"] expiration = \"2099-01-01T00:00:00.5Z\" }",
    "path \"a\" { capabilities = [\"read\"] expiration = \"-1\" }",
    "path \"a\" { capabilities = [\"read\"] expiration = \"  4102444800\" }",
    "path \"a\" { capabilities = [\"read\"] min_wrapping_ttl = \"1h\" max_wrapping_ttl = \"1h\" }",
    "path \"a\" { capabilities = [\"read\"] min_wrapping_ttl = \"-1h\" max_wrapping_ttl = \"-2h\" }",
    "path \"a\" { capabilities = [\"read\"] min_wrapping_ttl = \"500ms\" max_wrapping_ttl = \"400ms\" }",    "path \"a\" { capabilities = [\"list\"] list_scan_response_keys_filter_path = \"{{ if .key }}{{ .key }}\" }",
    "path \"a\" { capabilities = [\"list\"] list_scan_response_keys_filter_path = \"{{}}{{ .key }}\" }",
    "path \"a\" { capabilities = [\"list\"] list_scan_response_keys_filter_path = \"{{ else }}{{ .key }}\" }",];

/// Snippets inserted at the start of a path block's body.
const BODY_SNIPPETS: &[&str] = &[
    "capabilites = [\"read\"]",
    "Capabilities = [\"read\"]",
    "capabilities = \"read\"",
    "capabilities = [true]",
    "capabilities = [1.5]",
    "capabilities = [\"Read\"]",
    "capabilities = [\"write\"]",
    "capabilities = [\"root\"]",
    "capabilities = [\"scan\"]",
    "capabilities = [\"subscribe\"]",
    "capabilities = [\"recover\"]",
    "capabilities = [\"banana\", \"deny\"]",
    "capabilities = [\"deny\", \"banana\"]",
    "capabilities {}",
    "capabilities { a = 1 }",
    "policy = \"banana\"",
    "policy = \"deny\"",
    "policy = \"write\"",
    "policy = \"\"",
    "policy = [\"read\"]",
    "policy = 1",
    "policy = true",
    "policy {}",
    "min_wrapping_ttl = \"bad\"",
    "min_wrapping_ttl = \"1x\"",
    "min_wrapping_ttl = \" 5\"",
    "min_wrapping_ttl = \"1.5d\"",
    "min_wrapping_ttl = true",
    "min_wrapping_ttl = [1]",
    "min_wrapping_ttl = 1.5",
    "min_wrapping_ttl = \"2d\"",
    "min_wrapping_ttl = \"\"",
    "max_wrapping_ttl = \"3000000h\"",
    "min_wrapping_ttl = 300\nmax_wrapping_ttl = 200",
    "min_wrapping_ttl = \"1h\"\nmax_wrapping_ttl = \"30m\"",
    "min_wrapping_ttl = \"1h\"\nmax_wrapping_ttl = 3600",
    "min_wrapping_ttl = 0\nmax_wrapping_ttl = \"-5\"",
    "allowed_parameters = { \"a\" = \"b\" }",
    "allowed_parameters = [\"x\"]",
    "allowed_parameters = 5",
    "allowed_parameters = { \"a\" = [\"b\"] }",
    "allowed_parameters = { \"A\" = [1, true, 1.5, {\"k\" = \"v\"}] }",
    "allowed_parameters \"x\" {}",
    "denied_parameters = { \"*\" = [] }",
    "required_parameters = \"x\"",
    "required_parameters = [1]",
    "required_parameters = [1.5]",
    "mfa_methods = \"x\"",
    "mfa_methods = [true]",
    "subscribe_event_types = [\"*\"]",
    "pagination_limit = 10",
    "pagination_limit = \"5\"",
    "pagination_limit = \"x\"",
    "pagination_limit = 1.5",
    "pagination_limit = [1]",
    "pagination_limit = 99999999999999999999",
    "expiration = \"2020-01-01T00:00:00Z\"",
    "expiration = \"2099-01-01T00:00:00Z\"",
    "expiration = \"bad\"",
    "expiration = \"2099-01-01\"",
    "expiration = 1",
    "expiration = \"4102444800\"",
    "expiration = true",
    "expiration = \"\"",
    "list_scan_response_keys_filter_path = \"{{ .path }}{{ .key }}\"",
    "list_scan_response_keys_filter_path = \"{{ .path }}\"",
    "list_scan_response_keys_filter_path = \"{{ .key \"",
    "list_scan_response_keys_filter_path = \"x/{{ .key | foo }}\"",
    "capabilities = [\"list\"]\nlist_scan_response_keys_filter_path = \"x/{{ .key }}\"",
    "capabilities = [\"list\"]\nlist_scan_response_keys_filter_path = \"x/{{ .nope }}\"",
    "capabilities = [\"list\"]\nlist_scan_response_keys_filter_path = \"x/{{ end }}\"",
    "control_group = { ttl = \"1h\" }",
    "control_group = \"x\"",
    "control_group = { foo = 1 }",
    "control_group = { ttl = \"bad\" factor \"f\" {} }",
    "control_group = { factor { identity { group_names = [\"a\"] approvals = 1 } } }",
    "control_group = { factor \"f\" { controlled_capabilities = [\"sudo\"] } }",
    "control_group = { factor \"f\" { controlled_capabilities = [\"read\"] identity { approvals = 1 } } }",
    "control_group = { factor \"f\" { controlled_capabilities = [\"read\"] identity { group_names = [\"g\"] approvals = 0 } } }",
    "control_group = { factor \"f\" { controlled_capabilities = [\"read\"] identity { group_names = [\"g\"] approvals = 1 } } }",
    "control_group = { self_auth_allowed = \"x\" factor \"f\" {} }",
    "control_group = { factor \"f\" { bogus = 1 } }",
    "comment = 1",
    "comment {}",
    "bogus {}",
    "x = 1, y = 2",
];

/// Whole-text edits.
fn mutate(rng: &mut Rng, base: &str) -> String {
    match rng.below(12) {
        0..=4 => {
            let snippet = rng_snippet(rng);
            insert_into_block(rng, base, snippet)
        }
        5 => replace_token(
            rng,
            base,
            "\"read\"",
            &[
                "\"raed\"",
                "\"READ\"",
                "\"reads\"",
                "\"read \"",
                "\"deny\"",
                "\"patch\"",
                "\"sudo\"",
            ],
        ),
        6 => replace_token(
            rng,
            base,
            "capabilities",
            &[
                "capabilites",
                "capability",
                "capabilities_",
                "Capabilities",
                "caps",
            ],
        ),
        7 => replace_star(rng, base),
        8 => replace_label(rng, base),
        9 => top_level_edit(rng, base),
        10 => duplicate_line(rng, base),
        _ => syntax_edit(rng, base),
    }
}

fn rng_snippet(rng: &mut Rng) -> &'static str {
    BODY_SNIPPETS[rng.below(BODY_SNIPPETS.len())]
}

/// Inserts a snippet after the `{` of a random path block (HCL only).
fn insert_into_block(rng: &mut Rng, base: &str, snippet: &str) -> String {
    let opens: Vec<usize> = base
        .match_indices("path")
        .filter_map(|(index, _)| base[index..].find('{').map(|brace| index + brace))
        .collect();
    if opens.is_empty() || base.trim_start().starts_with('{') {
        return format!("path \"mutant/*\" {{\n  {snippet}\n}}\n{base}");
    }
    let at = *rng.pick(&opens) + 1;
    format!("{}\n  {snippet}\n{}", &base[..at], &base[at..])
}

fn replace_token(rng: &mut Rng, base: &str, token: &str, replacements: &[&str]) -> String {
    let hits: Vec<usize> = base.match_indices(token).map(|(i, _)| i).collect();
    if hits.is_empty() {
        let snippet = rng_snippet(rng);
        return insert_into_block(rng, base, snippet);
    }
    let at = *rng.pick(&hits);
    format!(
        "{}{}{}",
        &base[..at],
        rng.pick(replacements),
        &base[at + token.len()..]
    )
}

fn replace_star(rng: &mut Rng, base: &str) -> String {
    replace_token(rng, base, "*\"", &["+*\"", "/+*\"", "**\"", "*/\"", "+\""])
}

fn replace_label(rng: &mut Rng, base: &str) -> String {
    let labels = [
        "\"{{identity.entity.id}}/*\"",
        "\"secret/{{identity.entity.id\"",
        "\"secret/identity.entity.id}}\"",
        "\"{{a}}}}\"",
        "\"{{a}}/{{b}}\"",
        "\"{{identity.entity.id}}/+*\"",
        "\"/\"",
        "\"\"",
        "\"a b\"",
        "\"é/*\"",
    ];
    match base.find("path \"") {
        Some(start) => {
            let label_start = start + 5;
            match base[label_start + 1..].find('"') {
                Some(len) => format!(
                    "{}{}{}",
                    &base[..label_start],
                    rng.pick(&labels),
                    &base[label_start + len + 2..]
                ),
                None => base.to_string(),
            }
        }
        None => format!(
            "path {} {{ capabilities = [\"read\"] }}\n{base}",
            rng.pick(&labels)
        ),
    }
}

fn top_level_edit(rng: &mut Rng, base: &str) -> String {
    let edits = [
        "name = \"x\"",
        "name {}",
        "name = [\"x\"]",
        "name = 1",
        "bogus = 1",
        "paths \"a\" {}",
        "bad {}",
        "path = \"x\"",
        "path = { capabilities = [\"read\"] }",
    ];
    if base.trim_start().starts_with('{') {
        return base.to_string();
    }
    let edit = rng.pick(&edits);
    if rng.below(2) == 0 {
        format!("{edit}\n{base}")
    } else {
        format!("{base}\n{edit}\n")
    }
}

fn duplicate_line(rng: &mut Rng, base: &str) -> String {
    let lines: Vec<&str> = base.lines().collect();
    if lines.is_empty() {
        return base.to_string();
    }
    let index = rng.below(lines.len());
    let mut out: Vec<&str> = lines.clone();
    if lines[index].contains('=') && !lines[index].contains('{') {
        out.insert(index, lines[index]);
    }
    out.join("\n")
}

fn syntax_edit(rng: &mut Rng, base: &str) -> String {
    let chars: Vec<char> = base.chars().collect();
    if chars.is_empty() {
        return "{".to_string();
    }
    match rng.below(4) {
        0 => chars[..rng.below(chars.len())].iter().collect(),
        1 => {
            let candidates: Vec<usize> = (0..chars.len())
                .filter(|i| "{}[]\"=,".contains(chars[*i]))
                .collect();
            if candidates.is_empty() {
                return base.to_string();
            }
            let at = *rng.pick(&candidates);
            chars
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != at)
                .map(|(_, c)| *c)
                .collect()
        }
        2 => base.replacen('"', "'", 2),
        _ => base.replacen(" {", " = {", 1),
    }
}

fn corpus() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/policies");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {} is missing: {e}", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .collect();
    entries.sort();
    entries
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            Some((path.file_name()?.to_string_lossy().into_owned(), text))
        })
        .collect()
}

/// The parse fixtures judged on the openbao target (all but `# target: vault` ones).
fn openbao_fixtures() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/parse");
    let mut cases = Vec::new();
    for kind in ["ok", "err"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind)) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if !text.starts_with("# target: vault") {
                cases.push((format!("fixture {}", path.display()), text));
            }
        }
    }
    cases.sort();
    cases
}

/// OpenBao's error, without the `failed to parse policy: ` wrapper.
fn strip_wrapper(error: &str) -> &str {
    error
        .strip_prefix("failed to parse policy: ")
        .unwrap_or(error)
}

/// A go-multierror text: the text before the first `N error(s) occurred:` and every item.
fn multierror_parts(error: &str) -> Option<(String, Vec<String>)> {
    let marker = error.find(" occurred:\n")?;
    let head_end = error[..marker]
        .rfind(|c: char| !(c.is_ascii_digit() || c.is_alphabetic() || c == ' '))
        .map_or(0, |i| i + 1);
    let head = error[..head_end].to_string();
    let head = head[..head.len().saturating_sub(0)].to_string();
    let items = error
        .split("\t* ")
        .skip(1)
        .map(|item| item.trim_end_matches('\n').to_string())
        .filter(|item| !item.ends_with("occurred:"))
        .collect();
    Some((head, items))
}

/// `None` when we agree with OpenBao, else what differs.
fn judge(ours: &[Diagnostic], status: u16, error: &str) -> Option<String> {
    let invalid: Vec<&Diagnostic> = ours.iter().filter(|d| d.is_invalid()).collect();
    let refused = status != 204;
    if refused == invalid.is_empty() {
        return Some(format!(
            "OpenBao {} (status {status}: {error:?}) but we report {} invalid diagnostic(s): {:?}",
            if refused { "refuses" } else { "accepts" },
            invalid.len(),
            invalid
                .iter()
                .map(|d| format!("[{}] {}", d.rule, d.message))
                .collect::<Vec<_>>()
        ));
    }
    if !refused {
        return None;
    }
    let first = &invalid[0].message;
    // We leave out the "on line 0" the target gives a block key (spec 1.2): the diagnostic
    // points at the key itself.
    let error = error.replace(" on line 0", "");
    let text = strip_wrapper(&error);
    match multierror_parts(text) {
        None if text.contains(first.as_str()) => None,
        None => Some(format!(
            "our first message {first:?} is not in OpenBao's {text:?}"
        )),
        Some((head, items)) => {
            if !first.starts_with(head.trim_end_matches(' ')) {
                return Some(format!(
                    "our first message {first:?} does not start with OpenBao's {head:?} ({text:?})"
                ));
            }
            if !items
                .first()
                .is_some_and(|item| first.contains(item.as_str()))
            {
                return Some(format!(
                    "our first message {first:?} lacks OpenBao's first item ({text:?})"
                ));
            }
            let missing: Vec<&String> = items
                .iter()
                .filter(|item| !invalid.iter().any(|d| d.message.contains(item.as_str())))
                .collect();
            if !missing.is_empty() {
                return Some(format!(
                    "OpenBao reports {missing:?}, which we do not ({text:?})"
                ));
            }
            None
        }
    }
}

#[test]
fn write_path_verdicts_match_openbao() {
    let seed = std::env::var("CAPABLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let bao = Bao::start();
    let mut cases: Vec<(String, String)> = corpus();
    assert!(
        cases.len() >= 200,
        "the corpus should hold at least 200 policies"
    );
    cases.extend(openbao_fixtures());
    cases.extend(
        SEEDS
            .iter()
            .enumerate()
            .map(|(i, text)| (format!("seed {i}"), text.to_string())),
    );
    let bases: Vec<String> = cases.iter().map(|(_, text)| text.clone()).collect();
    let mut rng = Rng(seed);
    for index in 0..MUTATIONS {
        // Half the mutants start from our seeds, which exercise more features per text.
        let base = if rng.below(2) == 0 {
            rng.pick(SEEDS).to_string()
        } else {
            rng.pick(&bases).clone()
        };
        cases.push((format!("mutant {index}"), mutate(&mut rng, &base)));
    }

    let mut mismatches = Vec::new();
    let mut refused = 0;
    for (name, text) in &cases {
        let answer = bao.put_policy("oracle", text);
        if answer.status != 204 {
            refused += 1;
        }
        let file = Arc::new(SourceFile::new("oracle.hcl", text.clone()));
        let parsed = std::panic::catch_unwind(|| parse_policy(file.clone(), Target::OpenBao));
        let verdict = match parsed {
            Ok(parsed) => judge(&parsed.diagnostics, answer.status, &answer.errors()),
            Err(_) => Some("parse_policy panicked".to_string()),
        };
        if let Some(problem) = verdict {
            mismatches.push(format!("--- {name}: {problem}\n{text}\n"));
        }
    }
    eprintln!(
        "{} cases, {refused} refused by OpenBao, {} mismatches (seed {seed})",
        cases.len(),
        mismatches.len()
    );
    assert!(
        refused >= 100,
        "the mutations should produce refusals (got {refused})"
    );
    assert!(
        mismatches.is_empty(),
        "seed {seed} (rerun with CAPABLE_SEED={seed}): {} of {} policies judged differently from OpenBao:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}
