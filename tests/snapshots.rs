//! Snapshot tests: every file under `derivations/` (and the verdict data
//! under `tests/data/`) is checked and its human and JSON reports compared
//! with the reviewed snapshots in `snapshots/` (`cargo insta review`).
//! Snapshots hold rendered reports, never the process's stdout.

mod common;

use derive_check::config::Config;

fn snapshot_folder(folder: &str, prefix: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(common::root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let files = common::toml_files(&common::root().join(folder));
    assert!(!files.is_empty(), "{folder} holds no derivation files");
    settings.bind(|| {
        for path in files {
            let stem = path.file_stem().unwrap().to_string_lossy().to_string();
            let (human, json) = common::render(common::check_file(&path, &Config::default()), 1);
            insta::assert_snapshot!(format!("{prefix}{stem}.human"), human);
            insta::assert_snapshot!(format!("{prefix}{stem}.json"), json);
        }
    });
}

#[test]
fn derivations_reports() {
    snapshot_folder("derivations", "");
}

#[test]
fn test_data_reports() {
    snapshot_folder("tests/data", "data-");
}
