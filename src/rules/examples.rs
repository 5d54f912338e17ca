//! Every rule page's `## Example` runs through its rule, and its findings rendered by the
//! human reporter are snapshot per rule.
//!
//! The convention of the pages: in `## Example`, each code block is a file of a small
//! repository, its path after the language (```` ```hcl envs/dev/main.tf ````); a
//! `preflight.toml` block configures the check. Blocks marked `text` show output and are
//! not files.

use crate::engine::{self, CheckOptions};
use crate::rules;

/// The rules whose example needs AWS (`--aws`): their pages show what they print instead.
const LIVE: &[&str] = &["ci-role-drift", "name-already-exists"];

/// The files of a page's `## Example`: (path, text) of each code block with a path.
pub(crate) fn example_files(doc: &str) -> Result<Vec<(String, String)>, String> {
    let section = doc
        .split_once("\n## Example")
        .map(|(_, rest)| rest)
        .ok_or("no `## Example`")?;
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut files = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let mut text = String::new();
        for l in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            text.push_str(l);
            text.push('\n');
        }
        let mut words = info.split_whitespace();
        let lang = words.next().unwrap_or("");
        match words.next() {
            Some(path) => files.push((path.to_string(), text)),
            None if lang == "text" => {}
            None => {
                return Err(format!(
                    "a ```{lang} block has no file name (write ```{lang} PATH)"
                ));
            }
        }
    }
    if files.is_empty() {
        return Err("no file in `## Example`".into());
    }
    Ok(files)
}

/// Check the example's tree; the findings of `id` and their human rendering (no colour).
fn run_example(id: &str, files: &[(String, String)]) -> (Vec<crate::diagnostic::Finding>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    crate::testing::write_tree(dir.path(), &borrowed);
    let mut outcome = engine::check(CheckOptions {
        paths: vec![dir.path().to_path_buf()],
        ..Default::default()
    })
    .expect("check runs");
    outcome.findings.retain(|f| f.rule == id);
    let mut out = Vec::new();
    crate::report::human::render(
        &outcome,
        crate::report::RenderOptions {
            color: false,
            quiet: true,
        },
        &mut out,
    )
    .expect("render");
    (outcome.findings, String::from_utf8(out).expect("utf-8"))
}

#[test]
fn every_page_example_fires_its_rule() {
    let mut problems = Vec::new();
    for rule in rules::all() {
        let m = rule.meta();
        let files = match example_files(m.doc) {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("rules/{}.md: {e}", m.id));
                continue;
            }
        };
        if LIVE.contains(&m.id) {
            continue;
        }
        let (found, rendered) = run_example(m.id, &files);
        if found.is_empty() {
            problems.push(format!("rules/{}.md: the example does not fire", m.id));
            continue;
        }
        if found.iter().any(|f| !f.fix.is_empty()) && m.fix == crate::diagnostic::FixKind::None {
            problems.push(format!(
                "{}: the example's finding carries a fix, but the rule declares `fix: None`",
                m.id
            ));
        }
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(m.id, rendered);
        });
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn live_rules_are_the_ones_that_need_aws() {
    let live: Vec<&str> = rules::all()
        .iter()
        .map(|r| r.meta())
        .filter(|m| m.summary.ends_with("(live, with --aws)"))
        .map(|m| m.id)
        .collect();
    assert_eq!(live, LIVE);
}

#[test]
fn example_blocks_are_read_by_their_file_names() {
    let doc = "# x\n\n## Example\n```hcl main.tf\na = 1\n```\n\n```text\nout\n```\n\n```yaml gitops/a.yaml\nb: 2\n```\n\n## Fix\n```hcl\nnot = read\n```\n";
    assert_eq!(
        example_files(doc).unwrap(),
        [
            ("main.tf".to_string(), "a = 1\n".to_string()),
            ("gitops/a.yaml".to_string(), "b: 2\n".to_string())
        ]
    );
    assert!(example_files("# x\n\n## Example\n```hcl\na = 1\n```\n").is_err());
}
