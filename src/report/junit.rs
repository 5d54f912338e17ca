//! JUnit XML, for CI systems that show test reports: one test case per finding (failed for
//! errors and warnings, skipped-with-message for notes), or one passing case when clean.

use super::locate;
use crate::diagnostic::Severity;
use crate::engine::Outcome;

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            // Line ends in attributes would be normalised to spaces by a reader.
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

pub fn render(outcome: &Outcome, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let failures = outcome
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Note)
        .count();
    let skipped = outcome.findings.len() - failures;
    let tests = outcome.findings.len().max(1);
    let secs = outcome.elapsed.as_secs_f64();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="preflight" tests="{tests}" failures="{failures}" skipped="{skipped}" time="{secs:.3}">"#
    )?;
    writeln!(
        out,
        r#"  <testsuite name="preflight" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}" time="{secs:.3}">"#
    )?;
    if outcome.findings.is_empty() {
        writeln!(
            out,
            r#"    <testcase classname="preflight" name="{} files checked" time="{secs:.3}"/>"#,
            outcome.session.repo.files.len()
        )?;
    }
    for f in &outcome.findings {
        let loc = locate(outcome, f.span);
        let name = xml_escape(&format!(
            "{}:{}:{} {}",
            loc.file, loc.line, loc.column, f.message
        ));
        let body = xml_escape(&format!(
            "{}:{}:{}: {} [{}]\n{}\nhelp: {}",
            loc.file, loc.line, loc.column, f.severity, f.rule, f.message, f.help
        ));
        writeln!(
            out,
            r#"    <testcase classname="{}" name="{name}" file="{}" line="{}">"#,
            xml_escape(f.rule),
            xml_escape(&loc.file),
            loc.line
        )?;
        match f.severity {
            Severity::Note => writeln!(
                out,
                r#"      <skipped message="{}"/>"#,
                xml_escape(&f.message)
            )?,
            s => writeln!(
                out,
                r#"      <failure message="{}" type="{}">{body}</failure>"#,
                xml_escape(&f.message),
                s
            )?,
        }
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            super::xml_escape("a<b & \"c\"\u{1}"),
            "a&lt;b &amp; &quot;c&quot;\u{fffd}"
        );
    }
}
