//! Unit tests for the HCL1 parser. Expected texts and positions were read from OpenBao 2.7.2
//! (`bao server -dev`, `PUT sys/policies/acl/t`); `tests/hcl1_oracle.rs` re-checks them live.

use super::*;
use crate::span::Span;
use proptest::prelude::*;

fn ok(text: &str) -> Vec<Item<'_>> {
    match parse(text) {
        Ok(node) => node.as_object().expect("root object").to_vec(),
        Err(error) => panic!("{text:?} should parse, got {error:?}"),
    }
}

fn err(text: &str) -> SyntaxError {
    match parse(text) {
        Ok(node) => panic!("{text:?} should fail, got {node:?}"),
        Err(error) => error,
    }
}

/// Line and column (from 1, in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn err_at(text: &str) -> (String, (usize, usize)) {
    let error = err(text);
    (error.message.clone(), line_col(text, error.span.start))
}

fn names<'a>(item: &'a Item<'_>) -> Vec<&'a str> {
    item.keys.iter().map(|key| key.name()).collect()
}

fn strings<'a>(node: &'a Node<'_>) -> Vec<&'a str> {
    node.as_list()
        .expect("list")
        .iter()
        .map(|n| n.as_str().expect("string"))
        .collect()
}

fn attr<'a, 't>(block: &'a Item<'t>, name: &str) -> &'a Node<'t> {
    let items = block.value.as_object().expect("block");
    &items
        .iter()
        .find(|item| item.keys[0].name == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .value
}

#[test]
fn a_path_block_with_spans() {
    let text = "path \"secret/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n";
    let items = ok(text);
    assert_eq!(items.len(), 1);
    let block = &items[0];
    assert_eq!(names(block), ["path", "secret/*"]);
    assert!(!block.keys[0].quoted);
    assert!(block.keys[1].quoted);
    // A string's span includes its quotes.
    assert_eq!(
        &text[block.keys[1].span.start..block.keys[1].span.end],
        "\"secret/*\""
    );
    assert_eq!(block.assign, None);
    assert_eq!(block.value.span, Span::new(16, text.len() - 1));
    let caps = attr(block, "capabilities");
    assert_eq!(strings(caps), ["read", "list"]);
    assert_eq!(
        &text[caps.span.start..caps.span.end],
        "[\"read\", \"list\"]"
    );
    let inner = &block.value.as_object().unwrap()[0];
    let assign = inner.assign.expect("assignment");
    assert_eq!(&text[assign.start..assign.end], "=");
    let read = &caps.as_list().unwrap()[0];
    assert_eq!(&text[read.span.start..read.span.end], "\"read\"");
}

#[test]
fn accepted_forms_from_the_issue() {
    // Duplicate attributes, commas between attributes, two blocks on one line.
    let items = ok(r#"path "a" { capabilities = ["read"], capabilities = ["list"], } path "b" {}"#);
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].value.as_object().unwrap().len(), 2);
    // Two labels: one item with three keys.
    assert_eq!(names(&ok(r#"path "a" "b" {}"#)[0]), ["path", "a", "b"]);
    // Quoted and unquoted keys in a nested block.
    let items = ok(r#"path "a" { allowed_parameters { "bar" = [] foo = [] } }"#);
    let params = attr(&items[0], "allowed_parameters").as_object().unwrap();
    assert_eq!(names(&params[0]), ["bar"]);
    assert!(params[0].keys[0].quoted);
    assert_eq!(names(&params[1]), ["foo"]);
    // Comments of all three kinds; a comment-only file is an empty root.
    assert!(ok("# a\n// b\n/* c\n d */").is_empty());
    assert!(ok("").is_empty());
    assert!(ok("  \n\t").is_empty());
    // Trailing commas in lists and objects.
    assert_eq!(strings(attr(&ok(r#"p { x = ["a",] }"#)[0], "x")), ["a"]);
    // `key = { ... }` assignments of objects, lists holding objects.
    let items = ok(r#"x = { a = 1 } y = [{ b = 2 }, [3]]"#);
    assert!(items[0].assign.is_some());
    assert!(items[0].value.as_object().is_some());
    assert_eq!(items[1].value.as_list().unwrap().len(), 2);
}

#[test]
fn interpolation_is_literal_text_and_may_hold_quotes_and_newlines() {
    let items = ok("x = \"${foo(\"a\")}/b\"\ny = \"${\n}\"");
    assert_eq!(items[0].value.as_str(), Some("${foo(\"a\")}/b"));
    assert_eq!(items[1].value.as_str(), Some("${\n}"));
    // No escapes are processed inside `${}`.
    assert_eq!(ok(r#"x = "${\"}""#)[0].value.as_str(), Some(r#"${\"}"#));
}

#[test]
fn string_escapes() {
    let items = ok(r#"x = "\x41\U0001F600\a\101\t\"\\\u00e9\uD800""#);
    assert_eq!(items[0].value.as_str(), Some("A😀\u{7}A\t\"\\é\u{FFFD}"));
}

#[test]
fn heredocs() {
    let items =
        ok("x = <<EOF\nread\nEOF\ny = <<-EOT\n    a\n      b\n  EOT\nz = <<EOF\nq\n  EOF\n");
    assert_eq!(items[0].value.as_str(), Some("read\n"));
    assert_eq!(items[1].value.as_str(), Some("  a\n    b\n"));
    // Whitespace before the terminator of a plain heredoc stays in the value.
    assert_eq!(items[2].value.as_str(), Some("q\n  "));
    let text = "x = <<EOF\nread\nEOF\n";
    let span = ok(text)[0].value.span;
    assert_eq!(&text[span.start..span.end], "<<EOF\nread\nEOF");
}

#[test]
fn numbers_bools_and_bad_numbers() {
    let items = ok("a = 1 b = -0x1F c = 017 d = 1.5e3 e = .5 f = true g = false h = 08 i = 99999999999999999999 j = 1e400 k = 1.");
    let kinds: Vec<&NodeKind> = items.iter().map(|item| &item.value.kind).collect();
    assert_eq!(kinds[0], &NodeKind::Int(1));
    assert_eq!(kinds[1], &NodeKind::Int(-31));
    assert_eq!(kinds[2], &NodeKind::Int(15));
    assert_eq!(kinds[3], &NodeKind::Float(1500.0));
    assert_eq!(kinds[4], &NodeKind::Float(0.5));
    assert_eq!(kinds[5], &NodeKind::Bool(true));
    assert_eq!(kinds[6], &NodeKind::Bool(false));
    assert_eq!(
        kinds[7],
        &NodeKind::BadNumber {
            text: "08".into(),
            float: false
        }
    );
    assert!(matches!(kinds[8], NodeKind::BadNumber { float: false, .. }));
    assert!(matches!(kinds[9], NodeKind::BadNumber { float: true, .. }));
    assert_eq!(kinds[10], &NodeKind::Float(1.0));
}

#[test]
fn an_assignment_without_a_value_at_the_end_is_dropped() {
    assert!(ok("x = ").is_empty());
    assert_eq!(ok("a = 1\nx =").len(), 1);
}

#[test]
fn lists_need_commas_except_after_a_nested_list() {
    let items = ok("x = [[1] [2], , 3,]");
    assert_eq!(items[0].value.as_list().unwrap().len(), 3);
    assert_eq!(ok("x = [,]")[0].value.as_list().unwrap().len(), 0);
}

#[test]
fn rejected_forms_from_the_issue() {
    assert_eq!(
        err_at(r#"path "x" = {}"#),
        ("nested object expected: LBRACE got: ASSIGN".into(), (1, 10))
    );
    assert_eq!(err_at("x = 'a'"), ("illegal char".into(), (1, 5)));
    assert_eq!(
        err_at("x = \"abc"),
        ("literal not terminated".into(), (1, 9))
    );
    // The newline ends the first string with an error; the scan goes on and the second `"`
    // opens a string that the end of the text leaves open: HCL1 keeps the last error.
    assert_eq!(
        err_at("x = \"a\nb\""),
        ("literal not terminated".into(), (2, 3))
    );
    assert_eq!(
        err_at("x = \"a\ny = 1"),
        ("literal not terminated".into(), (1, 7))
    );
    assert_eq!(err_at("/* x"), ("comment not terminated".into(), (1, 5)));
    assert_eq!(
        err_at("x = <<EOF\nfoo\nEOF"),
        ("heredoc not terminated".into(), (3, 4))
    );
    assert_eq!(
        err_at("path \"a\" {}}"),
        (
            "expected: IDENT | STRING | ASSIGN | LBRACE got: RBRACE".into(),
            (1, 12)
        )
    );
    // Unbalanced the other way: HCL1 reports one column further at the end of the text.
    assert_eq!(
        err_at("path \"a\" {"),
        ("object expected closing RBRACE got: EOF".into(), (1, 11))
    );
}

#[test]
fn error_texts_and_positions_match_openbao() {
    let cases: &[(&str, &str, (usize, usize))] = &[
        ("path \"a\" { capabilities = [\"read\"] x = foo }", "Unknown token: 1:40 IDENT foo", (1, 40)),
        ("x = \"\\x\"", "literal not terminated", (1, 9)),
        ("path \"a\" { foo }", "key 'foo' expected start of object ('{') or assignment ('=')", (1, 16)),
        ("x = -", "Unknown token: 1:5 SUB -", (1, 5)),
        ("path \"a\" { x = } }", "Unknown token: 1:16 RBRACE }", (1, 16)),
        ("x = [ {  ]", "error while trying to parse object within list: At 1:10: expected: IDENT | STRING | ASSIGN | LBRACE got: RBRACK", (1, 7)),
        ("x = [1 2]", "error parsing list, expected comma or list end, got: NUMBER", (1, 8)),
        ("path \"a\" { x = 0x }", "illegal hexadecimal number", (1, 18)),
        ("path \"a\" { x = 099 }", "illegal octal number", (1, 19)),
        ("path \"a\" { foo:bar = 1 }", "illegal char", (1, 15)),
        ("path \"a\" { x = \"\\q\" }", "illegal char escape", (1, 18)),
        ("path \"a\" { x = \"${\" }", "literal not terminated", (1, 22)),
        ("path \"a\" { x = \"a\" / }", "expected '/' for comment", (1, 20)),
        ("path \"a\" { x = \"a\" } /*/", "comment not terminated", (1, 25)),
        ("path \"a\" { x = <<EOF \nfoo\nEOF\n}", "invalid characters in heredoc anchor", (1, 21)),
        ("path \"a\" { x = <<\nfoo\n}", "zero-length heredoc anchor", (1, 18)),
        ("path \"a\" { x = < }", "heredoc expected second '<', didn't see it", (1, 17)),
        ("path \"a\" { x = <<-EOF\n    read\nEOF\n}", "heredoc not terminated", (4, 2)),
        ("path \"a\" { 1 = 2 }", "expected: IDENT | STRING | ASSIGN | LBRACE got: NUMBER", (1, 12)),
        ("path \"a\" { = 2 }", "no object keys found!", (1, 12)),
        ("path \"a\" { {} }", "expected: IDENT | STRING got: LBRACE", (1, 12)),
        ("path \"a\" { x = [ =", "unexpected token while parsing list: ASSIGN", (1, 18)),
        ("path \"a\" { x = .5e3 }", "expected: IDENT | STRING | ASSIGN | LBRACE got: NUMBER", (1, 19)),
        ("\u{feff}path \"a\" {}", "illegal char", (1, 1)),
        ("path \"a\" {}\u{0} x", "unexpected null character (0x00)", (1, 12)),
        ("path \"a\" { x = \u{e123} }", "illegal char", (1, 16)),
        ("x = [ [ [ }", "error while trying to parse list within list: At 1:9: error while trying to parse list within list: At 1:11: unexpected token while parsing list: RBRACE", (1, 7)),
    ];
    for (text, message, position) in cases {
        assert_eq!(&err_at(text), &(message.to_string(), *position), "{text:?}");
    }
}

#[test]
fn crlf_is_newline_and_positions_point_at_the_carriage_return() {
    let text = "path \"a\" {\r\n  capabilities = [\"read\"]\r\n}\r\n";
    let items = ok(text);
    let caps = attr(&items[0], "capabilities");
    assert_eq!(&text[caps.span.start..caps.span.end], "[\"read\"]");
    let (message, position) = err_at("x = \"a\r\ny = 1");
    assert_eq!(
        (message.as_str(), position),
        ("literal not terminated", (1, 7))
    );
    assert_eq!(
        ok("x = <<EOF\r\na\r\nEOF\r\n")[0].value.as_str(),
        Some("a\n")
    );
}

#[test]
fn every_error_has_help() {
    for text in [
        "x = 'a'",
        "path \"x\" = {}",
        "x = [1 2]",
        "{\"a\" 1}",
        "x = foo",
        "path {",
    ] {
        let error = err(text);
        assert!(!error.help.is_empty(), "{text:?}");
        assert_ne!(error.help, "fix the syntax at this position", "{text:?}");
    }
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let within = format!("x = {}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(parse(&within).is_ok());
    let beyond = format!("x = {}", "[".repeat(MAX_DEPTH + 1));
    let error = err(&beyond);
    assert!(error.message.contains("nested more than"), "{error:?}");
    let json = format!("{{\"a\": {}", "[".repeat(100_000));
    assert!(err(&json).message.contains("nested more than"));
    let objects = "a {".repeat(100_000);
    assert!(err(&objects).message.contains("nested more than"));
}

// ---- JSON ----

#[test]
fn json_objects_flatten_like_blocks() {
    let items = ok(r#"{"path": {"a": {"capabilities": ["read"]}, "b": {"policy": "deny"}}}"#);
    assert_eq!(items.len(), 2);
    assert_eq!(names(&items[0]), ["path", "a"]);
    assert_eq!(strings(attr(&items[0], "capabilities")), ["read"]);
    assert_eq!(names(&items[1]), ["path", "b"]);
    // The list form gives the same items, in order.
    let listed = ok(r#"{"path": [{"a": {"capabilities": ["read"]}}, {"b": {"policy": "deny"}}]}"#);
    let flat: Vec<Vec<&str>> = listed.iter().map(names).collect();
    assert_eq!(flat, [vec!["path", "a"], vec!["path", "b"]]);
    // Repeated keys are kept.
    assert_eq!(ok(r#"{"path": {"a": {}}, "path": {"b": {}}}"#).len(), 2);
}

#[test]
fn json_flattening_goes_through_nested_objects_of_objects() {
    let items = ok(r#"{"path": {"a": {"allowed_parameters": {"x": {}}}}}"#);
    assert_eq!(names(&items[0]), ["path", "a", "allowed_parameters", "x"]);
    let items = ok(r#"{"x": {"y": [{"k": "v"}]}}"#);
    let inner = items[0].value.as_object().unwrap();
    // `"y": [ {..} ]` became `y = {..}`.
    assert!(inner[0].value.as_object().is_some());
}

#[test]
fn json_flattening_happens_level_by_level() {
    // `path`'s value holds a list, so `path` stays one item; inside it, the list of objects
    // under `a` becomes two `a` items (OpenBao: two `invalid key "a"` errors for `path "path"`).
    let items = ok(r#"{"path": {"a": [{"capabilities": ["read"]}, {"capabilities": ["x"]}]}}"#);
    assert_eq!(items.len(), 1);
    assert_eq!(names(&items[0]), ["path"]);
    let inner = items[0].value.as_object().unwrap();
    let inner_names: Vec<Vec<&str>> = inner.iter().map(names).collect();
    assert_eq!(inner_names, [vec!["a"], vec!["a"]]);
    // A mixed object is not flattened.
    let items = ok(r#"{"path": {"a": {"capabilities": ["read"]}, "b": "x"}}"#);
    assert_eq!(names(&items[0]), ["path"]);
}

#[test]
fn json_leniency_matches_hcl1() {
    assert!(ok("{").is_empty());
    assert!(ok(r#"{"path": {}} garbage"#).len() == 1);
    assert!(ok(r#"{"a": }"#).is_empty());
    assert!(ok(r#"{"a": [}"#).is_empty());
    assert_eq!(ok(r#"{"a": 1 "b": 2}"#).len(), 1);
    assert_eq!(names(&ok(r#"{"a" "b": 1}"#)[0]), ["a", "b"]);
    // Booleans inside arrays are dropped, `null` is an empty string.
    let items = ok(r#"{"a": [true, "read", 1, 1.5], "b": null, "c": false}"#);
    assert_eq!(items[0].value.as_list().unwrap().len(), 3);
    assert_eq!(items[1].value.as_str(), Some(""));
    assert_eq!(items[2].value.kind, NodeKind::Bool(false));
}

#[test]
fn json_trailing_commas_keep_the_items_before_them() {
    // Each form checked against OpenBao 2.7.2 (tests/hcl1_oracle.rs asks the server too).
    let inner = ok(r#"{"path": {"a": {"capabilities": ["read"]},}}"#);
    assert_eq!(names(&inner[0]), ["path", "a"]);
    assert_eq!(strings(attr(&inner[0], "capabilities")), ["read"]);
    let root = ok(r#"{"path": {"a": {"capabilities": ["read"]}},}"#);
    assert_eq!(names(&root[0]), ["path", "a"]);
    let rule = ok(r#"{"path": {"a": {"capabilities": ["read"],}}}"#);
    assert_eq!(strings(attr(&rule[0], "capabilities")), ["read"]);
    let two = ok(r#"{"path": {"a": {"capabilities": ["read"]}, "b": {"policy": "deny"},}}"#);
    let flat: Vec<Vec<&str>> = two.iter().map(names).collect();
    assert_eq!(flat, [vec!["path", "a"], vec!["path", "b"]]);
    // An item cut short by `}` is dropped, the ones before it stay.
    let cut = ok(r#"{"path": {"a": {"capabilities": ["read"]}}, "x": }"#);
    assert_eq!(cut.len(), 1);
    // Two commas are still an error.
    assert_eq!(
        err(r#"{"path": {"a": {},,}}"#).message,
        "expected: STRING got: COMMA"
    );
}

#[test]
fn json_errors() {
    let cases: &[(&str, &str, (usize, usize))] = &[
        ("{\"a\" 1}", "expected: STRING got: NUMBER", (1, 6)),
        ("{\"a\": 01}", "numbers cannot start with 0", (1, 8)),
        ("{\"a\": -}", "illegal char", (1, 7)),
        ("{\"a\": x.y}", "illegal char", (1, 7)),
        ("{\"a\": nul}", "illegal char", (1, 9)),
        ("{\"a\": \"b\n\"}", "literal not terminated", (2, 3)),
        ("{,}", "expected: STRING got: COMMA", (1, 2)),
        ("{\"a\": \"\\q\"}", "illegal char escape", (1, 9)),
        ("{\"a\": 'x'}", "illegal char: '", (1, 7)),
        (
            "{\"a\": ]}",
            "Expected object value, got unknown token: 1:7 RBRACK ]",
            (1, 7),
        ),
        (
            "{\"a\": [null]}",
            "unexpected token while parsing list: NULL",
            (1, 8),
        ),
        (
            "{\"path\": {\"a\\/b\": {}}}",
            "illegal char escape",
            (1, 14),
        ),
    ];
    for (text, message, position) in cases {
        assert_eq!(&err_at(text), &(message.to_string(), *position), "{text:?}");
    }
}

#[test]
fn json_is_chosen_after_leading_whitespace_only() {
    assert_eq!(ok(" \n\t{\"path\": {\"a\": {}}}").len(), 1);
    // Not JSON: HCL sees `x` first.
    assert!(parse("x = {}").is_ok());
}

// ---- robustness ----

fn check_spans(text: &str, node: &Node) {
    let within = |span: Span| {
        span.start <= span.end
            && span.end <= text.len()
            && text.is_char_boundary(span.start)
            && text.is_char_boundary(span.end)
    };
    assert!(within(node.span), "{:?} in {text:?}", node.span);
    match &node.kind {
        NodeKind::Object(items) => {
            for item in items {
                for key in &item.keys {
                    assert!(within(key.span), "{:?} in {text:?}", key.span);
                }
                if let Some(assign) = item.assign {
                    assert!(within(assign));
                }
                check_spans(text, &item.value);
            }
        }
        NodeKind::List(nodes) => nodes.iter().for_each(|n| check_spans(text, n)),
        _ => {}
    }
}

fn check(text: &str) {
    match parse(text) {
        Ok(node) => check_spans(text, &node),
        Err(error) => {
            let span = error.span;
            assert!(
                span.start <= span.end && span.end <= text.len(),
                "{span:?} {text:?}"
            );
            assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
            assert!(!error.message.is_empty() && !error.help.is_empty());
        }
    }
}

const PIECES: &[&str] = &[
    "path",
    "\"a/*\"",
    "{",
    "}",
    "[",
    "]",
    "=",
    ",",
    " ",
    "\n",
    "\r\n",
    "\"read\"",
    "x",
    "1",
    "0x1F",
    "08",
    "1.5",
    "1e",
    ".5",
    "-2",
    "true",
    "#c\n",
    "// c",
    "/* c */",
    "/*",
    "\"",
    "'",
    "<<EOF\nx\nEOF\n",
    "<<-EOF\n x\n EOF\n",
    "<<EOF",
    "\"${a \"b\"}\"",
    "\"\\n\"",
    "\"\\q\"",
    "${",
    ":",
    "?",
    ".",
    "+",
    "-",
    "é",
    "\u{0}",
    "\u{e123}",
    "\\",
    "/",
    "null",
    "\"\\400\"",
    "\"\\U00110000\"",
    "\"${\u{fffd}}\"",
    "<<",
    "\t",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text);
        check(&format!("{{{text}"));
    }

    #[test]
    fn token_soup_never_panics(pieces in proptest::collection::vec(0..PIECES.len(), 0..40), json in any::<bool>()) {
        let mut text: String = pieces.iter().map(|&i| PIECES[i]).collect();
        if json {
            text.insert(0, '{');
        }
        check(&text);
    }
}
