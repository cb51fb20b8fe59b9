//! JUnit XML for scenario runs (quick-junit): one suite per scenario file, one case per
//! scenario; a failed scenario is a `failure` with the one-line reason as its message and the
//! full explanation as its text.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::scenario::report::describe_call;
use crate::scenario::FileOutcome;

/// Renders the run as a JUnit XML document.
pub fn render(files: &[FileOutcome]) -> String {
    let mut report = Report::new("capable");
    for file in files {
        let mut suite = TestSuite::new(file.file.name.clone());
        for outcome in &file.outcomes {
            let (line, column) = file.file.line_col(outcome.scenario.span.start);
            let status = if outcome.passed {
                TestCaseStatus::success()
            } else {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let message = outcome
                    .failure
                    .clone()
                    .unwrap_or_else(|| "scenario failed".into());
                let details: Vec<String> = outcome.calls.iter().map(describe_call).collect();
                status
                    .set_message(message.clone())
                    .set_type("scenario")
                    .set_description(format!(
                        "{}:{line}:{column}: {message}\n{}",
                        file.file.name,
                        details.join("\n")
                    ));
                status
            };
            let mut case = TestCase::new(outcome.scenario.name.clone(), status);
            case.set_classname(file.file.name.clone());
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report
        .to_string()
        .unwrap_or_else(|error| format!("<!-- junit serialisation failed: {error} -->\n"))
}
