//! `preflight graph`: what each root creates and reads, and what each Application deploys,
//! with the findings marked. Built from the models; rendered as Mermaid or Graphviz DOT.

mod gitops;
mod terraform;

use crate::engine::Outcome;
use crate::source::Span;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Something the configuration creates.
    Object,
    /// Something read: a data source, a values file.
    Read,
    /// A provider configuration or an Application.
    Actor,
    /// A module call or a source.
    Group,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub label: String,
    pub shape: Shape,
    /// Where the node is written; a finding inside this span marks the node.
    pub span: Option<Span>,
    /// The rules with findings on this node.
    pub findings: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: String,
    /// A broken edge: the target is missing or a finding sits on it.
    pub broken: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Cluster {
    pub id: String,
    pub label: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Default)]
pub struct Graph {
    pub clusters: Vec<Cluster>,
}

/// Build the graph of a check's scope and mark the nodes its findings fall in.
pub fn build(outcome: &Outcome) -> Graph {
    let session = &outcome.session;
    let mut graph = Graph::default();
    graph.clusters.extend(terraform::clusters(session));
    graph.clusters.extend(gitops::clusters(session));
    let mut placed = vec![false; outcome.findings.len()];
    for cluster in &mut graph.clusters {
        for node in &mut cluster.nodes {
            let Some(span) = node.span else { continue };
            for (i, f) in outcome.findings.iter().enumerate() {
                if f.span.file == span.file
                    && f.span.start >= span.start
                    && f.span.end <= span.end.max(span.start + 1)
                {
                    placed[i] = true;
                    if !node.findings.contains(&f.rule) {
                        node.findings.push(f.rule);
                    }
                }
            }
        }
    }
    // Findings that fall in no node are listed under the picture, not left out.
    let mut rest = Cluster {
        id: "unplaced".into(),
        label: "Findings on nothing drawn above".into(),
        ..Default::default()
    };
    for (i, f) in outcome.findings.iter().enumerate() {
        if placed[i] {
            continue;
        }
        let loc = crate::report::locate(outcome, f.span);
        let mut message: String = f.message.chars().take(100).collect();
        if message.len() < f.message.len() {
            message.push('…');
        }
        rest.nodes.push(Node {
            id: format!("finding_{i}"),
            label: format!("{}:{}: {} {}", loc.file, loc.line, f.severity, message),
            shape: Shape::Object,
            span: None,
            findings: vec![f.rule],
        });
    }
    if !rest.nodes.is_empty() {
        graph.clusters.push(rest);
    }
    graph
}

/// A node id safe in both Mermaid and DOT.
pub fn node_id(prefix: &str, name: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + name.len() + 1);
    id.push_str(prefix);
    id.push('_');
    for c in name.chars() {
        id.push(if c.is_ascii_alphanumeric() { c } else { '_' });
    }
    id
}

fn label_of(node: &Node) -> String {
    if node.findings.is_empty() {
        node.label.clone()
    } else {
        format!("{}\n⚠ {}", node.label, node.findings.join(", "))
    }
}

pub fn render(graph: &Graph, format: GraphFormat) -> String {
    match format {
        GraphFormat::Mermaid => mermaid(graph),
        GraphFormat::Dot => dot(graph),
    }
}

fn mermaid_text(s: &str) -> String {
    s.replace('"', "#quot;").replace('\n', "<br/>")
}

fn mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    let mut flagged = Vec::new();
    for c in &graph.clusters {
        let _ = writeln!(out, "  subgraph {}[\"{}\"]", c.id, mermaid_text(&c.label));
        for n in &c.nodes {
            let text = mermaid_text(&label_of(n));
            let shape = match n.shape {
                Shape::Object => format!("[\"{text}\"]"),
                Shape::Read => format!("[/\"{text}\"/]"),
                Shape::Actor => format!("([\"{text}\"])"),
                Shape::Group => format!("[[\"{text}\"]]"),
            };
            let _ = writeln!(out, "    {}{}", n.id, shape);
            if !n.findings.is_empty() {
                flagged.push(n.id.clone());
            }
        }
        for e in &c.edges {
            let arrow = if e.broken { "-.->" } else { "-->" };
            if e.label.is_empty() {
                let _ = writeln!(out, "    {} {arrow} {}", e.from, e.to);
            } else {
                let _ = writeln!(
                    out,
                    "    {} {arrow}|\"{}\"| {}",
                    e.from,
                    mermaid_text(&e.label),
                    e.to
                );
            }
        }
        let _ = writeln!(out, "  end");
    }
    out.push_str("  classDef finding fill:#fde2e1,stroke:#c0392b,stroke-width:2px\n");
    if !flagged.is_empty() {
        let _ = writeln!(out, "  class {} finding", flagged.join(","));
    }
    out
}

fn dot_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn dot(graph: &Graph) -> String {
    let mut out = String::from(
        "digraph preflight {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n",
    );
    for c in &graph.clusters {
        let _ = writeln!(
            out,
            "  subgraph cluster_{} {{\n    label=\"{}\";",
            c.id,
            dot_text(&c.label)
        );
        for n in &c.nodes {
            let shape = match n.shape {
                Shape::Object => "box",
                Shape::Read => "parallelogram",
                Shape::Actor => "ellipse",
                Shape::Group => "box3d",
            };
            let style = if n.findings.is_empty() {
                String::new()
            } else {
                ", style=filled, fillcolor=\"#fde2e1\", color=\"#c0392b\"".to_string()
            };
            let _ = writeln!(
                out,
                "    {} [label=\"{}\", shape={shape}{style}];",
                n.id,
                dot_text(&label_of(n))
            );
        }
        for e in &c.edges {
            let style = if e.broken {
                ", style=dashed, color=\"#c0392b\""
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    {} -> {} [label=\"{}\"{style}];",
                e.from,
                e.to,
                dot_text(&e.label)
            );
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}
