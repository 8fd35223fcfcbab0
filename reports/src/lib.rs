//! Nightly reports of a cgdiff case store.
//!
//! A CI job ends with a database; people need to know, without running anything, what is new,
//! what still reproduces, what got fixed and what came back, and machines need the same facts
//! to fail the job or to feed a dashboard. [`build`] reads a [`Store`] once into a [`Report`]
//! (serde-serialisable; its JSON form is `report.json`, schema in `docs/report-format.md`);
//! four renderings read only that model:
//!
//! - `index.html` from [`html::render`]: one self-contained page (inline CSS and SVG, no
//!   script, no network): totals, signatures by status, charts, model coverage, every minimal
//!   case with its explanation;
//! - `junit.xml` from [`junit::render`]: one test case per signature;
//! - `summary.md` from [`markdown::render`]: a digest for a CI job summary;
//! - `report.json` from [`json()`]: the model itself.
//!
//! Every text that comes from the store goes through [`escape`].

mod error;
pub mod escape;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod svg;
pub mod time;

pub use cgdiff_corpus::Store;
pub use error::ReportError;
pub use model::{build, build_for, Options, Report, Status, SCHEMA_VERSION};

use std::path::{Path, PathBuf};

/// `report.json`: the whole model, pretty-printed (people read it in CI artifacts too).
pub fn json(r: &Report) -> Result<String, ReportError> {
    Ok(serde_json::to_string_pretty(r)? + "\n")
}

/// The file names [`write_all`] writes, in the order it writes them.
pub const FILES: [&str; 4] = ["index.html", "junit.xml", "summary.md", "report.json"];

/// Writes the four renderings of `r` into `dir` (created if missing) and returns their paths.
///
/// Each file is written to a temporary name and renamed, so a job killed half-way never leaves
/// a truncated report that looks complete.
pub fn write_all(r: &Report, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        context: "creating the report folder",
        source,
    })?;
    let contents = [
        html::render(r),
        junit::render(r),
        markdown::render(r),
        json(r)?,
    ];
    let mut paths = Vec::with_capacity(FILES.len());
    for (name, text) in FILES.iter().zip(contents) {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).map_err(|source| ReportError::Io {
            path: tmp.clone(),
            context: "writing",
            source,
        })?;
        std::fs::rename(&tmp, &path).map_err(|source| ReportError::Io {
            path: path.clone(),
            context: "renaming into place",
            source,
        })?;
        paths.push(path);
    }
    Ok(paths)
}
