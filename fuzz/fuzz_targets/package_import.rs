//! BioImage Model Zoo package import: the input is the package zip (entries, sizes,
//! symlinks, the rdf.yaml inside it and the test tensors it names).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

#[path = "runtime.rs"]
mod runtime;

use libfuzzer_sys::fuzz_target;
use visual_ccc_core::model::bioimageio::import;

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("vccc-fuzz-bmz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fuzz_target!(
    // Panics the core contains (a decoder's, on a corrupt file) are errors, not crashes;
    // every other panic still aborts through libFuzzer's hook.
    init: visual_ccc_core::panics::install_panic_hook(),
    |data: &[u8]| {
    let options = runtime::options();
    let package = scratch().join("package.zip");
    let out = scratch().join("out");
    std::fs::write(&package, data).unwrap();
    let _ = import(&package, &out, &options);
    // Whatever happened, nothing may be left outside the output folder's model.
    let leftovers = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("visual-ccc-bmz-{}-", std::process::id()))
        })
        .count();
    assert_eq!(
        leftovers, 0,
        "an unpacked package was left in the temp folder"
    );
    std::fs::remove_dir_all(&out).ok();
});
