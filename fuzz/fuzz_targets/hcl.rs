//! HCL parsing and the expression layer: parse any text as a Terraform file, then walk,
//! evaluate and analyse every expression in it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight::model::terraform::expr;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(body) = preflight::parse::hcl::parse(text) else {
        return;
    };
    let mut ranges = Vec::new();
    preflight::parse::hcl::construct_ranges(&body, &mut ranges);
    for r in &ranges {
        assert!(
            r.start <= r.end && r.end <= text.len(),
            "span out of the text"
        );
    }
    for (_, e) in expr::body_expressions(&body) {
        let _ = expr::eval(e, &expr::EmptyScope);
        let _ = expr::references(e);
        let _ = expr::function_calls(e);
        let _ = expr::gate_terms(e);
    }
});
