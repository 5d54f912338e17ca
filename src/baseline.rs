//! Baselines: record today's findings so that an existing repository can adopt preflight
//! without fixing everything first, and only new findings fail the build.
//!
//! An entry is keyed on rule + file + the finding's stable address (Terraform block
//! address, YAML key path, Application name) — or its message when it has no address — not
//! on line numbers, so unrelated edits do not resurface it.

use crate::diagnostic::Finding;
use crate::repo::Repository;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct Entry {
    pub rule: String,
    pub file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    pub message: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub entries: Vec<Entry>,
}

impl Entry {
    pub fn of(repo: &Repository, f: &Finding) -> Entry {
        Entry {
            rule: f.rule.to_string(),
            file: repo.file(f.span.file).rel_path.clone(),
            address: f.address.clone(),
            message: f.message.clone(),
        }
    }

    /// What identifies the entry: the address when there is one, else the message.
    fn key(&self) -> (String, String, String) {
        let id = if self.address.is_empty() {
            &self.message
        } else {
            &self.address
        };
        (self.rule.clone(), self.file.clone(), id.clone())
    }
}

impl Baseline {
    pub fn from_findings(repo: &Repository, findings: &[Finding]) -> Baseline {
        let mut entries: Vec<Entry> = findings.iter().map(|f| Entry::of(repo, f)).collect();
        entries.sort();
        Baseline {
            version: 1,
            entries,
        }
    }

    pub fn load(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let b: Baseline = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a preflight baseline: {e}", path.display()))?;
        if b.version != 1 {
            return Err(format!(
                "{}: baseline version {} is not supported",
                path.display(),
                b.version
            ));
        }
        Ok(b)
    }

    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Remove the findings the baseline records; return the entries that matched nothing.
    pub fn filter(&self, repo: &Repository, findings: &mut Vec<Finding>) -> Vec<Entry> {
        let mut budget: HashMap<(String, String, String), usize> = HashMap::new();
        for e in &self.entries {
            *budget.entry(e.key()).or_default() += 1;
        }
        findings.retain(|f| {
            let entry = Entry::of(repo, f);
            match budget.get_mut(&entry.key()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            }
        });
        let mut stale = Vec::new();
        let mut remaining = budget;
        for e in &self.entries {
            if let Some(n) = remaining.get_mut(&e.key())
                && *n > 0
            {
                *n -= 1;
                stale.push(e.clone());
            }
        }
        stale
    }
}
