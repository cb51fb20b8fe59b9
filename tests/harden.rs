//! Hardening: files named by inputs stay inside the workspace, nothing read can hang capable
//! or exhaust its memory, every unreadable entry is an error naming it, long lines render,
//! and stdout write errors are reported. Every case runs the real binary with a deadline, so
//! a regression to a hang fails instead of stalling the suite.

mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one run may take before it counts as a hang.
const DEADLINE: Duration = Duration::from_secs(20);

/// A marker written into files outside the workspace: it must never appear in any output.
const SECRET: &str = "TOPSECRET-7f3a";

/// Runs `capable ARGS` in `dir` with a deadline: (exit code, stdout, stderr). A run past the
/// deadline is killed and fails the test.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut child = support::cli::command()
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run capable");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        stdout.read_to_end(&mut text).ok();
        text
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        stderr.read_to_end(&mut text).ok();
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            child.kill().ok();
            child.wait().ok();
            panic!(
                "`capable {}` hung (killed after {DEADLINE:?})",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    (
        status.code().expect("exit code, not a signal"),
        stdout,
        stderr,
    )
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

/// `root/ws` (with `capable.yaml`) and `root/outside/secret.hcl` holding [`SECRET`].
fn workspace_with_outside() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    write(&root.path().join("ws/capable.yaml"), "target: vault\n");
    write(
        &root.path().join("outside/secret.hcl"),
        &format!("path \"{SECRET}/*\" {{ capabilities = [\"sudo\", \"read\"] }}\n"),
    );
    root
}

fn terraform_file_call(argument: &str) -> String {
    format!(
        "resource \"vault_policy\" \"p\" {{\n  name   = \"p\"\n  policy = file({argument})\n}}\n"
    )
}

/// Checks `ws/main.tf` calling `file(ARGUMENT)`: the call is refused at its span as an error,
/// and nothing of the target appears in the human or JSON report.
fn assert_file_call_refused(root: &Path, argument: &str) {
    let ws = root.join("ws");
    write(&ws.join("main.tf"), &terraform_file_call(argument));
    for format in ["human", "json", "sarif"] {
        let (code, stdout, stderr) = run(&ws, &["check", "--format", format, "main.tf"]);
        assert_eq!(code, 1, "{argument} ({format}): {stdout}{stderr}");
        assert!(
            !stdout.contains(SECRET) && !stderr.contains(SECRET),
            "{argument} ({format}) leaked the file: {stdout}{stderr}"
        );
        assert!(!stdout.contains("root:"), "{argument}: {stdout}");
        assert!(stdout.contains("refused to read"), "{argument}: {stdout}");
    }
    let (_, stdout, _) = run(&ws, &["check", "--no-color", "main.tf"]);
    assert!(
        stdout.contains("main.tf:3:"),
        "points at the call: {stdout}"
    );
}

#[test]
fn terraform_file_absolute_path_is_refused_without_quoting_it() {
    let root = workspace_with_outside();
    assert_file_call_refused(root.path(), "\"/etc/passwd\"");
    let secret = root.path().join("outside/secret.hcl");
    assert_file_call_refused(root.path(), &format!("\"{}\"", secret.display()));
}

#[test]
fn terraform_file_dotdot_escape_is_refused() {
    let root = workspace_with_outside();
    assert_file_call_refused(root.path(), "\"../outside/secret.hcl\"");
    assert_file_call_refused(root.path(), "\"${path.module}/../outside/secret.hcl\"");
    assert_file_call_refused(root.path(), "\"policies/../../outside/secret.hcl\"");
}

#[cfg(unix)]
#[test]
fn terraform_file_symlink_escape_is_refused() {
    let root = workspace_with_outside();
    let ws = root.path().join("ws");
    std::fs::create_dir_all(ws.join("policies")).unwrap();
    std::os::unix::fs::symlink(
        root.path().join("outside/secret.hcl"),
        ws.join("policies/link.hcl"),
    )
    .unwrap();
    std::os::unix::fs::symlink(root.path().join("outside"), ws.join("linked-dir")).unwrap();
    // Only the `.tf` file is checked: the links are what it names.
    assert_file_call_refused(root.path(), "\"policies/link.hcl\"");
    assert_file_call_refused(root.path(), "\"linked-dir/secret.hcl\"");
}

#[test]
fn terraform_file_inside_the_workspace_is_still_read() {
    let root = workspace_with_outside();
    let ws = root.path().join("ws");
    write(
        &ws.join("shared/p.hcl"),
        "path \"secret/data/app\" { capabilities = [\"read\"] }\n",
    );
    write(
        &ws.join("modules/m/main.tf"),
        &terraform_file_call("\"${path.module}/../../shared/p.hcl\""),
    );
    let (code, stdout, stderr) = run(&ws, &["check", "--no-color", "modules/m/main.tf"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[cfg(unix)]
#[test]
fn terraform_file_fifo_and_devices_are_refused_without_hanging() {
    let root = workspace_with_outside();
    let ws = root.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    mkfifo(&ws.join("fifo.hcl"));
    std::os::unix::fs::symlink("/dev/zero", ws.join("zero.hcl")).unwrap();
    for (argument, kind) in [("\"fifo.hcl\"", "a FIFO"), ("\"zero.hcl\"", "")] {
        write(&ws.join("main.tf"), &terraform_file_call(argument));
        let (code, stdout, stderr) = run(&ws, &["check", "--no-color", "main.tf"]);
        assert_ne!(code, 3, "{stdout}{stderr}");
        assert!(code == 1, "{argument}: {stdout}{stderr}");
        assert!(stdout.contains(kind), "{argument}: {stdout}");
    }
}

#[test]
fn agent_template_source_escape_is_refused_without_quoting_it() {
    let root = workspace_with_outside();
    let ws = root.path().join("ws");
    write(
        &root.path().join("outside/t.tmpl"),
        &format!("{{{{ with secret \"secret/data/{SECRET}\" }}}}{{{{ end }}}}\n"),
    );
    write(
        &ws.join("capable.yaml"),
        "roles:\n  kubernetes/app:\n    policies: [p]\n",
    );
    for source in ["../outside/t.tmpl", "templates/../../outside/t.tmpl"] {
        write(
            &ws.join("agent.hcl"),
            &format!(
                "auto_auth {{\n  method \"kubernetes\" {{\n    config = {{ role = \"app\" }}\n  }}\n}}\ntemplate {{\n  source = \"{source}\"\n  destination = \"/x\"\n}}\n"
            ),
        );
        write(
            &ws.join("p.hcl"),
            "path \"secret/*\" { capabilities = [\"read\"] }\n",
        );
        let (code, stdout, stderr) = run(&ws, &["check", "--no-color", "agent.hcl", "p.hcl"]);
        assert_ne!(code, 3, "{stdout}{stderr}");
        assert!(!stdout.contains(SECRET), "{source}: {stdout}");
        assert!(
            stdout.contains("refused to read template source"),
            "{source}: {stdout}{stderr}"
        );
    }
}

#[test]
fn agent_template_absolute_source_is_not_read_as_written() {
    let root = workspace_with_outside();
    let ws = root.path().join("ws");
    let outside = root.path().join("outside/t.tmpl");
    write(
        &outside,
        &format!("{{{{ with secret \"secret/data/{SECRET}\" }}}}{{{{ end }}}}\n"),
    );
    write(
        &ws.join("agent.hcl"),
        &format!(
            "auto_auth {{\n  method \"kubernetes\" {{\n    config = {{ role = \"app\" }}\n  }}\n}}\ntemplate {{\n  source = \"{}\"\n  destination = \"/x\"\n}}\n",
            outside.display()
        ),
    );
    write(
        &ws.join("capable.yaml"),
        "roles:\n  kubernetes/app:\n    policies: [p]\n",
    );
    write(
        &ws.join("p.hcl"),
        "path \"secret/*\" { capabilities = [\"read\"] }\n",
    );
    let (code, stdout, stderr) = run(&ws, &["check", "--no-color", "agent.hcl", "p.hcl"]);
    assert_ne!(code, 3, "{stdout}{stderr}");
    assert!(!stdout.contains(SECRET), "{stdout}");
    assert!(stdout.contains("not found"), "{stdout}{stderr}");
}

// ---- stdout write errors ------------------------------------------------------------------

/// A small policy tree with one finding, so `check` has a report to write.
fn tree_with_a_finding() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    write(
        &root.path().join("capable.yaml"),
        "roles:\n  approle/app:\n    policies: [p]\n",
    );
    // Not in `fmt` style either, so `fmt --diff` has output to write.
    write(
        &root.path().join("p.hcl"),
        "path \"secret/*\" {capabilities=[\"read\",\"sudo\"]}\n",
    );
    write(
        &root.path().join("tests/t.yaml"),
        "scenarios:\n  - name: reads\n    role: approle/app\n    operation: read\n    path: secret/x\n    expect: allow\n",
    );
    root
}

/// Every command that writes to stdout, with arguments that make it write.
const WRITERS: &[&[&str]] = &[
    &["check", "p.hcl"],
    &["check", "--format", "sarif", "p.hcl"],
    &["rules"],
    &["rules", "literal-star"],
    &["test"],
    &["caps", "--policy", "p.hcl", "secret/x"],
    &["explain", "--policy", "p.hcl", "read", "secret/x"],
    &["who-can", "read", "secret/x"],
    &["reach", "--policy", "p.hcl"],
    &["reach", "--policy", "p.hcl", "--format", "json"],
    &["fmt", "--diff", "p.hcl"],
];

#[cfg(target_os = "linux")]
#[test]
fn a_full_stdout_is_exit_2_never_a_panic_or_success() {
    let root = tree_with_a_finding();
    for args in WRITERS {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let output = support::cli::command()
            .args(*args)
            .current_dir(root.path())
            .stdout(full)
            .output()
            .expect("run capable");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("cannot write"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn a_closed_pipe_is_exit_2_never_a_panic() {
    let root = tree_with_a_finding();
    for args in WRITERS {
        // The read end is closed before capable starts, so its first write fails.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let output = support::cli::command()
            .args(*args)
            .current_dir(root.path())
            .stdout(writer)
            .output()
            .expect("run capable");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

// ---- inputs that are not regular files ----------------------------------------------------

#[cfg(unix)]
#[test]
fn fifo_and_device_inputs_are_refused_never_read() {
    let root = tree_with_a_finding();
    let dir = root.path();
    mkfifo(&dir.join("fifo.hcl"));
    mkfifo(&dir.join("fifo.yaml"));
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.hcl")).unwrap();
    std::os::unix::fs::symlink("/dev/urandom", dir.join("random.hcl")).unwrap();
    let cases: &[&[&str]] = &[
        &["check", "fifo.hcl"],
        &["check", "zero.hcl"],
        &["check", "/dev/zero"],
        &["check", "random.hcl"],
        &["caps", "--policy", "fifo.hcl", "secret/x"],
        &["caps", "--policy", "/dev/zero", "secret/x"],
        &["explain", "--policy", "/dev/urandom", "read", "secret/x"],
        &["check", "--config", "fifo.yaml", "p.hcl"],
        &["check", "--config", "/dev/zero", "p.hcl"],
        &["test", "fifo.yaml"],
        &["test", "/dev/zero"],
    ];
    for args in cases {
        let (code, stdout, stderr) = run(dir, args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains("not a regular file"), "{args:?}: {stderr}");
    }
}

#[test]
fn an_input_over_the_size_limit_is_refused_at_the_limit() {
    let root = tempfile::tempdir().unwrap();
    write(&root.path().join("capable.yaml"), "max-file-size: 1KiB\n");
    write(
        &root.path().join("big.hcl"),
        &"path \"secret/x\" { capabilities = [\"read\"] }\n".repeat(100),
    );
    let (code, _, stderr) = run(root.path(), &["check", "big.hcl"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`big.hcl`"), "{stderr}");
    assert!(
        stderr.contains("larger than the limit of 1 KiB"),
        "{stderr}"
    );
    // The help says how to raise the limit, not to check that the file exists.
    assert!(
        stderr.contains("help: to check a file this large"),
        "{stderr}"
    );
    assert!(stderr.contains("`max-file-size: 256MiB`"), "{stderr}");
    // `--policy` files of the queries honour the same limit.
    let caps = ["caps", "--policy", "big.hcl", "secret/x"];
    let (code, _, stderr) = run(root.path(), &caps);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("larger than the limit of 1 KiB"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: to check a file this large"),
        "{stderr}"
    );
    write(&root.path().join("capable.yaml"), "max-file-size: 1MiB\n");
    let (code, _, stderr) = run(root.path(), &["check", "big.hcl"]);
    assert_ne!(code, 2, "{stderr}");
    let (code, stdout, stderr) = run(root.path(), &caps);
    assert_eq!((code, stdout.trim()), (0, "secret/x: read"), "{stderr}");
    write(&root.path().join("capable.yaml"), "max-file-size: lots\n");
    let (code, _, stderr) = run(root.path(), &["check", "big.hcl"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("capable.yaml:1:"), "{stderr}");
}

// ---- the file system as users have it -----------------------------------------------------

#[cfg(unix)]
#[test]
fn symlinked_policies_in_folders_are_followed_and_loops_are_errors() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    write(
        &dir.join("real/p.hcl"),
        "path \"secret/*/x\" { capabilities = [\"read\"] }\n",
    );
    write(&dir.join("ws/capable.yaml"), "target: vault\n");
    std::os::unix::fs::symlink(dir.join("real/p.hcl"), dir.join("ws/linked.hcl")).unwrap();
    std::os::unix::fs::symlink(dir.join("real"), dir.join("ws/linked-dir")).unwrap();
    let (code, stdout, stderr) = run(&dir.join("ws"), &["check", "--no-color", "."]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("linked.hcl"), "{stdout}");
    assert!(stdout.contains("linked-dir/p.hcl"), "{stdout}");
    std::os::unix::fs::symlink(dir.join("ws"), dir.join("ws/loop")).unwrap();
    let (code, _, stderr) = run(&dir.join("ws"), &["check", "--no-color", "."]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("loop"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn unreadable_entries_are_errors_naming_them() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    write(&dir.join("capable.yaml"), "target: vault\n");
    write(
        &dir.join("ok.hcl"),
        "path \"secret/x\" { capabilities = [\"read\"] }\n",
    );
    std::os::unix::fs::symlink(dir.join("missing.hcl"), dir.join("dangling.hcl")).unwrap();
    let (code, _, stderr) = run(dir, &["check"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("dangling.hcl"), "{stderr}");
    std::fs::remove_file(dir.join("dangling.hcl")).unwrap();
    mkfifo(&dir.join("pipe.hcl"));
    let (code, _, stderr) = run(dir, &["check"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("pipe.hcl") && stderr.contains("a FIFO"),
        "{stderr}"
    );
    std::fs::remove_file(dir.join("pipe.hcl")).unwrap();
    std::fs::create_dir_all(dir.join("folder.hcl")).unwrap();
    let (code, _, stderr) = run(dir, &["check"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("folder.hcl") && stderr.contains("a folder"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn unreadable_scenario_entries_are_errors_naming_them() {
    let root = tree_with_a_finding();
    let dir = root.path();
    let (code, stdout, stderr) = run(dir, &["test"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    type Make<'a> = &'a dyn Fn(&Path);
    let broken: [(&str, Make); 3] = [
        ("dangling.yaml", &|path| {
            std::os::unix::fs::symlink("missing.yaml", path).unwrap()
        }),
        ("fifo.yaml", &|path| mkfifo(path)),
        ("folder.yaml", &|path| {
            std::fs::create_dir_all(path).unwrap()
        }),
    ];
    for (name, make) in broken {
        let path = dir.join("tests").join(name);
        make(&path);
        let (code, stdout, stderr) = run(dir, &["test"]);
        assert_eq!(code, 2, "{name}: {stdout}{stderr}");
        assert!(stderr.contains(name), "{name}: {stderr}");
        if path.is_dir() {
            std::fs::remove_dir(&path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
    }
}

#[cfg(unix)]
#[test]
fn a_capable_yaml_that_is_not_a_file_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    write(
        &dir.join("p.hcl"),
        "path \"secret/x\" { capabilities = [\"read\"] }\n",
    );
    let config = dir.join("capable.yaml");
    std::fs::create_dir_all(&config).unwrap();
    let (code, _, stderr) = run(dir, &["check", "p.hcl"]);
    assert_eq!(code, 2, "folder: {stderr}");
    assert!(stderr.contains("capable.yaml"), "{stderr}");
    std::fs::remove_dir(&config).unwrap();
    mkfifo(&config);
    let (code, _, stderr) = run(dir, &["check", "p.hcl"]);
    assert_eq!(code, 2, "fifo: {stderr}");
    std::fs::remove_file(&config).unwrap();
    std::os::unix::fs::symlink("nowhere.yaml", &config).unwrap();
    let (code, _, stderr) = run(dir, &["check", "p.hcl"]);
    assert_eq!(code, 2, "dangling: {stderr}");
    assert!(stderr.contains("capable.yaml"), "{stderr}");
}

// ---- rendering ----------------------------------------------------------------------------

#[test]
fn a_label_past_column_65536_renders_in_a_window() {
    let root = tempfile::tempdir().unwrap();
    write(
        &root.path().join("w.hcl"),
        &format!("{}}}\n", " ".repeat(65_536)),
    );
    write(&root.path().join("n.hcl"), "}\n");
    for format in ["human", "concise", "json", "github", "sarif"] {
        let (code, stdout, stderr) = run(root.path(), &["check", "--format", format, "w.hcl"]);
        assert_eq!(code, 1, "{format}: {stderr}");
        let (_, narrow, _) = run(root.path(), &["check", "--format", format, "n.hcl"]);
        assert!(
            stdout.len() < narrow.len() + 2_000,
            "{format}: {} bytes for the long line, {} for the short one",
            stdout.len(),
            narrow.len()
        );
    }
    let (_, stdout, _) = run(root.path(), &["check", "w.hcl"]);
    assert!(stdout.contains("w.hcl:1:65537"), "{stdout}");
    assert!(
        stdout.contains("columns 65497 to 65537 are shown"),
        "{stdout}"
    );
}

/// `explain` frames the deciding block too: a block far along a line is shown in a window
/// (it panicked in the renderer; found by a mutation run).
#[test]
fn explain_frames_a_block_past_column_65536_in_a_window() {
    let root = tempfile::tempdir().unwrap();
    write(
        &root.path().join("w.hcl"),
        &format!(
            "{}path \"secret/*\" {{ capabilities = [\"read\"] }}\n",
            " ".repeat(70_000)
        ),
    );
    let (code, stdout, stderr) = run(
        root.path(),
        &["explain", "--policy", "w.hcl", "read", "secret/x"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("w.hcl:1:70006"), "{stdout}");
    assert!(stdout.contains("columns 69966 to"), "{stdout}");
    assert!(stdout.len() < 5_000, "{} bytes", stdout.len());
}

// ---- output linear in the input -------------------------------------------------------------

/// One finding per `{{...}}` marker, each quoting the path: the quote is shortened, so each
/// finding stays small however long the path is.
#[test]
fn a_path_of_many_markers_is_quoted_shortened() {
    let root = tempfile::tempdir().unwrap();
    let markers: Vec<String> = (0..2_000)
        .map(|i| format!("{{{{identity.entity.bogus{i}}}}}"))
        .collect();
    write(
        &root.path().join("m.hcl"),
        &format!(
            "path \"secret/{}\" {{ capabilities = [\"read\"] }}\n",
            markers.join("/")
        ),
    );
    for format in ["human", "json"] {
        let (code, stdout, stderr) = run(root.path(), &["check", "--format", format, "m.hcl"]);
        assert_eq!(code, 1, "{stderr}");
        let findings = stdout.matches("unknown-template-variable").count();
        assert!(findings >= 2_000, "{format}: {findings} findings");
        assert!(
            stdout.len() / findings < 2_000,
            "{format}: {} bytes for {findings} findings",
            stdout.len()
        );
        assert!(stdout.contains('…'), "{format}");
    }
}

// ---- numbers at their limits ----------------------------------------------------------------

/// Every numeric field a policy, `capable.yaml` or a scenario holds, at and past the limits of
/// 64-bit integers and floats. The test binary is a debug build, so an arithmetic overflow
/// anywhere on the way (parsing, validation, lint, ACL, report) panics and exits 3: each run
/// must end in 0, 1 or 2, with no panic message.
const EXTREME_NUMBERS: &[&str] = &[
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551616",
    "99999999999999999999999999999999",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "4.9e-324",
    "\"9223372036854775807s\"",
    "\"9223372036854775807d\"",
    "\"-9223372036854775808d\"",
    "\"2562047h47m16.854775808s\"",
    "\"2562048h\"",
    "\"0.0000000000000000000000000001ns\"",
    "\"1.99999999999999999999999999999h\"",
    "\"106751d\"",
    "\"106752d\"",
    "\"-0\"",
    "\"+9223372036854775807\"",
    "\"0x7fffffffffffffff\"",
];

#[test]
fn numbers_at_their_limits_never_overflow() {
    let root = tempfile::tempdir().unwrap();
    for (index, number) in EXTREME_NUMBERS.iter().enumerate() {
        let policy = format!(
            "path \"secret/data/n{index}\" {{\n  capabilities = [\"read\", \"list\"]\n  \
             min_wrapping_ttl = {number}\n  max_wrapping_ttl = {number}\n  \
             pagination_limit = {number}\n}}\n\
             path \"secret/data/e{index}\" {{\n  capabilities = [\"read\"]\n  \
             expiration = {number}\n}}\n\
             path \"secret/data/c{index}\" {{\n  capabilities = [\"read\"]\n  \
             control_group = {{\n    ttl = {number}\n    factor \"ops\" {{\n      \
             controlled_capabilities = [\"read\"]\n      identity {{\n        \
             group_names = [\"ops\"]\n        approvals = {number}\n      }}\n    }}\n  }}\n}}\n"
        );
        write(&root.path().join(format!("n{index}.hcl")), &policy);
    }
    let size = EXTREME_NUMBERS
        .iter()
        .map(|number| format!("max-file-size: {}\n", number.trim_matches('"')))
        .collect::<Vec<_>>();
    let mut runs: Vec<Vec<String>> = Vec::new();
    for target in ["vault", "openbao"] {
        for format in ["human", "json", "sarif"] {
            runs.push(
                ["check", "--target", target, "--format", format, "."]
                    .map(String::from)
                    .to_vec(),
            );
        }
        for (index, number) in EXTREME_NUMBERS.iter().enumerate() {
            let policy = format!("n{index}.hcl");
            let ttl = number.trim_matches('"').to_string();
            runs.push(
                [
                    "explain",
                    "--target",
                    target,
                    "--policy",
                    &policy,
                    "--wrap-ttl",
                    &ttl,
                ]
                .map(String::from)
                .into_iter()
                .chain(["read".to_string(), format!("secret/data/n{index}")])
                .collect(),
            );
            for path in ["secret/data/n", "secret/data/e", "secret/data/c"] {
                runs.push(
                    ["explain", "--target", target, "--policy", &policy, "read"]
                        .map(String::from)
                        .into_iter()
                        .chain([format!("{path}{index}")])
                        .collect(),
                );
            }
        }
    }
    for args in &runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = run(root.path(), &args);
        assert!(
            (0..=2).contains(&code) && !stderr.contains("panicked"),
            "`capable {}` exited {code}: {stderr}{stdout}",
            args.join(" ")
        );
    }
    // `max-file-size:` in capable.yaml, one value at a time.
    for line in size {
        write(&root.path().join("capable.yaml"), &line);
        let (code, stdout, stderr) = run(root.path(), &["check", "--format", "json"]);
        assert!(
            (0..=2).contains(&code) && !stderr.contains("panicked"),
            "`{}` exited {code}: {stderr}{stdout}",
            line.trim()
        );
    }
}
