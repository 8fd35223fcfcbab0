//! Records the git commit the targets are built from, for the runs and cases they store, and
//! writes the tables of distinct leaf functions behind `hints::hint` (see src/hints.rs).
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
}

/// `static NAME: [fn(); N] = [leaf::<FIRST>, leaf::<FIRST + 1>, ...];`
fn leaf_table(out: &mut String, name: &str, first: usize, n: usize) {
    let _ = write!(out, "static {name}: [fn(); {n}] = [");
    for i in first..first + n {
        let _ = write!(out, "leaf::<{i}>,");
    }
    out.push_str("];\n");
}

fn main() {
    let mut tables = String::new();
    // Disjoint ranges: no two features may share a function.
    leaf_table(&mut tables, "HINT_LEAVES_TABLE", 0, 2048);
    leaf_table(&mut tables, "VERDICT_LEAVES_TABLE", 2048, 256);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("hint_tables.rs"), tables).expect("writing hint_tables.rs");
    println!("cargo:rerun-if-changed=build.rs");

    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_default();
    println!("cargo:rustc-env=CGDIFF_GIT_COMMIT={commit}");
    // Works in a linked worktree too, where .git is a file.
    for p in ["HEAD", "refs/heads"] {
        if let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", p]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
