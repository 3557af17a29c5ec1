//! Every component of the product manifest (`spin.toml` at the root) must have
//! an end-to-end test module `tests/e2e/functions/<component>.rs`.

use crate::common::repo_root;
use cloudfn_manifest::Manifest;

#[test]
fn every_product_component_has_an_end_to_end_test() {
    let root = repo_root();
    let manifest = Manifest::load(&root.join("spin.toml")).expect("root spin.toml is valid");
    let missing: Vec<String> = manifest
        .components
        .keys()
        .filter(|id| {
            let file = root.join(format!("tests/e2e/functions/{}.rs", id.replace('-', "_")));
            !std::fs::read_to_string(file).is_ok_and(|text| text.contains(id.as_str()))
        })
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "components without an end-to-end test in tests/e2e/functions/: {missing:?}"
    );
}
