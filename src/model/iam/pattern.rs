//! IAM wildcard matching with three-valued answers.
//!
//! A policy pattern (`arn:aws:iam::*:role/goldenpath-*`) is matched against a *subject*: a
//! concrete action or ARN, an ARN with unknown parts (an account id nobody configured), or
//! another pattern (to ask whether one policy covers what another allows). The answer is
//! [`Match::Yes`] when it holds whatever the unknowns are, [`Match::No`] when it holds for
//! none of them, and [`Match::Maybe`] otherwise.
//!
//! Placeholders in a policy (`ACCOUNT_ID`, `${...}`, `<REGION>`) stand for a value the
//! document's author meant to fill in: they may match anything but never *must*.

/// A three-valued match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    Yes,
    No,
    Maybe,
}

impl Match {
    /// The answer for the complement (`NotAction`, `NotResource`).
    pub fn negate(self) -> Match {
        match self {
            Match::Yes => Match::No,
            Match::No => Match::Yes,
            Match::Maybe => Match::Maybe,
        }
    }

    /// The best of several alternatives (any of them matching is enough).
    pub fn or(self, other: Match) -> Match {
        match (self, other) {
            (Match::Yes, _) | (_, Match::Yes) => Match::Yes,
            (Match::Maybe, _) | (_, Match::Maybe) => Match::Maybe,
            _ => Match::No,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PTok {
    Lit(char),
    /// `?`
    One,
    /// `*`
    Star,
    /// A placeholder: any text, but not for certain.
    Hole,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum STok {
    Ch(char),
    /// Exactly one unknown character (`?` in a pattern used as a subject).
    AnyOne,
    /// Any text, unknown (an unknown name, or `*` in a pattern used as a subject).
    AnyRun,
    /// Unknown text within one ARN segment: no `:` or `/` (an account id, a region, an
    /// identifier AWS generates).
    AnySeg,
}

/// The placeholder spellings recognised inside policy text.
const PLACEHOLDER_WORDS: &[&str] = &[
    "AWS_ACCOUNT_ID",
    "ACCOUNT_ID",
    "ACCOUNTID",
    "ACCOUNT-ID",
    "AWS_REGION",
    "REGION",
    "PARTITION",
];

/// Byte ranges of placeholders in `text`: `${...}`, `<...>`, `{{...}}` and the upper-case
/// words in [`PLACEHOLDER_WORDS`].
pub fn placeholders(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let close = match (b[i], b.get(i + 1)) {
            (b'$', Some(b'{')) => Some(("}", 2)),
            (b'{', Some(b'{')) => Some(("}}", 2)),
            (b'<', _) => Some((">", 1)),
            _ => None,
        };
        if let Some((close, open_len)) = close
            && let Some(end) = text[i + open_len..].find(close)
        {
            let end = i + open_len + end + close.len();
            out.push(i..end);
            i = end;
            continue;
        }
        let word_start = i == 0 || !b[i - 1].is_ascii_alphanumeric() && b[i - 1] != b'_';
        if word_start
            && let Some(w) = PLACEHOLDER_WORDS.iter().find(|w| {
                b[i..].starts_with(w.as_bytes())
                    && b.get(i + w.len())
                        .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'_')
            })
        {
            out.push(i..i + w.len());
            i += w.len();
            continue;
        }
        i += 1;
    }
    out
}

/// A compiled policy pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    toks: Vec<PTok>,
    /// Whether it holds a placeholder.
    pub has_placeholder: bool,
}

impl Pattern {
    /// Compile policy text. `fold_case` for action names, which IAM compares
    /// case-insensitively.
    pub fn new(text: &str, fold_case: bool) -> Pattern {
        let holes = placeholders(text);
        let mut toks = Vec::with_capacity(text.len());
        let mut i = 0;
        let mut h = holes.iter().peekable();
        while i < text.len() {
            if let Some(r) = h.peek()
                && r.start == i
            {
                toks.push(PTok::Hole);
                i = r.end;
                h.next();
                continue;
            }
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            toks.push(match c {
                '*' => PTok::Star,
                '?' => PTok::One,
                c if fold_case => PTok::Lit(c.to_ascii_lowercase()),
                c => PTok::Lit(c),
            });
            i += c.len_utf8();
        }
        Pattern {
            has_placeholder: !holes.is_empty(),
            toks,
        }
    }

    /// Match a subject (see [`Subject`]).
    pub fn matches(&self, s: &Subject) -> Match {
        // The common literal prefix decides most pairs at once (`iam:` against
        // `secretsmanager:`): a differing character there fails every reading.
        for (p, t) in self.toks.iter().zip(&s.toks) {
            match (p, t) {
                (PTok::Lit(a), STok::Ch(b)) if a != b => return Match::No,
                (PTok::Lit(_), STok::Ch(_)) => {}
                _ => break,
            }
        }
        if run(&self.toks, &s.toks, true) {
            return Match::Yes;
        }
        // Without placeholders or unknowns the lenient reading is the strict one.
        let open = self.has_placeholder || s.toks.iter().any(|t| !matches!(t, STok::Ch(_)));
        if open && run(&self.toks, &s.toks, false) {
            Match::Maybe
        } else {
            Match::No
        }
    }
}

/// What a pattern is matched against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    toks: Vec<STok>,
}

impl Subject {
    /// A concrete value; [`UNKNOWN`] and [`UNKNOWN_TEXT`] mark unknown parts.
    pub fn value(text: &str, fold_case: bool) -> Subject {
        Subject {
            toks: text
                .chars()
                .map(|c| match c {
                    UNKNOWN => STok::AnySeg,
                    UNKNOWN_TEXT => STok::AnyRun,
                    c if fold_case => STok::Ch(c.to_ascii_lowercase()),
                    c => STok::Ch(c),
                })
                .collect(),
        }
    }

    /// Another policy's pattern: `Yes` then means "covers all of it". Placeholders become
    /// unknown text.
    pub fn pattern(text: &str, fold_case: bool) -> Subject {
        let p = Pattern::new(text, fold_case);
        Subject {
            toks: p
                .toks
                .iter()
                .map(|t| match *t {
                    PTok::Lit(c) => STok::Ch(c),
                    PTok::One => STok::AnyOne,
                    PTok::Star | PTok::Hole => STok::AnyRun,
                })
                .collect(),
        }
    }
}

/// Marks an unknown part of a subject value within one ARN segment (no `:` or `/`).
pub const UNKNOWN: char = '\u{0}';
/// Marks an unknown part of a subject value that may be any text (a name).
pub const UNKNOWN_TEXT: char = '\u{1}';

/// Whether `p` matches `s`. `must`: for every value of the subject's unknowns and with
/// placeholders matching nothing; otherwise for some value, with placeholders matching
/// anything.
fn run(p: &[PTok], s: &[STok], must: bool) -> bool {
    let (n, m) = (p.len(), s.len());
    let sep = |i: usize| matches!(p[i], PTok::Lit(':') | PTok::Lit('/'));
    // Column by column from the end of the subject: `next[i]` is "p[i..] matches s[j+1..]",
    // `cur[i]` is "p[i..] matches s[j..]". Two columns, O(n·m) time.
    let mut next = vec![false; n + 1];
    let mut cur = vec![false; n + 1];
    next[n] = true; // column m: only the empty pattern suffix matches the empty subject...
    for i in (0..n).rev() {
        // ...or a suffix of stars (and holes, when placeholders may match anything).
        next[i] =
            next[i + 1] && (matches!(p[i], PTok::Star) || (!must && matches!(p[i], PTok::Hole)));
    }
    // Suffix ORs over the next column, for unknown subject runs.
    let mut any_from = vec![false; n + 2];
    let mut seg_from = vec![false; n + 1];
    for j in (0..m).rev() {
        if !must {
            any_from[n + 1] = false;
            for i in (0..=n).rev() {
                any_from[i] = next[i] || any_from[i + 1];
                seg_from[i] = next[i] || (i < n && !sep(i) && seg_from[i + 1]);
            }
        }
        for i in (0..=n).rev() {
            let mut ok = false;
            if i < n {
                ok = match p[i] {
                    PTok::Star => cur[i + 1] || next[i],
                    PTok::Hole if !must => cur[i + 1] || next[i],
                    PTok::Hole => false,
                    PTok::One => matches!(s[j], STok::Ch(_) | STok::AnyOne) && next[i + 1],
                    PTok::Lit(c) => s[j] == STok::Ch(c) && next[i + 1],
                };
            }
            if !ok && !must {
                // An unknown subject part may be whatever the pattern needs here.
                ok = match s[j] {
                    STok::AnyRun => any_from[i],
                    STok::AnySeg => seg_from[i],
                    STok::AnyOne => i < n && next[i + 1],
                    STok::Ch(_) => false,
                };
            }
            cur[i] = ok;
        }
        std::mem::swap(&mut cur, &mut next);
    }
    next[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first, table-based formulation of `run`: an oracle for the two-column one.
    fn run_reference(p: &[PTok], s: &[STok], must: bool) -> bool {
        let (n, m) = (p.len(), s.len());
        // dp[i][j]: p[i..] matches s[j..]. Filled from the end.
        let mut dp = vec![vec![false; m + 1]; n + 1];
        dp[n][m] = true;
        for i in (0..=n).rev() {
            for j in (0..=m).rev() {
                if i == n && j == m {
                    continue;
                }
                let mut ok = false;
                if i < n {
                    ok = match p[i] {
                        PTok::Star => dp[i + 1][j] || (j < m && dp[i][j + 1]),
                        PTok::Hole if !must => dp[i + 1][j] || (j < m && dp[i][j + 1]),
                        PTok::Hole => false,
                        PTok::One => {
                            j < m && matches!(s[j], STok::Ch(_) | STok::AnyOne) && dp[i + 1][j + 1]
                        }
                        PTok::Lit(c) => j < m && s[j] == STok::Ch(c) && dp[i + 1][j + 1],
                    };
                }
                if !ok && !must && j < m {
                    // An unknown subject part may be whatever the pattern needs here.
                    ok = match s[j] {
                        STok::AnyRun => (i..=n).any(|k| dp[k][j + 1]),
                        STok::AnySeg => (i..=n)
                            .take_while(|&k| {
                                k == i || !matches!(p[k - 1], PTok::Lit(':') | PTok::Lit('/'))
                            })
                            .any(|k| dp[k][j + 1]),
                        STok::AnyOne => i < n && dp[i + 1][j + 1],
                        STok::Ch(_) => false,
                    };
                }
                dp[i][j] = ok;
            }
        }
        dp[0][0]
    }

    #[test]
    fn two_column_matcher_agrees_with_the_table_on_every_small_case() {
        let ptoks = [
            PTok::Lit('a'),
            PTok::Lit(':'),
            PTok::Lit('/'),
            PTok::One,
            PTok::Star,
            PTok::Hole,
        ];
        let stoks = [
            STok::Ch('a'),
            STok::Ch(':'),
            STok::Ch('/'),
            STok::AnyOne,
            STok::AnyRun,
            STok::AnySeg,
        ];
        let seqs = |alphabet: usize, max: usize| {
            let mut out: Vec<Vec<usize>> = vec![vec![]];
            let mut frontier = vec![vec![]];
            for _ in 0..max {
                let mut next = Vec::new();
                for seq in &frontier {
                    for t in 0..alphabet {
                        let mut s: Vec<usize> = seq.clone();
                        s.push(t);
                        next.push(s);
                    }
                }
                out.extend(next.iter().cloned());
                frontier = next;
            }
            out
        };
        let mut checked = 0;
        for pseq in seqs(ptoks.len(), 3) {
            let p: Vec<PTok> = pseq.iter().map(|&i| ptoks[i]).collect();
            for sseq in seqs(stoks.len(), 4) {
                let st: Vec<STok> = sseq.iter().map(|&i| stoks[i]).collect();
                for must in [false, true] {
                    assert_eq!(
                        run(&p, &st, must),
                        run_reference(&p, &st, must),
                        "{p:?} {st:?} must={must}"
                    );
                    checked += 1;
                }
                // The short cuts in `matches` never change its answer.
                let want = if run_reference(&p, &st, true) {
                    Match::Yes
                } else if run_reference(&p, &st, false) {
                    Match::Maybe
                } else {
                    Match::No
                };
                let has_placeholder = p.contains(&PTok::Hole);
                let got = Pattern {
                    toks: p.clone(),
                    has_placeholder,
                }
                .matches(&Subject { toks: st.clone() });
                assert_eq!(got, want, "{p:?} {st:?}");
            }
        }
        assert!(checked > 800_000);
    }

    fn m(p: &str, s: &str) -> Match {
        Pattern::new(p, false).matches(&Subject::value(s, false))
    }

    fn covers(p: &str, s: &str) -> Match {
        Pattern::new(p, true).matches(&Subject::pattern(s, true))
    }

    #[test]
    fn wildcards_match_concrete_values() {
        assert_eq!(m("*", "anything"), Match::Yes);
        assert_eq!(
            m("secret:goldenpath/*", "secret:goldenpath/app"),
            Match::Yes
        );
        assert_eq!(
            m("secret:goldenpath/*", "secret:goldenpath-dev-app"),
            Match::No
        );
        assert_eq!(m("a?c", "abc"), Match::Yes);
        assert_eq!(m("a?c", "ac"), Match::No);
        assert_eq!(m("a*b*c", "aXXbYYc"), Match::Yes);
        assert_eq!(m("", ""), Match::Yes);
    }

    #[test]
    fn actions_fold_case() {
        let p = Pattern::new("IAM:createPolicy", true);
        assert_eq!(
            p.matches(&Subject::value("iam:CreatePolicy", true)),
            Match::Yes
        );
        let p = Pattern::new("iam:Create*", true);
        assert_eq!(
            p.matches(&Subject::value("IAM:CREATEROLE", true)),
            Match::Yes
        );
    }

    #[test]
    fn placeholders_and_unknowns_give_maybe() {
        assert_eq!(
            m(
                "arn:aws:iam::ACCOUNT_ID:role/x",
                "arn:aws:iam::123456789012:role/x"
            ),
            Match::Maybe
        );
        assert_eq!(
            m("arn:aws:iam::${account}:role/x", "arn:aws:iam::123:role/y"),
            Match::No
        );
        let unknown = format!("arn:aws:iam::{UNKNOWN}:role/x");
        assert_eq!(m("arn:aws:iam::*:role/x", &unknown), Match::Yes);
        assert_eq!(m("arn:aws:iam::123:role/x", &unknown), Match::Maybe);
        assert_eq!(m("arn:aws:iam::123:role/y", &unknown), Match::No);
        // An unknown account cannot stand for `x:secret:goldenpath/`.
        let secret = format!("arn:aws:sm:r:{UNKNOWN}:secret:app-{UNKNOWN}");
        assert_eq!(m("arn:aws:sm:*:*:secret:goldenpath/*", &secret), Match::No);
        // An unknown name can be anything, `goldenpath/x` included.
        let named = format!("arn:aws:sm:r:1:secret:{UNKNOWN_TEXT}-{UNKNOWN}");
        assert_eq!(
            m("arn:aws:sm:*:*:secret:goldenpath/*", &named),
            Match::Maybe
        );
    }

    #[test]
    fn pattern_subjects_ask_for_coverage() {
        assert_eq!(covers("iam:*", "iam:Create*"), Match::Yes);
        assert_eq!(covers("iam:Create*", "iam:*"), Match::Maybe);
        assert_eq!(covers("iam:CreatePolicy", "iam:Create*"), Match::Maybe);
        assert_eq!(covers("s3:*", "iam:*"), Match::No);
        assert_eq!(covers("*", "*"), Match::Yes);
        assert_eq!(covers("a?", "a?"), Match::Yes);
        assert_eq!(covers("a?", "a*"), Match::Maybe);
    }

    #[test]
    fn placeholder_spellings() {
        let t = "arn:${partition}:iam::<ACCOUNT>:role/{{ name }}-ACCOUNT_ID";
        let found: Vec<_> = placeholders(t).into_iter().map(|r| &t[r]).collect();
        assert_eq!(
            found,
            ["${partition}", "<ACCOUNT>", "{{ name }}", "ACCOUNT_ID"]
        );
        assert!(placeholders("arn:aws:iam::*:role/MY_ACCOUNT_IDX").is_empty());
    }
}
