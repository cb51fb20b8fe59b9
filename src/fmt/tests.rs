//! Hand-checked cases; `tests/fmt.rs` compares with the real `bao policy fmt`.

use super::{format_policy, FormatError, Formatted};

fn formatted(text: &str) -> String {
    match format_policy(text) {
        Ok(Formatted::Text(text)) => text,
        other => panic!("expected formatted text, got {other:?}"),
    }
}

#[test]
fn blocks_are_expanded_and_empty_blocks_stay_together() {
    let input = "path \"a\" {\ncapabilities = [\"read\"]\n}\npath \"b\" { capabilities = [\"read\"] }\npath \"c\" {}\npath \"d\" {}";
    let expected = "path \"a\" {\n  capabilities = [\"read\"]\n}\n\npath \"b\" {\n  capabilities = [\"read\"]\n}\n\npath \"c\" {}\npath \"d\" {}\n";
    assert_eq!(formatted(input), expected);
}

#[test]
fn comments_align_and_standalone_comments_keep_their_place() {
    let input = "# top\n# top2\n\npath \"a\" { # lc\n  # lead\n  capabilities = [\"read\"] # line\n  min_wrapping_ttl = \"1s\"\n  max_wrapping_ttl = \"10s\"   # c2\n  # standalone\n\n  required_parameters = [\"a\",\n  \"b\"]\n}\n# end";
    let expected = "# top\n# top2\n\npath \"a\" {\n  # lc\n\n  # lead\n  capabilities     = [\"read\"] # line\n  min_wrapping_ttl = \"1s\"\n  max_wrapping_ttl = \"10s\"    # c2\n\n  # standalone\n\n  required_parameters = [\n    \"a\",\n    \"b\",\n  ]\n}\n\n# end\n\n";
    assert_eq!(formatted(input), expected);
}

#[test]
fn a_leading_comment_group_in_a_block_is_joined_as_hcl1_does() {
    let input = "path \"a\" {\n  # one\n  # two\n\n  capabilities = [\"read\"]\n}\n";
    let expected = "path \"a\" {\n  # one  # two\n\n  capabilities = [\"read\"]\n}\n";
    assert_eq!(formatted(input), expected);
}

#[test]
fn formatting_is_idempotent_on_these_cases() {
    for input in [
        "path \"a\" {\ncapabilities = [\"read\"]\n}\n",
        "name = \"x\"\npath \"a\" { capabilities = [\"read\"] }",
    ] {
        let once = formatted(input);
        assert_eq!(formatted(&once), once);
    }
}

#[test]
fn a_comment_hcl1_would_drop_is_refused_at_its_span() {
    let input = "path \"b\" {\n  capabilities =\n  # c\n  [\"read\"]\n}\n";
    let error = format_policy(input).unwrap_err();
    let FormatError::DroppedComment(span) = error else {
        panic!("expected a dropped comment, got {error:?}");
    };
    assert_eq!(&input[span.start..span.end], "# c");
}

#[test]
fn json_is_left_alone_and_syntax_errors_are_reported() {
    assert_eq!(format_policy("  {\"path\": {}}"), Ok(Formatted::Json));
    assert!(matches!(
        format_policy("path \"a\" {"),
        Err(FormatError::Syntax(_))
    ));
}

#[test]
fn crlf_becomes_lf() {
    let input = "path \"a\" {\r\n  capabilities = [\"read\"]\r\n}\r\n";
    assert_eq!(
        formatted(input),
        "path \"a\" {\n  capabilities = [\"read\"]\n}\n"
    );
}
