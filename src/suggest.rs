//! "Did you mean …?": the closest known name to a mistyped one.

/// Edit distance (insertions, deletions, substitutions), case-sensitive.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `name`: equal ignoring case, or within a third of its length
/// in edits (at least 2). `None` when nothing is that close.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| {
            let d = if c.to_lowercase() == lower {
                0
            } else {
                edit_distance(&lower, &c.to_lowercase())
            };
            (d, c)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// `; did you mean `X`?` or nothing.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(name, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_case_slips_and_typos_but_not_strangers() {
        let kinds = ["ClusterIssuer", "Issuer", "Namespace"];
        assert_eq!(closest("Clusterissuer", kinds), Some("ClusterIssuer"));
        assert_eq!(closest("Namespce", kinds), Some("Namespace"));
        assert_eq!(closest("Deployment", kinds), None);
        assert_eq!(
            did_you_mean("ungated-data-sorce", ["ungated-data-source"]),
            "; did you mean `ungated-data-source`?"
        );
    }
}
