//! What the validity rules ask of a module's configuration as written: whether every file
//! of it was read, the attribute sites of its blocks (what they reference and call), and the
//! outline of a block (its labels, attributes and nested blocks, with their byte ranges).
//! Answers are plain data and views; no syntax type leaves this module.

mod outline;
mod sites;

pub use outline::{AttrView, BlockView, BodyView, block};
pub use sites::{Site, block_address, sites};

use crate::model::terraform::TfModule;
use crate::parse::Syntax;
use crate::repo::Repository;
use crate::source::FileId;

/// Whether every file of the module parsed and none of its configuration lives in a form
/// preflight does not read (`.tf.json`): only then is "not declared" a fact.
pub fn complete(repo: &Repository, module: &TfModule) -> bool {
    let all_hcl = module
        .files
        .iter()
        .all(|f| matches!(repo.syntax(*f), Syntax::Hcl(_)));
    let json = repo
        .files_in_dir(&module.dir)
        .any(|p| p.ends_with(".tf.json"));
    all_hcl && !json
}

/// Whether a file is a Terraform override file, merged into the blocks it repeats.
pub fn is_override_file(repo: &Repository, file: FileId) -> bool {
    let name = repo.file(file).rel_path.rsplit('/').next().unwrap_or("");
    name == "override.tf" || name.ends_with("_override.tf")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::terraform::TerraformModel;

    use crate::testing::load_repo as load;

    const MAIN: &str = r#"resource "aws_s3_bucket" "logs" {
  provider = aws.west
  bucket   = "${var.prefix}-logs"
  dynamic "rule" {
    for_each = var.rules
    content {
      id = rule.value.id
    }
  }
}
locals {
  name = upper(var.prefix)
}
moved {
  from = aws_s3_bucket.old
  to   = aws_s3_bucket.logs
}
"#;

    #[test]
    fn sites_stop_at_the_nesting_limit() {
        // 70 nested blocks, an attribute in each: the top-level block's and those of the
        // 64 nested levels below it are sites, the deeper ones are not walked.
        let mut text = String::from("resource \"x\" \"y\" {\n  a = 0\n");
        for i in 1..=70 {
            text.push_str(&format!("b{i} {{\n  a = {i}\n"));
        }
        text.push_str(&"}\n".repeat(71));
        let (_d, repo) = load(&[("main.tf", text.as_str())]);
        let model = TerraformModel::build(&repo);
        let module = model.module(model.module_at("").unwrap());
        let depths: Vec<usize> = sites(&repo, module).map(|s| s.path.len()).collect();
        assert_eq!(depths, (0..=64).collect::<Vec<_>>());
    }

    #[test]
    fn sites_say_where_each_expression_is_and_what_it_refers_to() {
        let (_d, repo) = load(&[
            ("main.tf", MAIN),
            ("variables.tf", "variable \"prefix\" {}\n"),
        ]);
        let model = TerraformModel::build(&repo);
        let module = model.module(model.module_at("").unwrap());
        assert!(complete(&repo, module));
        let sites: Vec<_> = sites(&repo, module).collect();
        let keys: Vec<(&str, Vec<&str>, &str)> = sites
            .iter()
            .map(|s| (s.top.ident(), s.path.clone(), s.key))
            .collect();
        assert_eq!(
            keys,
            [
                ("resource", vec![], "provider"),
                ("resource", vec![], "bucket"),
                ("resource", vec!["dynamic"], "for_each"),
                ("resource", vec!["dynamic", "content"], "id"),
                ("locals", vec![], "name"),
                ("moved", vec![], "from"),
                ("moved", vec![], "to"),
            ]
        );
        let bucket = &sites[1];
        assert_eq!(bucket.address(), "aws_s3_bucket.logs");
        let refs = bucket.references();
        assert_eq!(refs.len(), 1);
        assert_eq!(
            (refs[0].root.as_str(), refs[0].attrs[0].as_str()),
            ("var", "prefix")
        );
        assert!(
            sites[0].holds_no_references(),
            "provider = is not a reference"
        );
        assert_eq!(sites[3].iterators, ["rule"]);
        assert_eq!(sites[4].address(), "local.name");
        assert_eq!(sites[4].function_calls()[0].name, "upper");
        assert!(sites[5].holds_no_references());
        let text = &repo.file(sites[1].file).text;
        assert_eq!(
            &text[sites[1].value_range().unwrap()],
            "\"${var.prefix}-logs\""
        );
    }

    #[test]
    fn outlines_give_labels_attributes_and_ranges() {
        let (_d, repo) = load(&[("main.tf", MAIN)]);
        let model = TerraformModel::build(&repo);
        let module = model.module(model.module_at("").unwrap());
        let text = &repo.file(module.files[0]).text;
        let b = &module.blocks[0];
        let view = block(&model, &repo, b.at).unwrap();
        assert_eq!(view.ident(), "resource");
        assert_eq!(view.label(1), Some("logs"));
        assert_eq!(&text[view.label_range(0).unwrap()], "\"aws_s3_bucket\"");
        assert_eq!(block_address(view), "aws_s3_bucket.logs");
        let provider = view.body().attribute("provider").unwrap();
        assert_eq!(provider.root_name(), Some("aws"));
        assert_eq!(&text[provider.key_range().unwrap()], "provider");
        let dynamic = view.body().blocks().next().unwrap();
        assert_eq!(
            (dynamic.ident(), dynamic.label(0)),
            ("dynamic", Some("rule"))
        );
        let moved = module
            .blocks
            .iter()
            .find(|b| b.kind == crate::model::terraform::BlockKind::Moved)
            .unwrap();
        let to = block(&model, &repo, moved.at)
            .unwrap()
            .body()
            .attribute("to")
            .unwrap()
            .config_address()
            .unwrap();
        assert_eq!(to.local_address().as_deref(), Some("aws_s3_bucket.logs"));
    }

    #[test]
    fn a_module_with_json_configuration_or_a_broken_file_is_not_complete() {
        let (_d, repo) = load(&[
            ("a/main.tf", "locals {\n  x = 1\n}\n"),
            ("a/extra.tf.json", "{}\n"),
            ("b/main.tf", "locals {\n  x = 1\n}\n"),
            ("b/broken.tf", "locals {\n"),
            ("c/main.tf", "locals {\n  x = 1\n}\n"),
            ("c/x_override.tf", "locals {\n  x = 2\n}\n"),
        ]);
        let model = TerraformModel::build(&repo);
        let module = |d: &str| model.module(model.module_at(d).unwrap());
        assert!(!complete(&repo, module("a")));
        assert!(!complete(&repo, module("b")));
        assert!(complete(&repo, module("c")));
        let c = module("c");
        let overrides: Vec<bool> = c
            .files
            .iter()
            .map(|f| is_override_file(&repo, *f))
            .collect();
        assert_eq!(overrides.iter().filter(|o| **o).count(), 1);
    }
}
