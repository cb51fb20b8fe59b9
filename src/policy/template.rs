//! Templates in policy text: identity templates in path labels (spec 1.8) and OpenBao's Go
//! text/template in `list_scan_response_keys_filter_path` (spec 1.10).

/// A `{{...}}` marker in a path label: the trimmed variable name and its byte range inside
/// the label text (braces included).
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub name: String,
    pub start: usize,
    pub end: usize,
}

pub const UNBALANCED: &str =
    "failed to validate policy templating: unbalanced templating characters";

/// `identitytpl.PopulateString` in validity-check mode: split on `{{`; the first piece must
/// not contain `}}`, every later piece must split into exactly two on `}}`. Returns the markers
/// (empty for a plain label), or `Err` with the byte offset of the first offending brace pair.
/// Cost: O(len).
pub fn identity_markers(label: &str) -> Result<Vec<Marker>, usize> {
    // Most labels hold no brace at all: one byte scan answers for them (a label without
    // `{{` or `}}` is one piece with no marker), without building two substring searchers.
    if memchr::memchr2(b'{', b'}', label.as_bytes()).is_none() {
        return Ok(Vec::new());
    }
    split_markers(label)
}

/// [`identity_markers`] without the brace-free shortcut. Cost: O(len).
fn split_markers(label: &str) -> Result<Vec<Marker>, usize> {
    let mut pieces = label.split("{{");
    let first = pieces.next().unwrap_or("");
    if let Some(offset) = first.find("}}") {
        return Err(offset);
    }
    let mut markers = Vec::new();
    let mut offset = first.len();
    for piece in pieces {
        let start = offset;
        let parts: Vec<&str> = piece.split("}}").collect();
        if parts.len() != 2 {
            return Err(start);
        }
        markers.push(Marker {
            name: parts[0].trim().to_string(),
            start,
            end: start + 2 + parts[0].len() + 2,
        });
        offset = start + 2 + piece.len();
    }
    Ok(markers)
}

/// Why a filter-path template is refused, with OpenBao's text.
#[derive(Clone, Debug, PartialEq)]
pub enum FilterError {
    /// `unable to compile template for list_scan_response_keys_filter_path: ...`
    Compile(String),
    /// `failed to validate list_scan_response_keys_filter_path: ...`
    Execute(String),
    /// `list_scan_response_keys_filter_path resulted in same path for two different keys`
    SameForAllKeys,
}

impl FilterError {
    pub fn message(&self) -> String {
        match self {
            FilterError::Compile(detail) => format!(
                "unable to compile template for list_scan_response_keys_filter_path: unable to parse template: template: template:1: {detail}"
            ),
            FilterError::Execute(detail) => format!(
                "failed to validate list_scan_response_keys_filter_path: unable to apply template: template: {detail}"
            ),
            FilterError::SameForAllKeys => {
                "list_scan_response_keys_filter_path resulted in same path for two different keys".to_string()
            }
        }
    }
}

const BUILTIN_FUNCTIONS: [&str; 20] = [
    "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "html", "js",
    "urlquery", "eq", "ne", "lt", "le", "gt", "ge", "call", "nil",
];

/// A small check of Go text/template syntax, enough for real filter paths and the mutations
/// the tests generate. It finds: unclosed actions, unknown functions, `{{end}}`/`{{else}}`
/// without a block, unclosed blocks, field chains below `.key`/`.path` (an execution error),
/// and templates whose output cannot depend on `.key`.
///
/// Limits (documented, not exact Go): the pipeline is tokenised on whitespace and `|` and
/// `(`/`)`, strings are skipped; variables (`$x`), `define`/`template`/`block` are accepted
/// without further checks; output depends on `.key` when some non-control action mentions
/// `.key`, or prints `.` inside a `with`/`range` over `.key`. Cost: O(len).
pub fn check_filter_template(text: &str) -> Result<(), FilterError> {
    // One entry per open block: whether `.` (dot) holds the key inside it
    // (`{{ with .key }}{{ . }}{{ end }}`).
    let mut blocks: Vec<bool> = Vec::new();
    let mut uses_key = false;
    let mut variables: Vec<String> = vec!["$".to_string()];
    let mut rest = text;
    let mut consumed = 0usize;
    while let Some(open) = rest.find("{{") {
        let action_start = consumed + open;
        let after_open = &rest[open + 2..];
        let Some(close) = after_open.find("}}") else {
            // Go's lexer meets a lone brace before it meets the end of the text.
            if let Some(brace) = stray_brace(after_open) {
                let context = brace_context(after_open);
                return Err(FilterError::Compile(format!(
                    "unexpected \"{brace}\" in {context}"
                )));
            }
            return Err(FilterError::Compile("unclosed action".into()));
        };
        let inner = trim_markers(&after_open[..close]);
        let inner_offset = action_start
            + 2
            + (after_open[..close].len()
                - after_open[..close]
                    .trim_start_matches('-')
                    .trim_start()
                    .len());
        consumed = action_start + 2 + close + 2;
        rest = &text[consumed..];
        if inner.starts_with("/*") {
            continue;
        }
        if let Some(brace) = stray_brace(inner) {
            return Err(FilterError::Compile(format!(
                "unexpected \"{brace}\" in {}",
                brace_context(inner)
            )));
        }
        let words = tokenize(inner);
        let Some(first) = words.first() else {
            return Err(FilterError::Compile("missing value for command".into()));
        };
        let dot_is_key = blocks.last().copied().unwrap_or(false);
        match first.as_str() {
            "with" | "range" => {
                blocks.push(words.iter().any(|w| w == ".key") || dot_is_key);
            }
            "if" | "block" => blocks.push(dot_is_key),
            "end" => {
                if blocks.pop().is_none() {
                    return Err(FilterError::Compile("unexpected {{end}}".into()));
                }
                continue;
            }
            "else" => {
                if blocks.is_empty() {
                    return Err(FilterError::Compile("unexpected {{else}}".into()));
                }
                continue;
            }
            _ => {}
        }
        let control = matches!(
            first.as_str(),
            "if" | "range" | "with" | "block" | "define" | "template"
        );
        for (index, word) in words.iter().enumerate() {
            if let Some(name) = word.strip_prefix('$') {
                let name = format!("${}", name.split('.').next().unwrap_or(""));
                let declares = words.get(index + 1).is_some_and(|next| next == ":=");
                if declares {
                    variables.push(name);
                } else if !variables.contains(&name) {
                    return Err(FilterError::Compile(format!(
                        "undefined variable {}",
                        super::gostr::quote(&name)
                    )));
                }
                continue;
            }
            if word == ":=" || word == "=" || word == "," {
                continue;
            }
            check_word(word, text, inner, inner_offset)?;
            let mentions_key = word == ".key" || word.starts_with(".key.");
            if !control && (mentions_key || (dot_is_key && word == ".")) {
                uses_key = true;
            }
        }
    }
    if !blocks.is_empty() {
        return Err(FilterError::Compile("unexpected EOF".into()));
    }
    if !uses_key {
        return Err(FilterError::SameForAllKeys);
    }
    Ok(())
}

fn trim_markers(inner: &str) -> &str {
    let inner = inner.strip_prefix("- ").unwrap_or(inner);
    let inner = inner.strip_suffix(" -").unwrap_or(inner);
    inner.trim()
}

/// What Go's parser was reading when it met a stray brace: nothing yet (`command`), an
/// `end`, or an operand.
fn brace_context(action: &str) -> &'static str {
    let before = action.split(['{', '}']).next().unwrap_or("").trim();
    match before {
        "" => "command",
        "end" => "end",
        _ => "operand",
    }
}

/// A `{` or `}` outside string literals inside an action (Go's lexer refuses it).
fn stray_brace(inner: &str) -> Option<char> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in inner.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q != '`' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if matches!(c, '"' | '`' | '\'') => quote = Some(c),
            None if c == '{' || c == '}' => return Some(c),
            None => {}
        }
    }
    None
}

/// Splits an action into words, dropping string and character literals.
fn tokenize(inner: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '`' | '\'' => {
                let quote = c;
                let mut escaped = false;
                for d in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if d == '\\' && quote != '`' {
                        escaped = true;
                    } else if d == quote {
                        break;
                    }
                }
                words.push(String::from("\"\""));
            }
            c if c.is_whitespace() || c == '|' || c == '(' || c == ')' => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn check_word(word: &str, text: &str, inner: &str, inner_offset: usize) -> Result<(), FilterError> {
    let is_identifier = word
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    let keywords = [
        "if", "range", "with", "block", "define", "template", "else", "end", "break", "continue",
        "true", "false",
    ];
    if is_identifier && !keywords.contains(&word) && !BUILTIN_FUNCTIONS.contains(&word) {
        return Err(FilterError::Compile(format!(
            "function {} not defined",
            super::gostr::quote(word)
        )));
    }
    for root in [".key.", ".path."] {
        if let Some(tail) = word.strip_prefix(root) {
            let field = tail.split('.').next().unwrap_or("");
            let word_offset = inner_offset + inner.find(word).unwrap_or(0);
            // Go reports the position of the second field of the chain.
            let position = word_offset + root.len() - 1;
            let line_start = text
                .get(..position)
                .and_then(|before| before.rfind('\n'))
                .map_or(0, |i| i + 1);
            return Err(FilterError::Execute(format!(
                "template:1:{}: executing \"template\" at <{word}>: can't evaluate field {field} in type interface {{}}",
                position.saturating_sub(line_start)
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_markers_follow_the_split_rule() {
        assert_eq!(identity_markers("secret/a"), Ok(vec![]));
        let markers = identity_markers("a/{{ identity.entity.id }}/b").unwrap();
        assert_eq!(markers.len(), 1);
        assert_eq!(markers[0].name, "identity.entity.id");
        assert_eq!(
            &"a/{{ identity.entity.id }}/b"[markers[0].start..markers[0].end],
            "{{ identity.entity.id }}"
        );
        assert_eq!(identity_markers("{{a}}/{{b}}").unwrap().len(), 2);
        assert!(identity_markers("{{a").is_err());
        assert!(identity_markers("a}}").is_err());
        assert!(identity_markers("{{a}}}}").is_err());
        assert_eq!(identity_markers("{{}}").unwrap()[0].name, "");
    }

    proptest::proptest! {
        /// The brace-free shortcut answers as the split rule does, on any label.
        #[test]
        fn shortcut_agrees_with_the_split_rule(label in "([a-z/+*{} ]|\\{\\{|\\}\\}|é)*") {
            proptest::prop_assert_eq!(identity_markers(&label), split_markers(&label));
        }
    }

    #[test]
    fn filter_templates_as_openbao_judges_them() {
        assert_eq!(
            check_filter_template("{{}{{ .key }}"),
            Err(FilterError::Compile("unexpected \"}\" in command".into()))
        );
        assert_eq!(
            check_filter_template("{ $k := .key }}{{ $k }}"),
            Err(FilterError::Compile("undefined variable \"$k\"".into()))
        );
        assert_eq!(check_filter_template("{{ $k := .key }}{{ $k }}"), Ok(()));
        assert_eq!(
            check_filter_template("{{ with .key }}{{ . }}{{ end }"),
            Err(FilterError::Compile("unexpected \"}\" in end".into()))
        );
        assert_eq!(
            check_filter_template("{{ .path }}{{ .key }"),
            Err(FilterError::Compile("unexpected \"}\" in operand".into()))
        );
        assert_eq!(
            check_filter_template("{{ .path }{{ .key }}"),
            Err(FilterError::Compile("unexpected \"}\" in operand".into()))
        );
        // Verdicts observed from OpenBao 2.7.2.
        assert_eq!(check_filter_template("{{ .path }}{{ .key }}"), Ok(()));
        assert_eq!(check_filter_template("x/{{ printf \"%s\" .key }}"), Ok(()));
        assert_eq!(check_filter_template("}}{{.key}}"), Ok(()));
        assert_eq!(check_filter_template("{{/* c */}}{{.key}}"), Ok(()));
        assert_eq!(
            check_filter_template("{{ .path }}"),
            Err(FilterError::SameForAllKeys)
        );
        assert_eq!(
            check_filter_template("x/{{ .Key }}"),
            Err(FilterError::SameForAllKeys)
        );
        assert_eq!(
            check_filter_template("x/{{ if .key }}y{{ end }}"),
            Err(FilterError::SameForAllKeys)
        );
        assert_eq!(check_filter_template("5"), Err(FilterError::SameForAllKeys));
        assert_eq!(
            check_filter_template("{{ .path "),
            Err(FilterError::Compile("unclosed action".into()))
        );
        assert_eq!(
            check_filter_template("x/{{ .key | foo }}"),
            Err(FilterError::Compile("function \"foo\" not defined".into()))
        );
        assert_eq!(
            check_filter_template("x/{{ .key }}{{ end }}"),
            Err(FilterError::Compile("unexpected {{end}}".into()))
        );
        assert_eq!(
            check_filter_template("x/{{ .key.x }}").unwrap_err().message(),
            "failed to validate list_scan_response_keys_filter_path: unable to apply template: template: template:1:9: executing \"template\" at <.key.x>: can't evaluate field x in type interface {}"
        );
    }
}
