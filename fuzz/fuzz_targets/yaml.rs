//! YAML loading: the span-keeping arena, every accessor, and YAML embedded in scalars.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight::parse::yaml;
use preflight::source::FileId;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(docs) = yaml::parse_stream(FileId(0), text) else {
        return;
    };
    for doc in &docs {
        for node in doc.all() {
            let span = node.span();
            assert!(span.start <= span.end && span.end as usize <= text.len());
            let _ = (node.as_str(), node.as_bool(), node.is_null());
            for (k, v) in node.entries() {
                let _ = (k.as_str(), v.span());
            }
            if node.as_str().is_some() {
                let _ = yaml::parse_embedded(doc, node.id, text);
            }
        }
    }
});
