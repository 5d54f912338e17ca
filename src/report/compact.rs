//! One line per finding, `file:line:col: severity rule: message`, what editors' error
//! parsers and `grep` expect. Paths relative to the repository root; no summary (it goes to
//! standard error).

use super::locate;
use crate::engine::Outcome;

pub fn render(outcome: &Outcome, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    for f in &outcome.findings {
        let loc = locate(outcome, f.span);
        let message = f.message.replace(['\n', '\r'], " ");
        writeln!(
            out,
            "{}:{}:{}: {} {}: {}{}",
            loc.file,
            loc.line,
            loc.column,
            f.severity,
            f.rule,
            message,
            if super::fixable(f) { " [fixable]" } else { "" }
        )?;
    }
    Ok(())
}
