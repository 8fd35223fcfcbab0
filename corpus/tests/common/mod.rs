//! Helpers shared by the store's integration tests.
#![allow(dead_code)]

use cgdiff_corpus::{FoundBy, NewCase};
use std::path::{Path, PathBuf};

/// A fresh, empty directory under cargo's per-target temp dir, removed on drop. Named after
/// the test and the process so that parallel tests and child processes never share one.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("cgdiff-corpus-tests")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating a test directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A case of `ops` operations under `signature`; `tag` makes its text distinct.
pub fn case(signature: &str, ops: u32, tag: &str) -> NewCase {
    let mut text = format!("# {tag}\n");
    for i in 0..ops {
        text.push_str(&format!("op{i} migrate pid={i} to=/a\n"));
    }
    NewCase {
        text,
        bytes: Some(tag.as_bytes().to_vec()),
        signature: signature.to_string(),
        classes: vec!["placement".to_string(), "events".to_string()],
        rule: None,
        bucket: String::new(),
        first_op: ops.saturating_sub(1),
        ops,
        minimised_from: None,
        found_by: FoundBy::Campaign,
        run_id: None,
        tool_version: "0.1.0-test".to_string(),
        git_commit: Some("0123456789abcdef".to_string()),
    }
}

/// Every file in `dir` with its bytes, sorted by name.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("listing a test directory")
        .map(|e| {
            let e = e.expect("reading a directory entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("reading a test file"),
            )
        })
        .collect();
    files.sort();
    files
}
