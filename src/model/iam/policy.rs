//! Policy documents: statements read from JSON (with positions) or from Terraform, and the
//! evaluation of an action on a resource.

use super::pattern::{Match, Pattern, Subject};
use crate::parse::yaml::Yaml;
use crate::source::Span;

/// A JSON-like tree with positions: what a JSON file, a `jsonencode({...})` argument or an
/// `aws_iam_policy_document` block is read into before it becomes a [`Policy`].
#[derive(Clone, Debug)]
pub struct PNode {
    pub kind: PKind,
    pub span: Option<Span>,
}

#[derive(Clone, Debug)]
pub enum PKind {
    /// A string, number or boolean, as text. Values not known statically are `${...}`.
    Scalar(String),
    List(Vec<PNode>),
    Map(Vec<(String, PNode)>),
    Null,
}

impl PNode {
    pub fn new(kind: PKind, span: Option<Span>) -> PNode {
        PNode { kind, span }
    }

    pub fn get(&self, key: &str) -> Option<&PNode> {
        match &self.kind {
            PKind::Map(e) => e.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Strings of a scalar or list of scalars (`"Action": "x"` or `["x", "y"]`).
    fn strings(&self) -> Vec<Item> {
        match &self.kind {
            PKind::Scalar(s) => vec![Item {
                text: s.clone(),
                span: self.span,
            }],
            PKind::List(items) => items.iter().flat_map(PNode::strings).collect(),
            _ => Vec::new(),
        }
    }

    /// From a JSON value, without positions.
    pub fn from_json(v: &serde_json::Value) -> PNode {
        let kind = match v {
            serde_json::Value::Null => PKind::Null,
            serde_json::Value::Bool(b) => PKind::Scalar(b.to_string()),
            serde_json::Value::Number(n) => PKind::Scalar(n.to_string()),
            serde_json::Value::String(s) => PKind::Scalar(s.clone()),
            serde_json::Value::Array(a) => PKind::List(a.iter().map(PNode::from_json).collect()),
            serde_json::Value::Object(o) => PKind::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), PNode::from_json(v)))
                    .collect(),
            ),
        };
        PNode::new(kind, None)
    }

    /// From a JSON document read as YAML, with positions on every node.
    pub fn from_yaml(y: Yaml<'_>) -> PNode {
        PNode::from_yaml_depth(y, 0)
    }

    fn from_yaml_depth(y: Yaml<'_>, depth: usize) -> PNode {
        let span = Some(y.span());
        if depth > 64 {
            return PNode::new(PKind::Null, span);
        }
        let kind = if y.is_map() {
            PKind::Map(
                y.entries()
                    .map(|(k, v)| {
                        (
                            k.as_str().unwrap_or_default().to_string(),
                            PNode::from_yaml_depth(v, depth + 1),
                        )
                    })
                    .collect(),
            )
        } else if y.is_seq() {
            PKind::List(
                y.items()
                    .map(|i| PNode::from_yaml_depth(i, depth + 1))
                    .collect(),
            )
        } else if y.is_null() {
            PKind::Null
        } else {
            PKind::Scalar(y.as_str().unwrap_or_default().to_string())
        };
        PNode::new(kind, span)
    }
}

/// A string of a statement (an action, a resource) and where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub text: String,
    pub span: Option<Span>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` or `NotAction` (likewise for resources).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    In(Vec<Item>),
    NotIn(Vec<Item>),
}

impl Selector {
    pub fn items(&self) -> &[Item] {
        match self {
            Selector::In(i) | Selector::NotIn(i) => i,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// `None` when the statement names neither `Action` nor `NotAction`.
    pub actions: Option<Selector>,
    /// `None` when the statement names neither `Resource` nor `NotResource` (a trust
    /// policy's statements, or a mistake in an identity policy).
    pub resources: Option<Selector>,
    /// Has `Principal` or `NotPrincipal`.
    pub principal: bool,
    /// Has a `Condition`.
    pub condition: bool,
    /// The whole statement.
    pub span: Option<Span>,
}

impl Statement {
    /// "statement `Sid`" or "statement 3".
    pub fn label(&self, index: usize) -> String {
        match &self.sid {
            Some(s) if !s.is_empty() => format!("statement `{s}`"),
            _ => format!("statement {}", index + 1),
        }
    }
}

/// Whether a document grants permissions to its holder or says who may assume a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// An identity policy: statements without `Principal`.
    Identity,
    /// A trust (or other resource) policy: statements name a `Principal`.
    Trust,
}

#[derive(Clone, Debug)]
pub struct Policy {
    pub statements: Vec<Statement>,
    pub kind: PolicyKind,
    /// Where the document is.
    pub span: Option<Span>,
    /// Problems found while reading (an unknown `Effect`, a statement that is not an
    /// object), with positions when known.
    pub problems: Vec<(String, Option<Span>)>,
    /// The statements' patterns compiled once and indexed by service, built on the first
    /// evaluation (see [`Compiled`]).
    pub compiled: std::sync::OnceLock<Compiled>,
}

/// A policy's patterns, compiled once, and its statements indexed by the service their
/// actions name: a request for `s3:CreateBucket` looks only at the statements that name
/// `s3:` actions (and those whose service is a wildcard, or that use `NotAction`), so
/// 1,000 statements against 800 resources is not 1,000 × 800 × every action.
#[derive(Clone, Debug, Default)]
pub struct Compiled {
    actions: Vec<Vec<Pattern>>,
    resources: Vec<Vec<Pattern>>,
    by_service: std::collections::HashMap<String, Vec<usize>>,
    /// Statements by the literal start of each action item, up to its first wildcard
    /// (`s3:get` for `s3:Get*`, the whole item when it has none), lowercase.
    by_prefix: std::collections::HashMap<String, Vec<usize>>,
    always: Vec<usize>,
    /// Statements by the literal start of each `Resource` item (case kept).
    by_resource_prefix: std::collections::HashMap<String, Vec<usize>>,
    /// Statements with `NotResource` or a resource item that starts with a wildcard:
    /// looked at for every resource.
    any_resource: Vec<usize>,
}

impl Compiled {
    fn new(statements: &[Statement]) -> Compiled {
        let mut c = Compiled::default();
        for (i, st) in statements.iter().enumerate() {
            let compile = |sel: &Option<Selector>, fold: bool| -> Vec<Pattern> {
                sel.as_ref()
                    .map(|s| {
                        s.items()
                            .iter()
                            .map(|it| Pattern::new(&it.text, fold))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            c.actions.push(compile(&st.actions, true));
            c.resources.push(compile(&st.resources, false));
            match &st.resources {
                Some(Selector::In(items)) => {
                    let mut prefixes: Vec<String> =
                        items.iter().map(|it| literal_start(&it.text)).collect();
                    prefixes.sort();
                    prefixes.dedup();
                    if prefixes.iter().any(String::is_empty) {
                        c.any_resource.push(i);
                    } else {
                        for p in prefixes {
                            c.by_resource_prefix.entry(p).or_default().push(i);
                        }
                    }
                }
                Some(Selector::NotIn(_)) => c.any_resource.push(i),
                // No Resource: grants nothing in an identity policy; kept for the rest.
                None => c.any_resource.push(i),
            }
            match &st.actions {
                Some(Selector::In(items)) => {
                    let services: Option<Vec<String>> =
                        items.iter().map(|it| literal_service(&it.text)).collect();
                    match services {
                        Some(mut svcs) => {
                            svcs.sort();
                            svcs.dedup();
                            for svc in svcs {
                                c.by_service.entry(svc).or_default().push(i);
                            }
                            let mut prefixes: Vec<String> =
                                items.iter().map(|it| literal_prefix(&it.text)).collect();
                            prefixes.sort();
                            prefixes.dedup();
                            for p in prefixes {
                                c.by_prefix.entry(p).or_default().push(i);
                            }
                        }
                        None => c.always.push(i),
                    }
                }
                Some(Selector::NotIn(_)) => c.always.push(i),
                // No Action: the statement grants and denies nothing.
                None => {}
            }
        }
        c
    }

    /// The statements that may apply to a request's action, in statement order: for a
    /// concrete action, those with an item whose literal start begins it; for a pattern,
    /// those of its service; else all.
    fn candidates_for(&self, req: &Request, n: usize, by_resource: bool) -> Vec<usize> {
        let Some(action) = &req.literal_action else {
            return self.candidates(req.service.as_deref(), n);
        };
        let Some(colon) = action.find(':') else {
            return self.candidates(None, n);
        };
        let mut listed: Vec<usize> = Vec::new();
        for (k, _) in action
            .char_indices()
            .skip_while(|&(k, _)| k <= colon)
            .chain(std::iter::once((action.len(), ' ')))
        {
            if let Some(v) = self.by_prefix.get(&action[..k]) {
                listed.extend_from_slice(v);
            }
        }
        listed.sort_unstable();
        listed.dedup();
        let by_action = merge_sorted(&listed, &self.always);
        // And, for a concrete ARN, only statements with a resource that can match it.
        let Some(arn) = req.literal_resource.as_ref().filter(|_| by_resource) else {
            return by_action;
        };
        let mut by_resource: Vec<usize> = Vec::new();
        for (k, _) in arn
            .char_indices()
            .skip(1)
            .chain(std::iter::once((arn.len(), ' ')))
        {
            if let Some(v) = self.by_resource_prefix.get(&arn[..k]) {
                by_resource.extend_from_slice(v);
            }
        }
        by_resource.sort_unstable();
        by_resource.dedup();
        let resources = merge_sorted(&by_resource, &self.any_resource);
        intersect_sorted(&by_action, &resources)
    }

    /// The statements that may apply to an action of `service`, in statement order.
    fn candidates(&self, service: Option<&str>, n: usize) -> Vec<usize> {
        match service {
            Some(svc) => merge_sorted(
                self.by_service.get(svc).map_or(&[][..], Vec::as_slice),
                &self.always,
            ),
            None => (0..n).collect(),
        }
    }
}

fn intersect_sorted(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// The literal start of a resource item, case kept: up to its first `*`, `?` or
/// placeholder.
fn literal_start(text: &str) -> String {
    let holes = super::pattern::placeholders(text);
    let cut = text
        .find(['*', '?'])
        .unwrap_or(text.len())
        .min(holes.first().map_or(text.len(), |r| r.start));
    text[..cut].to_string()
}

fn merge_sorted(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if j >= b.len() || (i < a.len() && a[i] < b[j]) {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out
}

/// The literal start of an action item, lowercase: up to its first `*`, `?` or
/// placeholder.
fn literal_prefix(text: &str) -> String {
    let holes = super::pattern::placeholders(text);
    let cut = text
        .find(['*', '?'])
        .unwrap_or(text.len())
        .min(holes.first().map_or(text.len(), |r| r.start));
    text[..cut].to_ascii_lowercase()
}

/// The service of an action item (`s3` of `s3:Get*`, lowercase) when it is literal: no
/// wildcard, placeholder or unknown part before the `:`.
fn literal_service(text: &str) -> Option<String> {
    let (svc, _) = text.split_once(':')?;
    let literal = !svc.is_empty()
        && svc
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    literal.then(|| svc.to_ascii_lowercase())
}

/// [`Selector::matches`] with the patterns compiled.
fn selector_matches(sel: &Selector, pats: &[Pattern], subject: &Subject) -> (Match, Option<usize>) {
    let mut best = (Match::No, None);
    for (i, p) in pats.iter().enumerate() {
        let m = p.matches(subject);
        if best.0 != Match::Yes && m != Match::No && (best.0 == Match::No || m == Match::Yes) {
            best = (m, Some(i));
        }
    }
    match sel {
        Selector::In(_) => best,
        Selector::NotIn(_) => (best.0.negate(), None),
    }
}

/// A three-valued answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Denied,
    /// Could not decide, and why.
    CannotTell(String),
}

/// A decision and the statement that decided it (or, for an implicit deny, `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    pub statement: Option<usize>,
    /// The index of the matching action in that statement's `Action` list.
    pub action: Option<usize>,
}

/// A request to evaluate: an action and a resource ARN, each a concrete value (with
/// [`super::pattern::UNKNOWN`] parts) or a pattern from another policy.
#[derive(Clone, Debug)]
pub struct Request {
    action: Subject,
    resource: Subject,
    /// The action's service when it is literal (for the statement index).
    service: Option<String>,
    /// The whole action, lowercase, when it is a concrete name (no wildcard, no unknown).
    literal_action: Option<String>,
    /// The resource when it is a concrete ARN (no unknown part).
    literal_resource: Option<String>,
}

impl Request {
    pub fn new(action: &str, resource: &str) -> Request {
        let concrete = action
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'));
        Request {
            action: Subject::value(action, true),
            resource: Subject::value(resource, false),
            service: literal_service(action),
            literal_action: concrete.then(|| action.to_ascii_lowercase()),
            literal_resource: (!resource.is_empty()
                && !resource.contains([super::pattern::UNKNOWN, super::pattern::UNKNOWN_TEXT]))
            .then(|| resource.to_string()),
        }
    }

    /// Ask about everything two patterns cover (for comparing policies).
    pub fn patterns(action: &str, resource: &str) -> Request {
        Request {
            action: Subject::pattern(action, true),
            resource: Subject::pattern(resource, false),
            service: literal_service(action),
            literal_action: None,
            literal_resource: None,
        }
    }
}

impl Policy {
    /// Read a policy document. `None` when the tree is not a policy (no `Statement`).
    pub fn from_node(doc: &PNode) -> Option<Policy> {
        let stmts = doc.get("Statement")?;
        let mut problems = Vec::new();
        let nodes: Vec<&PNode> = match &stmts.kind {
            PKind::List(items) => items.iter().collect(),
            PKind::Map(_) => vec![stmts],
            _ => {
                problems.push(("`Statement` is not a list".to_string(), stmts.span));
                Vec::new()
            }
        };
        let mut statements = Vec::new();
        for node in nodes {
            if !matches!(node.kind, PKind::Map(_)) {
                problems.push(("a statement is not an object".into(), node.span));
                continue;
            }
            let scalar = |k: &str| match node.get(k).map(|n| &n.kind) {
                Some(PKind::Scalar(s)) => Some(s.clone()),
                _ => None,
            };
            let effect = match scalar("Effect").as_deref() {
                Some("Allow") => Effect::Allow,
                Some("Deny") => Effect::Deny,
                other => {
                    problems.push((
                        format!(
                            "`Effect` must be \"Allow\" or \"Deny\", found {}",
                            other.map_or("nothing".into(), |o| format!("\"{o}\""))
                        ),
                        node.get("Effect").and_then(|n| n.span).or(node.span),
                    ));
                    continue;
                }
            };
            let selector = |yes: &str, no: &str| {
                node.get(yes)
                    .map(|n| Selector::In(n.strings()))
                    .or_else(|| node.get(no).map(|n| Selector::NotIn(n.strings())))
            };
            let has = |k: &str| node.get(k).is_some_and(|n| !matches!(n.kind, PKind::Null));
            statements.push(Statement {
                sid: scalar("Sid"),
                effect,
                actions: selector("Action", "NotAction"),
                resources: selector("Resource", "NotResource"),
                principal: has("Principal") || has("NotPrincipal"),
                condition: node.get("Condition").is_some_and(|c| match &c.kind {
                    PKind::Map(e) => !e.is_empty(),
                    PKind::Null => false,
                    _ => true,
                }),
                span: node.span,
            });
        }
        let kind = if statements.iter().any(|s| s.principal) {
            PolicyKind::Trust
        } else {
            PolicyKind::Identity
        };
        Some(Policy {
            statements,
            kind,
            span: doc.span,
            problems,
            compiled: Default::default(),
        })
    }

    /// Read a policy from a JSON value (no positions).
    pub fn from_json(v: &serde_json::Value) -> Option<Policy> {
        Policy::from_node(&PNode::from_json(v))
    }

    /// Replace placeholders with known values: each `(placeholder, value)` pair, e.g.
    /// `("ACCOUNT_ID", "123456789012")`, in every action and resource. Only whole
    /// placeholders (see [`super::pattern::placeholders`]) are replaced.
    pub fn substitute(&mut self, known: &[(&str, &str)]) {
        self.compiled = Default::default();
        for st in &mut self.statements {
            for sel in [&mut st.actions, &mut st.resources].into_iter().flatten() {
                let (Selector::In(items) | Selector::NotIn(items)) = sel;
                for item in items {
                    let holes = super::pattern::placeholders(&item.text);
                    let mut out = String::with_capacity(item.text.len());
                    let mut last = 0;
                    for r in holes {
                        if let Some((_, to)) = known
                            .iter()
                            .find(|(from, _)| *from == &item.text[r.clone()])
                        {
                            out.push_str(&item.text[last..r.start]);
                            out.push_str(to);
                            last = r.end;
                        }
                    }
                    out.push_str(&item.text[last..]);
                    item.text = out;
                }
            }
        }
    }

    /// The placeholders left in actions and resources, each once, in order.
    pub fn placeholders(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for st in &self.statements {
            for sel in [&st.actions, &st.resources].into_iter().flatten() {
                for item in sel.items() {
                    for r in super::pattern::placeholders(&item.text) {
                        let p = item.text[r].to_string();
                        if !out.contains(&p) {
                            out.push(p);
                        }
                    }
                }
            }
        }
        out
    }

    /// Identity-policy statements without `Resource`/`NotResource` (AWS rejects them).
    /// Trust policies are never asked for a `Resource`.
    pub fn statements_missing_resource(&self) -> Vec<usize> {
        if self.kind == PolicyKind::Trust {
            return Vec::new();
        }
        (0..self.statements.len())
            .filter(|&i| self.statements[i].resources.is_none())
            .collect()
    }

    fn compiled(&self) -> &Compiled {
        self.compiled
            .get_or_init(|| Compiled::new(&self.statements))
    }

    /// How statement `i` applies to a request: (match, index of the matching action).
    fn applies(&self, i: usize, req: &Request) -> (Match, Option<usize>) {
        let st = &self.statements[i];
        let c = self.compiled();
        let Some(actions) = &st.actions else {
            return (Match::No, None);
        };
        let (am, ai) = selector_matches(actions, &c.actions[i], &req.action);
        if am == Match::No {
            return (Match::No, ai);
        }
        let rm = match &st.resources {
            Some(r) => selector_matches(r, &c.resources[i], &req.resource).0,
            // A statement without Resource grants nothing in an identity policy.
            None => Match::No,
        };
        let m = match (am, rm) {
            (_, Match::No) => Match::No,
            (Match::Yes, Match::Yes) => Match::Yes,
            _ => Match::Maybe,
        };
        (m, ai)
    }

    /// Evaluate a request: an explicit deny wins over any allow, no allow is an implicit
    /// deny, a condition or a placeholder that decides the answer makes it
    /// [`Decision::CannotTell`].
    pub fn evaluate(&self, req: &Request) -> Evaluation {
        let mut allow_yes = None;
        let mut allow_maybe: Option<(usize, Option<usize>, String)> = None;
        let mut deny_maybe: Option<(usize, String)> = None;
        let candidates = self
            .compiled()
            .candidates_for(req, self.statements.len(), true);
        for i in candidates {
            let st = &self.statements[i];
            let (m, ai) = self.applies(i, req);
            if m == Match::No {
                continue;
            }
            let why = if st.condition {
                format!("{} applies only under its `Condition`", st.label(i))
            } else {
                format!(
                    "{} applies only for some values of its wildcards or placeholders",
                    st.label(i)
                )
            };
            match (st.effect, m, st.condition) {
                (Effect::Deny, Match::Yes, false) => {
                    return Evaluation {
                        decision: Decision::Denied,
                        statement: Some(i),
                        action: ai,
                    };
                }
                (Effect::Deny, _, _) => {
                    deny_maybe.get_or_insert((i, why));
                }
                (Effect::Allow, Match::Yes, false) => {
                    allow_yes.get_or_insert((i, ai));
                }
                (Effect::Allow, _, _) => {
                    allow_maybe.get_or_insert((i, ai, why));
                }
            }
        }
        match (allow_yes, deny_maybe, allow_maybe) {
            (Some((i, ai)), None, _) => Evaluation {
                decision: Decision::Allowed,
                statement: Some(i),
                action: ai,
            },
            (Some(_), Some((d, why)), _) => Evaluation {
                decision: Decision::CannotTell(format!("allowed, but Deny {why}")),
                statement: Some(d),
                action: None,
            },
            (None, _, Some((i, ai, why))) => Evaluation {
                decision: Decision::CannotTell(format!("allowed only if {why}")),
                statement: Some(i),
                action: ai,
            },
            (None, _, None) => Evaluation {
                decision: Decision::Denied,
                statement: None,
                action: None,
            },
        }
    }

    /// The Allow statement that comes closest to granting a request: one that allows the
    /// action on some other resource, with the index of the matching action.
    pub fn closest(&self, req: &Request) -> Option<(usize, usize)> {
        let c = self.compiled();
        c.candidates_for(req, self.statements.len(), false)
            .into_iter()
            .find_map(|i| {
                let st = &self.statements[i];
                if st.effect != Effect::Allow {
                    return None;
                }
                match selector_matches(st.actions.as_ref()?, &c.actions[i], &req.action) {
                    (Match::No, _) => None,
                    (_, ai) => Some((i, ai.unwrap_or(0))),
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(v: serde_json::Value) -> Policy {
        Policy::from_json(&v).expect("a policy")
    }

    fn decide(p: &Policy, action: &str, resource: &str) -> Decision {
        p.evaluate(&Request::new(action, resource)).decision
    }

    #[test]
    fn the_statement_index_decides_as_a_scan_of_every_statement() {
        let actions = [
            "s3:GetObject",
            "s3:Get*",
            "S3:getobject",
            "s3:*",
            "*",
            "s?:GetObject",
            "iam:PassRole",
            "iam:*Role",
            "ec2:Describe*",
            "s3:Put${X}",
        ];
        let resources = [
            "*",
            "arn:aws:s3:::b-1",
            "arn:aws:s3:::b-*",
            "arn:aws:s3:::b-1/*",
            "arn:aws:iam::ACCOUNT_ID:role/r",
            "arn:*:s3:::b-1",
            "arn:aws:s3:::B-1",
        ];
        let mut statements = Vec::new();
        for (i, a) in actions.iter().enumerate() {
            for (j, r) in resources.iter().enumerate() {
                let effect = if (i + j) % 5 == 0 { "Deny" } else { "Allow" };
                let mut st = json!({ "Effect": effect });
                if (i * 7 + j) % 6 == 0 {
                    st["NotAction"] = json!([a]);
                } else {
                    st["Action"] = json!([a, actions[(i + j) % actions.len()]]);
                }
                if (i + j * 3) % 7 == 0 {
                    st["NotResource"] = json!(r);
                } else {
                    st["Resource"] = json!([r]);
                }
                if (i + j) % 9 == 0 {
                    st["Condition"] = json!({"Bool": {"aws:SecureTransport": "true"}});
                }
                statements.push(st);
            }
        }
        let p = policy(json!({ "Version": "2012-10-17", "Statement": statements }));
        let requests = [
            ("s3:GetObject", "arn:aws:s3:::b-1"),
            ("s3:GetObject", "arn:aws:s3:::b-2/key"),
            ("s3:PutObject", "arn:aws:s3:::b-1/x"),
            ("S3:GETOBJECT", "arn:aws:s3:::B-1"),
            ("iam:PassRole", "arn:aws:iam::123456789012:role/r"),
            ("iam:CreateRole", "arn:aws:iam::123456789012:role/other"),
            ("ec2:DescribeInstances", "*"),
            ("sqs:SendMessage", "arn:aws:sqs:eu-west-2:1:q"),
            ("s3:GetObject", "arn:aws:s3:::b-\u{0}"),
        ];
        for (a, r) in requests {
            let indexed = Request::new(a, r);
            let mut scan = Request::new(a, r);
            scan.service = None;
            scan.literal_action = None;
            scan.literal_resource = None;
            assert_eq!(p.evaluate(&indexed), p.evaluate(&scan), "{a} on {r}");
            assert_eq!(p.closest(&indexed), p.closest(&scan), "{a} on {r}");
        }
    }

    #[test]
    fn allow_deny_and_implicit_deny() {
        let p = policy(json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Secrets", "Effect": "Allow", "Action": ["secretsmanager:*"], "Resource": "arn:aws:secretsmanager:*:*:secret:goldenpath/*"},
                {"Effect": "Deny", "Action": "secretsmanager:DeleteSecret", "Resource": "*"}
            ]
        }));
        let arn = "arn:aws:secretsmanager:eu-west-2:1:secret:goldenpath/app";
        assert_eq!(
            decide(&p, "secretsmanager:CreateSecret", arn),
            Decision::Allowed
        );
        assert_eq!(
            decide(&p, "SecretsManager:createsecret", arn),
            Decision::Allowed
        );
        assert_eq!(
            decide(&p, "secretsmanager:DeleteSecret", arn),
            Decision::Denied
        );
        let other = "arn:aws:secretsmanager:eu-west-2:1:secret:goldenpath-dev-app-secrets";
        assert_eq!(
            decide(&p, "secretsmanager:CreateSecret", other),
            Decision::Denied
        );
        assert_eq!(
            p.closest(&Request::new("secretsmanager:CreateSecret", other)),
            Some((0, 0))
        );
        assert_eq!(decide(&p, "s3:GetObject", arn), Decision::Denied);
    }

    #[test]
    fn not_action_and_not_resource() {
        let p = policy(json!({"Statement": [
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:GetRole", "NotResource": "arn:aws:iam::*:role/admin"}
        ]}));
        assert_eq!(
            decide(&p, "s3:GetObject", "arn:aws:s3:::b"),
            Decision::Allowed
        );
        assert_eq!(decide(&p, "iam:CreateRole", "*"), Decision::Denied);
        assert_eq!(
            decide(&p, "iam:GetRole", "arn:aws:iam::1:role/ci"),
            Decision::Allowed
        );
        assert_eq!(
            decide(&p, "iam:GetRole", "arn:aws:iam::1:role/admin"),
            Decision::Denied
        );
    }

    #[test]
    fn conditions_and_placeholders_cannot_tell() {
        let p = policy(json!({"Statement": [
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-2.amazonaws.com"}}},
            {"Effect": "Allow", "Action": "iam:CreateRole", "Resource": "arn:aws:iam::ACCOUNT_ID:role/goldenpath-*"}
        ]}));
        assert!(
            matches!(decide(&p, "kms:Decrypt", "arn:aws:kms:eu-west-2:1:key/x"), Decision::CannotTell(r) if r.contains("Condition"))
        );
        assert!(matches!(
            decide(
                &p,
                "iam:CreateRole",
                "arn:aws:iam::123456789012:role/goldenpath-dev-x"
            ),
            Decision::CannotTell(_)
        ));
        // The placeholder cannot rescue a name the pattern rules out.
        assert_eq!(
            decide(&p, "iam:CreateRole", "arn:aws:iam::123456789012:role/other"),
            Decision::Denied
        );
        assert_eq!(p.placeholders(), ["ACCOUNT_ID"]);
        let mut known = p.clone();
        known.substitute(&[("ACCOUNT_ID", "123456789012")]);
        assert_eq!(
            decide(
                &known,
                "iam:CreateRole",
                "arn:aws:iam::123456789012:role/goldenpath-dev-x"
            ),
            Decision::Allowed
        );
    }

    #[test]
    fn conditional_deny_makes_an_allow_undecided() {
        let p = policy(json!({"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}
        ]}));
        assert!(matches!(
            decide(&p, "iam:CreateRole", "*"),
            Decision::CannotTell(_)
        ));
        assert_eq!(
            decide(&p, "s3:ListBucket", "arn:aws:s3:::b"),
            Decision::Allowed
        );
    }

    #[test]
    fn trust_policies_are_told_apart_and_never_need_a_resource() {
        let trust = policy(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}
        ]}));
        assert_eq!(trust.kind, PolicyKind::Trust);
        assert!(trust.statements_missing_resource().is_empty());
        let identity = policy(json!({"Statement": {"Effect": "Allow", "Action": "s3:*"}}));
        assert_eq!(identity.kind, PolicyKind::Identity);
        assert_eq!(identity.statements_missing_resource(), [0]);
    }

    #[test]
    fn comparing_patterns() {
        let live = policy(json!({"Statement": [
            {"Effect": "Allow", "Action": ["iam:*"], "Resource": "*"}
        ]}));
        let q = Request::patterns("iam:Create*", "arn:aws:iam::*:policy/goldenpath-*");
        assert_eq!(live.evaluate(&q).decision, Decision::Allowed);
        let narrow = policy(json!({"Statement": [
            {"Effect": "Allow", "Action": ["iam:CreateRole"], "Resource": "*"}
        ]}));
        let q = Request::patterns("iam:CreatePolicy", "*");
        assert_eq!(narrow.evaluate(&q).decision, Decision::Denied);
    }

    #[test]
    fn bad_effect_is_a_problem_not_a_panic() {
        let p =
            policy(json!({"Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}, 3]}));
        assert_eq!(p.statements.len(), 0);
        assert_eq!(p.problems.len(), 2);
        assert!(Policy::from_json(&json!({"a": 1})).is_none());
    }
}
