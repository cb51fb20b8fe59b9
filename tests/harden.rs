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
    let mut child = Command::new(env!("CARGO_BIN_EXE_capable"))
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
