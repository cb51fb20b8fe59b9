//! SARIF 2.1.0 output (via `serde-sarif`), for GitHub code scanning and other viewers.
//!
//! - `tool.driver`: name, version, `informationUri`, and `rules`: every registered rule (id,
//!   short description = summary, full description and help = the rule's documentation,
//!   `helpUri` = its README anchor, default level, category tag) plus a descriptor for each
//!   other id that appears in the results (`invalid-*`, inventory and agent findings).
//!   Security rules carry `properties.security-severity` (GitHub's 0-10 scale: error 8.0,
//!   warning 5.0, info 2.0) and the `security` tag.
//! - artifact URIs are relative to the repository root (the git top level above the working
//!   directory, else the working directory) with `uriBaseId: "%SRCROOT%"`, and
//!   `run.originalUriBaseIds["%SRCROOT%"]` is that folder as a `file://` URI, so code
//!   scanning places findings right when capable runs from a subfolder;
//! - every descriptor has help text and a `helpUri` to its README anchor: lint rules their
//!   documentation, other ids (`invalid-*`, inventory, Terraform) their entry in
//!   [`super::codes`];
//! - `results`: rule id and index, level, message (with the help line), one physical location
//!   (1-based, columns in code points, `columnKind: unicodeCodePoints`) and
//!   `partialFingerprints["capable/v1"]`, a hash of the rule, the file, the flagged text and
//!   its line's text (not the line number, so unrelated edits above do not change it), with an
//!   occurrence counter for repeats.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{json, Value};
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run,
    Sarif, Tool, ToolComponent,
};

use super::codes::other_code;
use super::{category_of, each, Position};
use crate::diag::{Diagnostic, FileDiagnostics, Severity};
use crate::lint::{all_rule_metas, rule_help_uri, Category, RuleMeta};
use crate::source::SourceFile;
use crate::workspace::normalize;

/// The JSON schema URI written in `$schema`.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The `uriBaseId` of every artifact location.
pub const SOURCE_ROOT_ID: &str = "%SRCROOT%";

pub fn render(results: &[FileDiagnostics]) -> String {
    let mut out = Vec::new();
    write(results, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("SARIF is UTF-8")
}

/// Writes the SARIF log (pretty JSON and a final newline) to `out`, each result built only
/// while it is written: memory holds the run's frame and one result, not a million of them
/// (the whole log as [`build`] makes it is several kilobytes per finding). Same text as
/// serialising [`build`]'s log. Cost: O(findings) time.
pub fn write(results: &[FileDiagnostics], out: &mut dyn Write) -> io::Result<()> {
    let cwd = std::env::current_dir().unwrap_or_default();
    write_in(results, &cwd, out)
}

/// [`write()`] with `cwd` as the working directory.
pub fn write_in(results: &[FileDiagnostics], cwd: &Path, out: &mut dyn Write) -> io::Result<()> {
    let plan = Plan::new(results, cwd);
    // The frame: the log with an empty result list, whose place the lazy results take.
    let frame = serde_json::to_value(plan.log(Vec::new())).map_err(io::Error::other)?;
    let lazy = LazyResults {
        plan: &plan,
        results,
        fingerprints: RefCell::new(Fingerprints::default()),
    };
    serde_json::to_writer_pretty(
        &mut *out,
        &Spliced {
            frame: &frame,
            lazy: &lazy,
        },
    )?;
    out.write_all(b"\n")
}

/// The SARIF log of one check run, with URIs relative to the repository root found from the
/// working directory.
pub fn build(results: &[FileDiagnostics]) -> Sarif {
    let cwd = std::env::current_dir().unwrap_or_default();
    build_in(results, &cwd)
}

/// [`build`] with `cwd` as the working directory (file names relative to it).
pub fn build_in(results: &[FileDiagnostics], cwd: &Path) -> Sarif {
    let plan = Plan::new(results, cwd);
    let mut fingerprints = Fingerprints::default();
    let sarif_results = each(results)
        .map(|(file, diagnostic)| plan.result(file, diagnostic, &mut fingerprints))
        .collect();
    plan.log(sarif_results)
}

/// What every result of a run shares: the rule descriptors (registered rules, then each other
/// id in order of first appearance) and where the files are.
struct Plan {
    root: PathBuf,
    cwd: PathBuf,
    descriptors: Vec<ReportingDescriptor>,
    index: HashMap<String, usize>,
}

impl Plan {
    fn new(results: &[FileDiagnostics], cwd: &Path) -> Plan {
        let mut descriptors: Vec<ReportingDescriptor> =
            all_rule_metas().iter().map(registered_descriptor).collect();
        let mut index: HashMap<String, usize> = all_rule_metas()
            .iter()
            .enumerate()
            .map(|(i, meta)| (meta.id.to_string(), i))
            .collect();
        for (_, diagnostic) in each(results) {
            index.entry(diagnostic.rule.to_string()).or_insert_with(|| {
                descriptors.push(unregistered_descriptor(&diagnostic.rule));
                descriptors.len() - 1
            });
        }
        Plan {
            root: source_root(cwd),
            cwd: cwd.to_path_buf(),
            descriptors,
            index,
        }
    }

    fn result(
        &self,
        file: &SourceFile,
        diagnostic: &Diagnostic,
        fingerprints: &mut Fingerprints,
    ) -> SarifResult {
        let rule_index = self.index[&*diagnostic.rule];
        let uri = artifact_uri(&self.cwd, &self.root, &file.name);
        result(file, diagnostic, rule_index, &uri, fingerprints)
    }

    fn log(&self, sarif_results: Vec<SarifResult>) -> Sarif {
        let driver = ToolComponent::builder()
            .name("capable")
            .version(env!("CARGO_PKG_VERSION"))
            .information_uri(crate::lint::project_url())
            .rules(self.descriptors.clone())
            .build();
        let mut base_ids = BTreeMap::new();
        base_ids.insert(
            SOURCE_ROOT_ID.to_string(),
            ArtifactLocation::builder()
                .uri(folder_uri(&self.root))
                .build(),
        );
        let run = Run::builder()
            .tool(Tool::builder().driver(driver).build())
            .original_uri_base_ids(base_ids)
            .results(sarif_results)
            .column_kind(json!("unicodeCodePoints"))
            .build();
        Sarif::builder()
            .schema(SCHEMA_URI)
            .version(json!("2.1.0"))
            .runs(vec![run])
            .build()
    }
}

/// The results of a run, each built while it is written.
struct LazyResults<'a> {
    plan: &'a Plan,
    results: &'a [FileDiagnostics],
    fingerprints: RefCell<Fingerprints>,
}

impl Serialize for LazyResults<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut fingerprints = self.fingerprints.borrow_mut();
        let mut seq = serializer.serialize_seq(None)?;
        for (file, diagnostic) in each(self.results) {
            seq.serialize_element(&self.plan.result(file, diagnostic, &mut fingerprints))?;
        }
        seq.end()
    }
}

/// The log's frame with the lazy results in place of the first run's empty `results`.
struct Spliced<'a> {
    frame: &'a Value,
    lazy: &'a LazyResults<'a>,
}

impl Serialize for Spliced<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Value::Object(log) = self.frame else {
            return self.frame.serialize(serializer);
        };
        let mut map = serializer.serialize_map(Some(log.len()))?;
        for (key, value) in log {
            match (key.as_str(), value) {
                ("runs", Value::Array(runs)) => map.serialize_entry(
                    key,
                    &Runs {
                        runs,
                        lazy: self.lazy,
                    },
                )?,
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

struct Runs<'a> {
    runs: &'a [Value],
    lazy: &'a LazyResults<'a>,
}

impl Serialize for Runs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.runs.len()))?;
        for (at, run) in self.runs.iter().enumerate() {
            match run {
                Value::Object(fields) if at == 0 => seq.serialize_element(&RunFields {
                    fields,
                    lazy: self.lazy,
                })?,
                _ => seq.serialize_element(run)?,
            }
        }
        seq.end()
    }
}

struct RunFields<'a> {
    fields: &'a serde_json::Map<String, Value>,
    lazy: &'a LazyResults<'a>,
}

impl Serialize for RunFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (key, value) in self.fields {
            if key == "results" {
                map.serialize_entry(key, self.lazy)?;
            } else {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "8.0",
        Severity::Warning => "5.0",
        Severity::Info => "2.0",
    }
}

fn registered_descriptor(meta: &RuleMeta) -> ReportingDescriptor {
    let documentation = meta.documentation();
    let mut properties = BTreeMap::new();
    if meta.category == Category::Security {
        properties.insert(
            "security-severity".to_string(),
            json!(security_severity(meta.severity)),
        );
    }
    let tags = vec![meta.category.name().to_string()];
    ReportingDescriptor::builder()
        .id(meta.id)
        .short_description(text(meta.summary))
        .full_description(text(&documentation))
        .help(
            MultiformatMessageString::builder()
                .text(documentation.clone())
                .markdown(documentation)
                .build(),
        )
        .help_uri(rule_help_uri(meta.id))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level_name(meta.severity)))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(tags)
                .additional_properties(properties)
                .build(),
        )
        .build()
}

fn level_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A descriptor for an id outside the lint registry (refusals, inventory and Terraform
/// findings), documented in [`super::codes`]; an id missing there links to the README's
/// table of them.
fn unregistered_descriptor(id: &str) -> ReportingDescriptor {
    let tag = category_of(id).map_or("correctness", Category::name);
    let (summary, help, uri) = match other_code(id) {
        Some(code) => (code.summary, code.help, rule_help_uri(id)),
        None => (
            "a finding outside the lint rule catalog",
            "see the message and its help line",
            format!(
                "{}/blob/main/README.md#other-diagnostics",
                crate::lint::project_url()
            ),
        ),
    };
    let help = format!("{summary}\n\n{help}");
    ReportingDescriptor::builder()
        .id(id)
        .short_description(text(summary))
        .full_description(text(&help))
        .help(
            MultiformatMessageString::builder()
                .text(help.clone())
                .markdown(help)
                .build(),
        )
        .help_uri(uri)
        .properties(PropertyBag::builder().tags(vec![tag.to_string()]).build())
        .build()
}

fn text(value: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder()
        .text(value.to_string())
        .build()
}

fn result(
    file: &SourceFile,
    diagnostic: &Diagnostic,
    rule_index: usize,
    uri: &Artifact,
    fingerprints: &mut Fingerprints,
) -> SarifResult {
    let position = Position::of(file, diagnostic);
    let region = Region::builder()
        .start_line(position.line as i64)
        .start_column(position.column as i64)
        .end_line(position.end_line as i64)
        .end_column(position.end_column as i64)
        .build();
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(uri.location())
                .region(region)
                .build(),
        )
        .build();
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let mut partial = BTreeMap::new();
    partial.insert(
        "capable/v1".to_string(),
        fingerprints.next(file, diagnostic),
    );
    SarifResult::builder()
        .rule_id(diagnostic.rule.clone())
        .rule_index(rule_index as i64)
        .level(level(diagnostic.severity))
        .message(Message::builder().text(message).build())
        .locations(vec![location])
        .partial_fingerprints(partial)
        .build()
}

/// Where a file is, for SARIF: relative to the source root, or (outside it) absolute.
enum Artifact {
    Relative(String),
    Absolute(String),
}

impl Artifact {
    fn location(&self) -> ArtifactLocation {
        match self {
            Artifact::Relative(uri) => ArtifactLocation::builder()
                .uri(uri.clone())
                .uri_base_id(SOURCE_ROOT_ID)
                .build(),
            Artifact::Absolute(uri) => ArtifactLocation::builder().uri(uri.clone()).build(),
        }
    }
}

/// The repository root: the nearest folder at or above `cwd` holding `.git` (a folder, or a
/// file in a worktree or submodule), else `cwd`. Cost: one `stat` per ancestor.
pub fn source_root(cwd: &Path) -> PathBuf {
    let cwd = normalize(cwd);
    cwd.ancestors()
        .find(|folder| folder.join(".git").exists())
        .map_or_else(|| cwd.clone(), Path::to_path_buf)
}

fn artifact_uri(cwd: &Path, root: &Path, name: &str) -> Artifact {
    let path = normalize(&cwd.join(name));
    match path.strip_prefix(root) {
        Ok(relative) => Artifact::Relative(uri_of(&relative.to_string_lossy())),
        Err(_) => Artifact::Absolute(file_uri(&path)),
    }
}

/// `file:///abs/path` (percent-encoded).
fn file_uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let text = if text.starts_with('/') {
        text
    } else {
        format!("/{text}")
    };
    format!("file://{}", uri_of(&text))
}

/// A folder's `file://` URI, ending in `/` as SARIF requires for a base.
fn folder_uri(path: &Path) -> String {
    let mut uri = file_uri(path);
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// A relative URI reference for a file name: `/` separated, other reserved bytes
/// percent-encoded.
pub fn uri_of(name: &str) -> String {
    let mut uri = String::new();
    for byte in name.replace('\\', "/").bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte);
        if keep {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// Stable fingerprints; repeats of the same key get an occurrence suffix.
#[derive(Default)]
struct Fingerprints {
    seen: HashMap<u64, usize>,
}

impl Fingerprints {
    fn next(&mut self, file: &SourceFile, diagnostic: &Diagnostic) -> String {
        // Spans are on char boundaries, but a fingerprint must never be the thing that panics.
        let start = crate::source::floor_char_boundary(&file.text, diagnostic.span.start);
        let line_start = file.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_text = file.text[line_start..].lines().next().unwrap_or("").trim();
        let key = fnv1a(&[
            diagnostic.rule.as_bytes(),
            file.name.as_bytes(),
            file.slice(diagnostic.span).as_bytes(),
            line_text.as_bytes(),
        ]);
        let occurrence = self.seen.entry(key).or_insert(0);
        *occurrence += 1;
        format!("{key:016x}:{occurrence}")
    }
}

/// 64-bit FNV-1a over the parts, each followed by a 0 byte. Cost: O(total length).
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter().chain(std::iter::once(&0u8)) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streamed_log_is_the_built_log() {
        use std::sync::Arc;
        let file = Arc::new(SourceFile::new(
            "p.hcl",
            "path \"secret/*\" { capabilities = [\"sudo\"] }\npath \"x\" {}\n",
        ));
        let span = |start, end| crate::span::Span { start, end };
        let diagnostics = vec![
            Diagnostic::new(
                "literal-star",
                Severity::Warning,
                span(5, 15),
                String::from("one"),
            )
            .with_help("help text"),
            Diagnostic::new(
                "invalid-something",
                Severity::Error,
                span(50, 53),
                String::from("two"),
            ),
            Diagnostic::new(
                "literal-star",
                Severity::Warning,
                span(5, 15),
                String::from("one"),
            ),
        ];
        let cwd = std::env::temp_dir();
        for results in [
            vec![FileDiagnostics {
                file: file.clone(),
                diagnostics,
            }],
            vec![FileDiagnostics {
                file,
                diagnostics: Vec::new(),
            }],
            Vec::new(),
        ] {
            let mut streamed = Vec::new();
            write_in(&results, &cwd, &mut streamed).unwrap();
            let built = serde_json::to_string_pretty(&build_in(&results, &cwd)).unwrap() + "\n";
            assert_eq!(String::from_utf8(streamed).unwrap(), built);
        }
    }

    #[test]
    fn uris_are_encoded() {
        assert_eq!(uri_of("dir/a b%.hcl"), "dir/a%20b%25.hcl");
    }
}
