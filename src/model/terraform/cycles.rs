//! Cycles among a module's local values, as Terraform's graph finds them: `terraform
//! validate` fails with "Self-referencing local value" for a local that names itself and
//! with "Cycle: local.a, local.b" for locals that reach each other. Only the references
//! written in the locals' expressions count (as in Terraform, whatever a condition would
//! choose).

use super::expr;
use super::module::{TerraformModel, TfModule};
use crate::repo::Repository;
use std::collections::HashMap;

/// Each cycle as indices into `module.locals`, in declaration order; a self-reference is a
/// cycle of one. Cycles are listed in the order of their first local.
pub fn local_cycles(tf: &TerraformModel, repo: &Repository, module: &TfModule) -> Vec<Vec<usize>> {
    let index: HashMap<&str, usize> = module
        .locals
        .iter()
        .enumerate()
        .map(|(i, l)| (l.name.as_str(), i))
        .collect();
    let n = module.locals.len();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut self_ref = vec![false; n];
    for (i, l) in module.locals.iter().enumerate() {
        let Some(e) = tf.local_expr(repo, l) else {
            continue;
        };
        for r in expr::references(e) {
            if r.root != "local" {
                continue;
            }
            let Some(&j) = r.attrs.first().and_then(|a| index.get(a.as_str())) else {
                continue;
            };
            if j == i {
                self_ref[i] = true;
            } else if !edges[i].contains(&j) {
                edges[i].push(j);
            }
        }
    }
    let mut cycles: Vec<Vec<usize>> = strongly_connected(&edges)
        .into_iter()
        .filter(|c| c.len() > 1 || self_ref[c[0]])
        .map(|mut c| {
            c.sort_unstable();
            c
        })
        .collect();
    cycles.sort();
    cycles
}

/// Tarjan's strongly connected components, iteratively (no recursion on hostile input).
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut next = 0usize;
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        // (node, next edge to look at)
        let mut work = vec![(start, 0usize)];
        index[start] = next;
        low[start] = next;
        next += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (v, ref mut ei)) = work.last_mut() {
            if let Some(&w) = edges[v].get(*ei) {
                *ei += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(comp);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_of_a_small_graph() {
        // 0 → 1 → 2 → 0, 3 → 3 (a self edge is not an edge here), 4 → 0.
        let edges = vec![vec![1], vec![2], vec![0], vec![], vec![0]];
        let mut comps: Vec<Vec<usize>> = strongly_connected(&edges)
            .into_iter()
            .map(|mut c| {
                c.sort();
                c
            })
            .collect();
        comps.sort();
        assert_eq!(comps, vec![vec![0, 1, 2], vec![3], vec![4]]);
    }

    #[test]
    fn a_long_chain_does_not_recurse() {
        let n = 200_000;
        let edges: Vec<Vec<usize>> = (0..n).map(|i| vec![(i + 1) % n]).collect();
        let comps = strongly_connected(&edges);
        assert_eq!(comps.len(), 1);
        assert_eq!(comps[0].len(), n);
    }
}
