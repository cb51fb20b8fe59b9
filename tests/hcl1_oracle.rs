//! Differential test of the HCL1 parser against OpenBao 2.7.2.
//!
//! Every case (a table of HCL1/JSON oddities plus every policy in the shared corpus) is
//! written to a real dev server with `PUT sys/policies/acl/<name>`. OpenBao's answer is
//! classified:
//! - **syntax error**: the text after `failed to parse policy: ` is an HCL1 parser or scanner
//!   error, i.e. it starts with `At L:C: ` (HCL), `L:C: ` (a JSON scanner error) or is one of
//!   the position-less HCL1 JSON parser messages (`expected: STRING got: `, `Expected object
//!   value, got unknown token: `, `Expected object, got unknown token: `, `unexpected token
//!   while parsing list: `, `illegal`) or `does not contain a root object`. Then our `parse`
//!   must fail, and OpenBao's text must be exactly that prefix plus our message. Where OpenBao
//!   gives `L:C`, our span must start at the same line and column, with one documented
//!   exception: at the very end of the text HCL1 reports one to four columns further (its
//!   scanner advances the column on every read past the end), so there we check the line and
//!   that OpenBao's column is not smaller than ours.
//! - anything else (accepted, or refused by the policy layer: `invalid key`, `invalid
//!   capability`, the empty text, ...): our `parse` must succeed.
//!
//! A second, generated test puts trailing (and stray) commas into random JSON policies at every
//! level, in objects and in lists, and compares both the verdict and, for every accepted text,
//! `sys/capabilities` on random paths with our ACL (`CAPABLE_SEED=<n>` replays a run).
//!
//! Not in the table: texts that are valid base64 (OpenBao's `sys/policy` endpoint decodes
//! those first, so it would judge different text; the test asserts none slipped in), and
//! escapes OpenBao crashes on when decoding (`"\400"`, `"\U00110000"` in a decoded value:
//! the connection closes without an answer; see `src/hcl1/unquote.rs` and its unit tests).

#[path = "support/gen.rs"]
mod gen;
mod support;

use std::sync::Arc;

use capable::acl::Acl;
use capable::hcl1::parse;
use capable::policy::parse_policy;
use capable::source::SourceFile;
use capable::target::Target;
use gen::Rng;
use support::bao::Bao;

const PREFIX: &str = "failed to parse policy: ";

/// Position-less messages of HCL1's JSON parser.
const JSON_PARSER_MESSAGES: &[&str] = &[
    "expected: STRING got: ",
    "Expected object value, got unknown token: ",
    "Expected object, got unknown token: ",
    "unexpected token while parsing list: ",
];

/// OpenBao's verdict on one text, as far as the syntax layer is concerned.
#[derive(Debug)]
enum Verdict {
    /// Not a syntax error (accepted, or refused after parsing).
    Parsed(String),
    /// A syntax error: position (if printed) and message.
    Syntax {
        position: Option<(usize, usize)>,
        message: String,
    },
}

fn classify(status: u16, errors: &str) -> Verdict {
    let Some(rest) = errors.strip_prefix(PREFIX) else {
        return Verdict::Parsed(format!("{status} {errors}"));
    };
    if let Some((position, message)) = split_position(rest.strip_prefix("At ").unwrap_or("")) {
        return Verdict::Syntax {
            position: Some(position),
            message: message.to_string(),
        };
    }
    if let Some((position, message)) = split_position(rest) {
        return Verdict::Syntax {
            position: Some(position),
            message: message.to_string(),
        };
    }
    let positionless = JSON_PARSER_MESSAGES.iter().any(|m| rest.starts_with(m))
        || rest == "illegal"
        || rest.starts_with("does not contain a root object");
    if positionless {
        return Verdict::Syntax {
            position: None,
            message: rest.to_string(),
        };
    }
    Verdict::Parsed(format!("{status} {errors}"))
}

/// `L:C: message` → ((L, C), message).
fn split_position(text: &str) -> Option<((usize, usize), &str)> {
    let (position, message) = text.split_once(": ")?;
    let (line, column) = position.split_once(':')?;
    Some(((line.parse().ok()?, column.parse().ok()?), message))
}

/// Go's `base64.StdEncoding.DecodeString` (ignoring CR and LF) would accept this text.
fn is_base64(text: &str) -> bool {
    let compact: Vec<u8> = text
        .bytes()
        .filter(|b| *b != b'\r' && *b != b'\n')
        .collect();
    if compact.is_empty() || !compact.len().is_multiple_of(4) {
        return false;
    }
    let body_len = compact
        .iter()
        .rposition(|b| *b != b'=')
        .map_or(0, |i| i + 1);
    let padding = compact.len() - body_len;
    padding <= 2
        && compact[..body_len]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

/// How many compared texts OpenBao refused as syntax errors, and how many it parsed.
#[derive(Default)]
struct Tally {
    syntax: usize,
    parsed: usize,
}

/// Compares one text; returns a description of the mismatch, if any.
fn compare(bao: &Bao, tally: &mut Tally, name: &str, text: &str) -> Option<String> {
    assert!(
        !is_base64(text),
        "case {name}: {text:?} is valid base64, which OpenBao decodes first; change the case"
    );
    let answer = bao.put_policy("oracle", text);
    let verdict = classify(answer.status, &answer.errors());
    match verdict {
        Verdict::Parsed(_) => tally.parsed += 1,
        Verdict::Syntax { .. } => tally.syntax += 1,
    }
    let ours = parse(text);
    let source = SourceFile::new(name, text);
    match (verdict, ours) {
        (Verdict::Parsed(_), Ok(_)) => None,
        (Verdict::Parsed(theirs), Err(error)) => Some(format!(
            "case {name}: OpenBao parses {text:?} ({theirs}) but we refuse it: {error:?}"
        )),
        (Verdict::Syntax { message, .. }, Ok(_)) => Some(format!(
            "case {name}: OpenBao refuses {text:?} with `{message}` but we parse it"
        )),
        (Verdict::Syntax { position, message }, Err(error)) => {
            if message != error.message {
                return Some(format!(
                    "case {name}: {text:?}: OpenBao says `{message}`, we say `{}`",
                    error.message
                ));
            }
            let (line, column) = source.line_col(error.span.start);
            let at_end = error.span.start == text.len();
            match position {
                Some((their_line, their_column))
                    if at_end && (their_line != line || their_column < column) =>
                {
                    Some(format!(
                        "case {name}: {text:?}: OpenBao at {their_line}:{their_column}, we at \
                         {line}:{column} (end of text)"
                    ))
                }
                Some(theirs) if !at_end && theirs != (line, column) => Some(format!(
                    "case {name}: {text:?}: OpenBao at {}:{}, we at {line}:{column}",
                    theirs.0, theirs.1
                )),
                _ => None,
            }
        }
    }
}

/// HCL1 and JSON oddities: (name, text). Valid and invalid ones; the oracle decides.
const CASES: &[(&str, &str)] = &[
    // Accepted forms from the issue.
    ("duplicate-attributes", "path \"a\" {\n  capabilities = [\"read\"]\n  capabilities = [\"list\"]\n}\n"),
    ("commas-between-attributes", "path \"a\" { capabilities = [\"read\"], policy = \"read\", }\n"),
    ("two-blocks-one-line", "path \"a\" { capabilities = [\"read\"] } path \"b\" { capabilities = [\"list\"] }\n"),
    ("two-labels", "path \"a\" \"b\" {}\n"),
    ("quoted-nested-key", "path \"a\" {\n  capabilities = [\"create\"]\n  allowed_parameters { \"bar\" = [] }\n}\n"),
    ("unquoted-nested-key", "path \"a\" {\n  capabilities = [\"create\"]\n  allowed_parameters = { foo = [] }\n}\n"),
    ("all-comment-kinds", "# hash\n// slashes\n/* block\n   comment */\npath \"a\" { capabilities = [\"read\"] } # trailing\n"),
    ("heredoc", "path \"a\" {\n  capabilities = [\"read\"]\n  comment = <<EOF\nsome text\nEOF\n}\n"),
    ("indented-heredoc", "path \"a\" {\n  capabilities = [\"read\"]\n  comment = <<-EOT\n    text\n    EOT\n}\n"),
    ("interpolation-literal", "path \"secret/${foo}/x\" { capabilities = [\"read\"] }\n"),
    ("interpolation-with-quotes", "path \"secret/${f(\"a\")}\" { capabilities = [\"read\"] }\n"),
    ("interpolation-with-newline", "path \"a/${\n}\" { capabilities = [\"read\"] }\n"),
    ("trailing-commas", "path \"a\" { capabilities = [\"read\", \"list\",], }\n"),
    ("comments-only", "# nothing here\n// at all\n"),
    ("whitespace-only", "   \n\t\n"),
    ("empty-text", ""),
    ("json-object-form", "{\"path\": {\"secret/foo\": {\"capabilities\": [\"read\"]}}}"),
    ("json-list-form", "{\"path\": [{\"a\": {\"capabilities\": [\"read\"]}}, {\"b\": {\"capabilities\": [\"list\"]}}]}"),
    ("json-repeated-path", "{\"path\": {\"a\": {\"capabilities\": [\"read\"]}}, \"path\": {\"b\": {\"capabilities\": [\"banana\"]}}}"),
    ("json-name", "{\"name\": \"x\", \"path\": {\"a\": {\"capabilities\": [\"read\"]}}}"),
    ("json-leading-whitespace", "  \n{\"path\": {\"a\": {\"capabilities\": [\"read\"]}}}"),
    ("json-bool-in-list", "{\"path\": {\"a\": {\"capabilities\": [true, \"read\"]}}}"),
    ("json-lone-brace", "{"),
    ("json-trailing-garbage", "{\"path\": {}} garbage"),
    ("json-missing-value", "{\"a\": }"),
    ("json-open-list", "{\"a\": [}"),
    ("json-missing-comma", "{\"path\": {\"a\": {\"capabilities\": [\"read\"]} \"b\": 1}, \"path\": {\"c\": {\"capabilities\": [\"banana\"]}}}"),
    ("json-unknown-key", "{\"path\": {\"a\": {\"capabilities\": [\"read\"], \"x\": 1}}}"),
    ("json-numbers", "{\"path\": {\"a\": {\"capabilities\": [\"read\"], \"min_wrapping_ttl\": 1.5e2, \"max_wrapping_ttl\": 600}}}"),
    ("json-null", "{\"path\": {\"a\": {\"capabilities\": [\"read\"], \"comment\": null}}}"),
    ("hcl-numbers", "path \"a\" {\n  capabilities = [\"update\"]\n  allowed_parameters = { \"x\" = [1, -2, 0x1F, 017, 1.5, 2e3, true, false] }\n}\n"),
    ("nested-list-no-comma", "path \"a\" { capabilities = [\"update\"] allowed_parameters = { \"x\" = [[1] [2]] } }\n"),
    ("stray-list-commas", "path \"a\" { capabilities = [,\"read\",,] }\n"),
    ("list-of-objects", "path \"a\" { capabilities = [\"update\"] allowed_parameters = { \"x\" = [{a = 1}, {b = \"c\"}] } }\n"),
    ("identifier-chars", "path \"a\" { foo-bar.baz_1 = 1 }\n"),
    ("unicode-identifier", "path \"a\" { é = 1 }\n"),
    ("no-label", "path { capabilities = [\"read\"] }\n"),
    ("quoted-path-keyword", "\"path\" \"a\" { capabilities = [\"read\"] }\n"),
    ("glued-tokens", "path\"a\"{capabilities=[\"read\"]}path\"b\"{}"),
    ("dangling-assign-at-end", "path \"a\" { capabilities = [\"read\"] }\nx = "),
    ("crlf-line-endings", "path \"a\" {\r\n  capabilities = [\"read\"]\r\n}\r\n"),
    ("escapes", "path \"a\\tb\\u00e9\\x41\\101\" { capabilities = [\"read\"] }\n"),
    ("surrogate-escape", "path \"a\" { capabilities = [\"\\uD800\"] }\n"),
    ("octal-zero-eight", "path \"a\" { x = 08 }\n"),
    ("exponent-swallows-brace", "path \"a\" { x = 1e}\n"),
    ("period-float-quirk", "path \"a\" { x = .5e3 }\n"),
    ("block-in-block", "path \"a\" { x {} }\n"),
    ("attribute-then-block", "path \"a\" { capabilities = [\"read\"] x y {} }\n"),
    ("capabilities-string", "path \"a\" { capabilities = \"read\" }\n"),
    // Rejected forms.
    ("label-with-assign", "path \"x\" = { capabilities = [\"read\"] }\n"),
    ("single-quotes", "path 'x' { capabilities = [\"read\"] }\n"),
    ("unterminated-string", "path \"x { capabilities = [\"read\"] }\n"),
    ("string-at-end", "x = \"abc"),
    ("newline-in-string", "path \"a\" { capabilities = [\"re\nad\"] }\n"),
    ("newline-in-string-then-valid", "x = \"a\ny = 1\n"),
    ("unterminated-comment", "path \"a\" { capabilities = [\"read\"] } /* open"),
    ("slash-star-slash", "path \"a\" {} /*/"),
    ("single-slash", "path \"a\" { capabilities = [\"read\"] / }\n"),
    ("unterminated-heredoc", "path \"a\" { comment = <<EOF\ntext\n"),
    ("heredoc-no-final-newline", "path \"a\" { comment = <<EOF\ntext\nEOF"),
    ("heredoc-anchor-space", "path \"a\" { comment = <<EOF \ntext\nEOF\n}\n"),
    ("heredoc-zero-anchor", "path \"a\" { comment = <<\ntext\n}\n"),
    ("heredoc-single-angle", "path \"a\" { comment = < }\n"),
    ("indented-heredoc-unindented-end", "path \"a\" { comment = <<-EOF\n  text\nEOF\n}\n"),
    ("missing-close-brace", "path \"a\" {\n  capabilities = [\"read\"]\n"),
    ("missing-close-brace-at-end", "path \"a\" {"),
    ("extra-close-brace", "path \"a\" { capabilities = [\"read\"] } }\n"),
    ("lone-close-brace", "}\n"),
    ("open-list", "path \"a\" { capabilities = [\"read\"\n"),
    ("list-missing-comma", "path \"a\" { capabilities = [\"read\" \"list\"] }\n"),
    ("list-object-missing-comma", "path \"a\" { x = [{a=1} {b=2}] }\n"),
    ("list-bare-word", "path \"a\" { capabilities = [read] }\n"),
    ("bare-word-value", "path \"a\" { policy = read }\n"),
    ("minus-value", "path \"a\" { x = - }\n"),
    ("plus-value", "path \"a\" { x = +1 }\n"),
    ("period-value", "path \"a\" { x = . }\n"),
    ("value-is-close-brace", "path \"a\" { x = } }\n"),
    ("key-without-value", "path \"a\" { capabilities }\n"),
    ("key-at-end", "path \"a\" \"b\""),
    ("number-key", "path \"a\" { 1 = 2 }\n"),
    ("bool-key", "path \"a\" { true = 2 }\n"),
    ("assign-without-key", "path \"a\" { = 2 }\n"),
    ("brace-without-key", "path \"a\" { {} }\n"),
    ("leading-comma", "path \"a\" { , capabilities = [\"read\"] }\n"),
    ("double-comma", "path \"a\" { capabilities = [\"read\"],, }\n"),
    ("colon-in-key", "path \"a\" { foo:bar = 1 }\n"),
    ("bad-escape", "path \"a\\q\" { capabilities = [\"read\"] }\n"),
    ("dollar-escape", "path \"a\\$\" { capabilities = [\"read\"] }\n"),
    ("unclosed-interpolation", "path \"a/${x\" { capabilities = [\"read\"] }\n"),
    ("hex-without-digits", "path \"a\" { x = 0x }\n"),
    ("bad-octal", "path \"a\" { x = 089 }\n"),
    ("byte-order-mark", "\u{feff}path \"a\" { capabilities = [\"read\"] }\n"),
    ("vertical-tab", "path \"a\" {\u{b}}\n"),
    ("nul-byte", "path \"a\" {}\u{0} x"),
    ("reserved-code-point", "path \"a\" { comment = \"\u{e123}\" }\n"),
    ("nested-list-error", "path \"a\" { x = [ [ [ } }\n"),
    ("object-in-list-error", "x = [ { a = 1, b = [ } ] } ]\n"),
    ("json-missing-colon", "{\"a\" 1}"),
    ("json-leading-zero", "{\"a\": 01}"),
    ("json-bare-minus", "{\"a\": -}"),
    ("json-bare-word", "{\"a\": x.y}"),
    ("json-nul-word", "{\"a\": nul}"),
    ("json-newline-in-string", "{\"a\": \"b\n\"}"),
    ("json-comma-first", "{,}"),
    ("json-double-comma", "{\"a\": 1 , , \"b\": 1}"),
    ("json-colon-first", "{:}"),
    ("json-bad-escape", "{\"a\": \"\\q\"}"),
    ("json-slash-escape", "{\"path\": {\"a\\/b\": {\"capabilities\": [\"read\"]}}}"),
    ("json-single-quotes", "{\"a\": 'x'}"),
    ("json-comment", "{\"a\": /* */ 1}"),
    ("json-close-bracket-value", "{\"a\": ]}"),
    ("json-trailing-comma-in-path-object", "{\"path\": {\"secret/*\": {\"capabilities\": [\"read\"]},}}"),
    ("json-trailing-comma-at-root", "{\"path\": {\"secret/*\": {\"capabilities\": [\"read\"]}},}"),
    ("json-trailing-comma-in-rule", "{\"path\": {\"secret/*\": {\"capabilities\": [\"read\"],}}}"),
    ("json-trailing-comma-in-list", "{\"path\": {\"secret/*\": {\"capabilities\": [\"read\",]}}}"),
    ("json-trailing-comma-in-list-form", "{\"path\": [{\"secret/*\": {\"capabilities\": [\"read\"]}},]}"),
    ("json-trailing-comma-in-parameters", "{\"path\": {\"a\": {\"capabilities\": [\"read\"], \"allowed_parameters\": {\"x\": [],}}}}"),
    ("json-trailing-comma-then-eof", "{\"path\": {\"secret/*\": {\"capabilities\": [\"read\"]}},"),
    ("json-item-cut-by-brace", "{\"path\": {\"a\": {\"capabilities\": [\"read\"]}}, \"x\": }"),
    ("json-double-trailing-comma", "{\"path\": {\"secret/*\": {\"capabilities\": [\"read\"]},,}}"),
    ("json-comma-in-empty-object", "{\"path\": {,}}"),
    ("json-null-in-list", "{\"path\": {\"a\": {\"capabilities\": [null]}}}"),
    ("json-illegal-after-comma", "\t{\"a\": 1, ?"),
    // JSON is chosen after Unicode white space, but its scanner skips only ASCII blanks.
    ("json-after-nbsp", "\u{a0}{\"path\": {}}"),
    ("json-after-vertical-tab", "\u{b}{\"path\": {}}"),
    ("json-after-bom", "\u{feff}{\"path\": {}}"),
    ("heredoc-crlf", "path \"a\" {\r\n  capabilities = [\"read\"]\r\n  comment = <<EOF\r\nx\r\nEOF\r\n}\r\n"),
    ("heredoc-in-list", "path \"a\" { capabilities = [<<EOF\nread\nEOF\n] }\n"),
    ("last-scanner-error-wins", "x = \"\\q\"\ny = \"\\z\"\n"),
    ("scanner-error-beats-parser-error", "path \"a\" { x = [1 2] y = 'q' }\n"),
    ("crlf-newline-in-string", "x = \"a\r\ny = 1\r\n"),
    ("nul-in-string", "path \"a\" { comment = \"a\u{0}b\" }\n"),
    ("nul-in-comment", "# a\u{0}b\npath \"a\" { capabilities = [\"read\"] }\n"),
    ("nul-in-json", "{\"path\": {\"a\u{0}\": {}}}"),
    ("reserved-code-point-in-comment", "# \u{e123}\npath \"a\" {}\n"),
    ("backslash-newline-in-string", "path \"a\\\nb\" { capabilities = [\"read\"] }\n"),
    ("escape-at-end", "x = \"a\\"),
    ("json-escape-before-nul", "{\"x\\u\u{0}\"\\n\"}"),
    ("json-short-unicode-escape", "{\"a\": \"\\u\"}"),
    ("json-short-hex-escape", "{\"a\": \"\\x4\"}"),
    ("json-short-octal-escape", "{\"a\": \"\\12\"}"),
    ("hcl-short-octal-escape", "x = \"\\12\"\n"),
];

#[test]
fn parser_agrees_with_openbao_on_hcl1_oddities() {
    assert!(CASES.len() >= 60);
    let bao = Bao::start();
    let mut tally = Tally::default();
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|(name, text)| compare(&bao, &mut tally, name, text))
        .collect();
    // The table must exercise both sides of the classification.
    assert!(
        tally.syntax >= 40 && tally.parsed >= 30,
        "syntax {} parsed {}",
        tally.syntax,
        tally.parsed
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from OpenBao:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn parser_agrees_with_openbao_on_the_corpus() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/policies");
    let mut paths: Vec<_> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", folder.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no policies in {}", folder.display());
    let bao = Bao::start();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for path in &paths {
        let bytes = std::fs::read(path).expect("read policy");
        let text = String::from_utf8_lossy(&bytes);
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        failures.extend(compare(&bao, &mut tally, &name, &text));
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus policies differ from OpenBao:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}

#[test]
fn syntax_errors_are_classified_as_such() {
    // The classifier itself: positions, JSON texts, and policy-level errors.
    assert!(matches!(
        classify(
            400,
            "failed to parse policy: At 1:10: nested object expected: LBRACE got: ASSIGN"
        ),
        Verdict::Syntax {
            position: Some((1, 10)),
            ..
        }
    ));
    assert!(matches!(
        classify(400, "failed to parse policy: 1:7: illegal char: ?"),
        Verdict::Syntax {
            position: Some((1, 7)),
            ..
        }
    ));
    assert!(matches!(
        classify(400, "failed to parse policy: expected: STRING got: COMMA"),
        Verdict::Syntax { position: None, .. }
    ));
    assert!(matches!(
        classify(400, "failed to parse policy: path \"a\": path \"a\": At -: unknown slice type: *ast.LiteralType"),
        Verdict::Parsed(_)
    ));
    assert!(matches!(
        classify(
            400,
            "failed to parse policy: 1 error occurred:\n\t* invalid key \"x\" on line 1\n\n"
        ),
        Verdict::Parsed(_)
    ));
    assert!(matches!(classify(204, ""), Verdict::Parsed(_)));
    assert!(is_base64("0991") && is_base64("path\n") && !is_base64("path \"a\" {}"));
}

/// Where a generated JSON policy gets its extra commas: before a closing `}` or `]` (a
/// trailing comma), doubled, or right after an opening one.
const COMMA_FORMS: &[&str] = &[
    "trailing", "trailing", "trailing", "trailing", "double", "leading",
];

/// A random JSON policy in the object or the list form, with parameter maps, from the shared
/// generator's patterns and capabilities.
fn random_json_policy(rng: &mut Rng) -> (String, Vec<String>) {
    let (policies, pool) = gen::random_policy_set(rng, "comma");
    let blocks: Vec<serde_json::Value> = policies[0]
        .blocks
        .iter()
        .map(|block| {
            let mut body = serde_json::Map::new();
            let capabilities = block.capabilities.clone().unwrap_or_default();
            body.insert("capabilities".into(), serde_json::json!(capabilities));
            if rng.chance(30) {
                body.insert(
                    "allowed_parameters".into(),
                    serde_json::json!({ "a": [], "b": ["x", "y"] }),
                );
            }
            serde_json::json!({ block.pattern.clone(): body })
        })
        .collect();
    let text = if rng.chance(50) {
        serde_json::json!({ "path": blocks })
    } else {
        let mut object = serde_json::Map::new();
        for block in blocks {
            let (pattern, body) = block.as_object().unwrap().iter().next().unwrap();
            object.insert(pattern.clone(), body.clone());
        }
        serde_json::json!({ "path": object })
    };
    (text.to_string(), pool)
}

/// Inserts one or two commas at brackets chosen at random. Generated patterns hold no
/// brackets, so every `{}[]` in the text is structural.
fn add_commas(rng: &mut Rng, text: &str) -> String {
    let mut text = text.to_string();
    for _ in 0..1 + rng.below(2) {
        let brackets: Vec<usize> = text
            .char_indices()
            .filter(|(_, c)| matches!(c, '{' | '}' | '[' | ']'))
            .map(|(at, _)| at)
            .collect();
        let at = *rng.pick(&brackets);
        let closing = matches!(text.as_bytes()[at], b'}' | b']');
        match (*rng.pick(COMMA_FORMS), closing) {
            ("trailing", true) => text.insert(at, ','),
            ("double", true) => text.insert_str(at, ",,"),
            _ => text.insert(at + 1, ','),
        }
    }
    text
}

#[test]
fn json_trailing_commas_match_openbao() {
    let seed = gen::seed("json_trailing_commas_match_openbao");
    let mut rng = Rng::new(seed);
    let bao = Bao::start();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    let mut compared_paths = 0;
    for index in 0..120 {
        let (base, pool) = random_json_policy(&mut rng);
        let text = add_commas(&mut rng, &base);
        let name = format!("comma mutant {index}");
        if let Some(failure) = compare(&bao, &mut tally, &name, &text) {
            failures.push(failure);
            continue;
        }
        let answer = bao.put_policy("comma", &text);
        let file = Arc::new(SourceFile::new("comma.json", text.clone()));
        let parsed = parse_policy(file, Target::OpenBao);
        let policy = match (answer.status, parsed.policy) {
            (204, Some(policy)) => policy,
            (204, None) => {
                failures.push(format!(
                    "{name}: OpenBao accepts {text:?}, we refuse it: {:?}",
                    parsed.diagnostics
                ));
                continue;
            }
            (_, Some(_)) => {
                failures.push(format!(
                    "{name}: OpenBao refuses {text:?} ({}), we accept it",
                    answer.errors()
                ));
                continue;
            }
            (_, None) => continue,
        };
        let acl = Acl::new(&[&policy], Target::OpenBao, None).expect("an accepted policy");
        let paths = gen::random_paths(&mut rng, &pool, 25);
        let token = bao.token_with(&["comma"]);
        let theirs = bao.capabilities(&token, &paths);
        for path in &paths {
            compared_paths += 1;
            let ours = acl.capabilities(path).0;
            if ours != theirs[path] {
                failures.push(format!(
                    "{name}: {text:?}: `{path}`: OpenBao {:?}, we {ours:?}",
                    theirs[path]
                ));
            }
        }
    }
    assert!(
        tally.syntax >= 10 && tally.parsed >= 40 && compared_paths >= 1000,
        "seed {seed}: too few cases on one side (syntax {}, parsed {}, paths {compared_paths})",
        tally.syntax,
        tally.parsed
    );
    assert!(
        failures.is_empty(),
        "seed {seed} (rerun with CAPABLE_SEED={seed}): {} differences from OpenBao:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
