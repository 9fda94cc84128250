//! Snapshot tests: every file under `derivations/` (and the verdict data
//! under `tests/data/`) is checked and its human and JSON reports compared
//! with the reviewed snapshots in `snapshots/` (`cargo insta review`).
//! Snapshots hold rendered reports, never the process's stdout.

use crate::common;

use derive_check::config::Config;

/// The fixture's human and JSON reports against its reviewed snapshots
/// (`snapshots/{prefix}{stem}.human` and `.json`).
pub fn fixture(path: &std::path::Path, prefix: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(common::root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let (human, json) = common::render(common::check_file(path, &Config::default()), 1);
        insta::assert_snapshot!(format!("{prefix}{stem}.human"), human);
        insta::assert_snapshot!(format!("{prefix}{stem}.json"), json);
    });
}
