//! Benchmark helper: run `preflight check` (every rule) and then force every model a rule
//! could ask for — the Terraform module index, the GitOps model, and an evaluation of
//! every Terraform expression (against an empty scope) with its references — so the cost
//! of the models is measured even while few rules use them.
//!
//! ```text
//! cargo run --release --example check-models -- DIR
//! ```

use preflight::engine::{self, CheckOptions};
use preflight::model::terraform::expr;
use preflight::parse::Syntax;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let t0 = Instant::now();
    let outcome = engine::check(CheckOptions {
        paths: vec![dir],
        ..Default::default()
    })
    .expect("check runs");
    let t_check = t0.elapsed();
    let s = &outcome.session;
    let t1 = Instant::now();
    let tf = s.terraform();
    let roots = s.terraform_roots().len();
    let t_tf = t1.elapsed();
    let t2 = Instant::now();
    let gitops = s.gitops();
    let t_gitops = t2.elapsed();
    let t3 = Instant::now();
    let (mut exprs, mut refs) = (0usize, 0usize);
    for (_, syntax) in s.repo.iter() {
        if let Syntax::Hcl(body) = syntax {
            for (_, e) in expr::body_expressions(body) {
                let _ = expr::eval(e, &expr::EmptyScope);
                refs += expr::references(e).len();
                exprs += 1;
            }
        }
    }
    let t_eval = t3.elapsed();
    eprintln!(
        "{} findings; check {:?}; terraform model {:?} ({} modules, {roots} roots); gitops model {:?} ({} apps, {} groups, {} objects); eval {:?} ({exprs} expressions, {refs} references)",
        outcome.findings.len(),
        t_check,
        t_tf,
        tf.ids().count(),
        t_gitops,
        gitops.apps.len(),
        gitops.groups.len(),
        gitops.objects.len(),
        t_eval,
    );
}
