//! Inflates the generated provider schemas (`data/provider-schemas/*.schema.z`) into the
//! build's output folder and writes the index of their types beside them, so that the
//! binary holds the text and the table ready to read: a check looks a type up without
//! inflating or scanning 4 MB of text first.

use std::fmt::Write as _;
use std::path::Path;

#[path = "src/model/terraform/schema_index.rs"]
mod schema_index;

fn main() {
    let data = Path::new("data/provider-schemas");
    println!("cargo:rerun-if-changed={}", data.display());
    let out_dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    let mut names: Vec<String> = std::fs::read_dir(data)
        .expect("data/provider-schemas")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".schema.z").map(str::to_owned))
        .collect();
    names.sort();
    let mut table = String::from("&[\n");
    for name in &names {
        let path = data.join(format!("{name}.schema.z"));
        println!("cargo:rerun-if-changed={}", path.display());
        let compressed = std::fs::read(&path).expect("read a provider schema");
        let bytes = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&compressed, 64 << 20)
            .unwrap_or_else(|e| panic!("{}: not zlib data: {e:?}", path.display()));
        let text = String::from_utf8(bytes).expect("a provider schema is UTF-8");
        std::fs::write(Path::new(&out_dir).join(format!("{name}.schema")), &text)
            .expect("write the inflated schema");
        let _ = writeln!(
            table,
            "    (\"{name}\", include_str!(concat!(env!(\"OUT_DIR\"), \"/{name}.schema\")), &["
        );
        for (kind, ty, from, to) in schema_index::index(&text) {
            let _ = writeln!(table, "        ({kind}, {ty:?}, {from}, {to}),");
        }
        table.push_str("    ]),\n");
    }
    table.push_str("]\n");
    std::fs::write(Path::new(&out_dir).join("provider_schemas.rs"), table)
        .expect("write the schema table");
}
