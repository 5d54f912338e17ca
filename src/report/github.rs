//! GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` line per
//! finding, which the runner turns into annotations on the pull request.

use super::locate_in_worktree;
use crate::diagnostic::Severity;
use crate::engine::Outcome;

fn escape_data(s: &str) -> String {
    // The runner's log shows raw escape sequences as terminal controls.
    crate::redact::terminal_safe(s, false)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Paths are relative to the top of the git work tree, where the runner's checkout is.
pub fn render(
    outcome: &Outcome,
    options: super::RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    for f in &outcome.findings {
        let loc = locate_in_worktree(outcome, f.span);
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut message = f.message.clone();
        if !f.help.is_empty() {
            message.push_str("\nhelp: ");
            message.push_str(&f.help);
        }
        writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(&loc.file),
            loc.line,
            loc.column,
            loc.end_line,
            loc.end_column,
            escape_property(&if super::fixable(f) {
                format!("{} [fixable]", f.rule)
            } else {
                f.rule.to_string()
            }),
            escape_data(&message)
        )?;
    }
    if options.quiet {
        return Ok(());
    }
    writeln!(out, "{}", super::summary_line(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_workflow_command_rules() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a,b:c"), "a%2Cb%3Ac");
    }
}
