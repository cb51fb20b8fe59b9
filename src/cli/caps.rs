//! `capable caps`: what `sys/capabilities` answers for a token holding exactly these policies,
//! or the policies of a role, entity or group of the inventory.
//!
//! Paths come from the command line or, one per line, from `--paths-from FILE|-`; answers are
//! written as each path is read, so memory and the cost per path do not grow with the number
//! of paths. Each answer is the verdict only ([`Acl::capability_set`]: one rule lookup); no
//! explanation is built.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{CliError, CliResult, Exit};
use crate::acl::Acl;
use crate::policy::CapSet;
use crate::query::subject::SubjectArgs;
use crate::target::Target;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "The target, mounts and settings come from `capable.yaml` (found from the working \
directory up, or `--config`), as for every other command; `--target` overrides the target."
)]
pub struct Args {
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Read the paths from FILE, one per line (`-` for stdin); blank lines are skipped
    #[arg(long, value_name = "FILE|-", conflicts_with = "paths")]
    pub paths_from: Option<PathBuf>,
    /// API paths to ask about, as given to `sys/capabilities`
    #[arg(required_unless_present = "paths_from", value_name = "PATH")]
    pub paths: Vec<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

pub(crate) fn parse_target(text: &str) -> Result<Target, String> {
    text.parse()
}

pub fn run(args: Args) -> CliResult {
    let resolved = args.subject.resolve()?;
    let stdout = std::io::stdout();
    let mut out = Answers::new(&resolved.acl, args.format, BufWriter::new(stdout.lock()));
    out.namespace = resolved.namespace.clone();
    match &args.paths_from {
        Some(file) => stream_paths(file, &mut out)?,
        None => {
            for path in &args.paths {
                out.answer(path).map_err(write_error)?;
            }
        }
    }
    out.finish().map_err(write_error)?;
    Ok(Exit::Clean)
}

/// Answers each line of `file` (`-`: stdin) as it is read. Cost per path: one line read into
/// a reused buffer, one lookup, one write; nothing is kept except, for JSON, the set of paths
/// already written (a repeated path is answered once, as in the `sys/capabilities` object).
fn stream_paths<W: Write>(file: &Path, out: &mut Answers<'_, W>) -> Result<(), CliError> {
    let shown = file.display().to_string();
    let mut reader: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let opened = std::fs::File::open(file)
            .map_err(|error| CliError::usage(format!("cannot read `{shown}`: {error}")))?;
        Box::new(std::io::BufReader::with_capacity(1 << 16, opened))
    };
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|error| CliError::usage(format!("cannot read `{shown}`: {error}")))?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        let text = std::str::from_utf8(trim_line_end(&line)).map_err(|_| {
            CliError::usage(format!("`{shown}` line {number} is not UTF-8"))
                .with_help("API paths are UTF-8 text, one per line")
        })?;
        if text.is_empty() {
            continue;
        }
        out.answer(text).map_err(write_error)?;
    }
}

/// A line without its `\n` or `\r\n`.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn write_error(error: std::io::Error) -> CliError {
    CliError::usage(format!("cannot write the answers: {error}"))
}

/// Writes answers as they come, in the text form (`path: names`) or as one pretty-printed JSON
/// object identical to `serde_json::to_string_pretty` of the whole map. Asked in a child
/// namespace, the text starts with a `namespace:` line and the JSON is
/// `{"version": 1, "namespace": ..., "capabilities": {path: [...]}}`.
struct Answers<'a, W: Write> {
    acl: &'a Acl,
    format: Format,
    out: W,
    /// Where the question is asked (`""`: root); the paths are relative to it.
    namespace: String,
    /// The rendered names per capability bitmap: few distinct sets occur, so each is joined once.
    rendered: HashMap<u16, String>,
    /// JSON only: paths already written.
    seen: HashSet<String>,
}

impl<'a, W: Write> Answers<'a, W> {
    fn new(acl: &'a Acl, format: Format, out: W) -> Answers<'a, W> {
        Answers {
            acl,
            format,
            out,
            namespace: String::new(),
            rendered: HashMap::new(),
            seen: HashSet::new(),
        }
    }

    /// Answers one path. Cost: one lookup plus the write (amortised O(1) in the number of
    /// paths answered before).
    fn answer(&mut self, path: &str) -> std::io::Result<()> {
        if self.format == Format::Json && !self.seen.insert(path.to_string()) {
            return Ok(());
        }
        let first = match self.format {
            Format::Json => self.seen.len() == 1,
            Format::Text => self.seen.insert(String::new()),
        };
        if first {
            self.start()?;
        }
        // `None` is a root ACL; with no policies the bitmap is empty, which reads `["deny"]`.
        let set = if self.namespace.is_empty() {
            self.acl.capability_set(path)
        } else {
            self.acl
                .capability_set(&crate::namespace::join(&self.namespace, path))
        };
        let format = self.format;
        let indent = self.indent();
        let names = self
            .rendered
            .entry(set.map_or(u16::MAX, CapSet::bits))
            .or_insert_with(|| render_names(set, format, indent));
        match format {
            Format::Text => writeln!(self.out, "{path}: {names}"),
            Format::Json => {
                let separator = if first { "{\n" } else { ",\n" };
                let quoted = serde_json::to_string(path).expect("a string always serialises");
                write!(self.out, "{separator}{indent}  {quoted}: {names}")
            }
        }
    }

    /// Extra indentation of the JSON map (inside `capabilities` when asked in a namespace).
    fn indent(&self) -> &'static str {
        if self.namespace.is_empty() {
            ""
        } else {
            "  "
        }
    }

    /// Names the namespace before the first answer (nothing in the root namespace).
    fn start(&mut self) -> std::io::Result<()> {
        if self.namespace.is_empty() {
            return Ok(());
        }
        let quoted = serde_json::to_string(&self.namespace).expect("a string always serialises");
        match self.format {
            Format::Text => writeln!(self.out, "namespace: {}", self.namespace),
            Format::Json => write!(
                self.out,
                "{{\n  \"version\": 1,\n  \"namespace\": {quoted},\n  \"capabilities\": "
            ),
        }
    }

    fn finish(mut self) -> std::io::Result<()> {
        let empty = self.seen.is_empty();
        if empty {
            self.start()?;
        }
        if self.format == Format::Json {
            let indent = self.indent();
            match empty {
                true => self.out.write_all(b"{}")?,
                false => write!(self.out, "\n{indent}}}")?,
            }
            if !self.namespace.is_empty() {
                self.out.write_all(b"\n}")?;
            }
            self.out.write_all(b"\n")?;
        }
        self.out.flush()
    }
}

/// The names `sys/capabilities` lists for a bitmap (`None`: root), joined for the format.
fn render_names(set: Option<CapSet>, format: Format, indent: &str) -> String {
    let names = set.map_or_else(|| vec!["root"], CapSet::sys_capabilities);
    match format {
        Format::Text => names.join(", "),
        Format::Json => {
            let items: Vec<String> = names
                .iter()
                .map(|name| format!("{indent}    \"{name}\""))
                .collect();
            format!("[\n{}\n{indent}  ]", items.join(",\n"))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::policy::{parse_policy, Policy};
    use crate::source::SourceFile;

    fn policy(name: &str, text: &str) -> Policy {
        let source = Arc::new(SourceFile::new(name, text));
        parse_policy(source, Target::OpenBao)
            .policy
            .expect("a valid policy")
    }

    /// What the command printed before streaming: the whole map through serde_json.
    fn whole(acl: &Acl, paths: &[&str]) -> String {
        let mut object = serde_json::Map::new();
        for path in paths {
            object.insert(
                path.to_string(),
                serde_json::json!(acl.capabilities(path).0),
            );
        }
        let mut text = serde_json::to_string_pretty(&serde_json::Value::Object(object)).unwrap();
        text.push('\n');
        text
    }

    fn run_all(acl: &Acl, format: Format, paths: &[&str]) -> String {
        let mut buffer = Vec::new();
        let mut out = Answers::new(acl, format, &mut buffer);
        for path in paths {
            out.answer(path).expect("write to memory");
        }
        out.finish().expect("finish");
        String::from_utf8(buffer).expect("utf-8")
    }

    #[test]
    fn streamed_json_is_the_pretty_printed_map() {
        let held = policy(
            "p",
            "path \"a/*\" { capabilities = [\"read\", \"list\", \"sudo\"] }\n\
             path \"a/b\" { capabilities = [\"deny\"] }\npath \"c\" { capabilities = [] }\n",
        );
        let acl = Acl::new(&[&held], Target::OpenBao, None).unwrap();
        let paths = ["a/x", "a/b", "c", "nothing", "a/x", "q\"uote\\é\t", "/a/y"];
        assert_eq!(run_all(&acl, Format::Json, &paths), whole(&acl, &paths));
        assert_eq!(run_all(&acl, Format::Json, &[]), whole(&acl, &[]));
        let root = policy("root", "path \"x\" { capabilities = [\"read\"] }\n");
        let root_acl = Acl::new(&[&root], Target::OpenBao, None).unwrap();
        assert_eq!(
            run_all(&root_acl, Format::Json, &paths),
            whole(&root_acl, &paths)
        );
        let nobody = Acl::new(&[], Target::OpenBao, None).unwrap();
        assert_eq!(
            run_all(&nobody, Format::Json, &paths),
            whole(&nobody, &paths)
        );
    }

    #[test]
    fn text_lines_name_every_path_in_order() {
        let held = policy(
            "p",
            "path \"a/*\" { capabilities = [\"update\", \"read\"] }\n",
        );
        let acl = Acl::new(&[&held], Target::OpenBao, None).unwrap();
        let text = run_all(&acl, Format::Text, &["a/x", "b", "a/x"]);
        assert_eq!(text, "a/x: read, update\nb: deny\na/x: read, update\n");
    }

    /// Asked in a namespace: the answers nest under `capabilities`, byte for byte what
    /// `serde_json::to_string_pretty` prints, and the text names the namespace first.
    #[test]
    fn namespaced_answers_name_the_namespace() {
        let mut held = policy("p", "path \"a/*\" { capabilities = [\"read\"] }\n");
        held.namespace = "admin/".into();
        let acl = Acl::new(&[&held], Target::OpenBao, None).unwrap();
        let run = |format: Format, paths: &[&str]| {
            let mut buffer = Vec::new();
            let mut out = Answers::new(&acl, format, &mut buffer);
            out.namespace = "admin/".into();
            for path in paths {
                out.answer(path).expect("write to memory");
            }
            out.finish().expect("finish");
            String::from_utf8(buffer).expect("utf-8")
        };
        for paths in [&["a/x", "b", "a/x"][..], &[]] {
            let mut capabilities = serde_json::Map::new();
            for path in paths {
                let full = format!("admin/{path}");
                capabilities.insert(
                    path.to_string(),
                    serde_json::json!(acl.capabilities(&full).0),
                );
            }
            let whole = serde_json::json!({
                "version": 1,
                "namespace": "admin/",
                "capabilities": capabilities,
            });
            let mut expected = serde_json::to_string_pretty(&whole).unwrap();
            expected.push('\n');
            assert_eq!(run(Format::Json, paths), expected);
        }
        assert_eq!(
            run(Format::Text, &["a/x", "b"]),
            "namespace: admin/\na/x: read\nb: deny\n"
        );
        assert_eq!(run(Format::Text, &[]), "namespace: admin/\n");
    }

    #[test]
    fn line_ends_are_trimmed() {
        assert_eq!(trim_line_end(b"a/b\r\n"), b"a/b");
        assert_eq!(trim_line_end(b"a/b\n"), b"a/b");
        assert_eq!(trim_line_end(b"a/b"), b"a/b");
        assert_eq!(trim_line_end(b"a\rb"), b"a\rb");
    }
}
