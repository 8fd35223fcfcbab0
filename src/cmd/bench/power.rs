//! `cgdiff bench power`: for each planted bug, K independent seeded trials of each finder with a
//! time budget; time to find (censored at the budget), hit rate, minimised case length, the
//! ratio of the medians and the Vargha–Delaney A12 effect size. docs/benchmarks.md explains
//! the figures; `hunt.rs` defines "found" and the finders.

use anyhow::Result;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
#[command(
    after_help = "Needs the planted bugs, which the normal build leaves out:\n  \
    cargo run --release --features planted-bugs -- bench power --tier shallow\n  \
    cargo run --release --features planted-bugs -- bench power --tier deep --trials 3 --budget 20s\n  \
    cargo run --release --features planted-bugs -- bench power --bugs finish-forgets-put --finders cgdiff\n\
    The libFuzzer finders need the planted-bug build of the fuzz target first:\n  \
    scripts/fuzz-build.sh --planted"
)]
pub struct Args {
    /// Independent seeded trials per bug and finder.
    #[arg(long, default_value_t = 10)]
    pub trials: u32,
    /// Which tier of planted bugs: shallow, deep, or all (ignored when --bugs names bugs).
    #[arg(long, default_value = "all")]
    pub tier: String,
    /// Time budget of one trial (e.g. 10s, 500ms); a bug not found by then is censored.
    /// Default: 10 s for a shallow bug, 60 s for a deep one.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub budget: Option<Duration>,
    /// Only these planted bugs (comma-separated names; default: those of --tier).
    #[arg(long, value_delimiter = ',')]
    pub bugs: Vec<String>,
    /// Which finders to run (comma-separated: cgdiff, proptest, libfuzzer (from an empty
    /// corpus), libfuzzer-seeded (from the case files of examples/), and cgdiff's campaign
    /// with parts of its learning on (`cgdiff fuzz --learn`): cgdiff-swarm (swarm),
    /// cgdiff-corpus (swarm and corpus mutants), cgdiff-learn (all: splicing too)).
    #[arg(long, value_delimiter = ',', default_value = "cgdiff,proptest")]
    pub finders: Vec<String>,
    /// The planted-bug build of the `differential` fuzz target (default: where
    /// `scripts/fuzz-build.sh --planted` puts it).
    #[arg(long)]
    pub libfuzzer_bin: Option<std::path::PathBuf>,
    /// Operations per case at most: cgdiff's generator, and proptest's sequences (1 to this).
    /// (libFuzzer decodes its inputs as the fuzz target does: at most 48.)
    #[arg(long, default_value_t = 64)]
    pub max_ops: usize,
    /// Seed the trial seeds derive from.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Trials run at once, each on its own thread (1: one trial at a time, nothing else
    /// competing with it for the machine).
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
}

#[cfg(not(feature = "planted-bugs"))]
pub fn run(_a: Args) -> Result<ExitCode> {
    eprintln!(
        "cgdiff: error: `bench power` needs the planted bugs, which this build leaves out \
         (the normal build has no way to switch a bug on).\nBuild with the feature and run \
         it again:\n  cargo run --release --features planted-bugs -- bench power"
    );
    Ok(ExitCode::from(super::super::EXIT_BAD_INPUT))
}

#[cfg(feature = "planted-bugs")]
pub fn run(a: Args) -> Result<ExitCode> {
    with_feature::run(a)
}

#[cfg(feature = "planted-bugs")]
mod with_feature {
    use super::super::hunt::{self, Trial};
    use super::super::stats::{self, Time};
    use super::Args;
    use crate::campaign::Learning;
    use anyhow::{bail, Result};
    use cgdiff_engine::planted::{Bug, Tier};
    use std::collections::BTreeMap;
    use std::process::ExitCode;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;

    #[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
    enum Finder {
        Cgdiff,
        /// cgdiff's campaign with parts of its learning switched on (the ablations of
        /// docs/benchmarks.md): compared with the other finders like `cgdiff`, never a rival.
        CgdiffSwarm,
        CgdiffCorpus,
        CgdiffLearn,
        Proptest,
        Libfuzzer,
        LibfuzzerSeeded,
    }

    impl Finder {
        const ALL: [Finder; 7] = [
            Finder::Cgdiff,
            Finder::CgdiffSwarm,
            Finder::CgdiffCorpus,
            Finder::CgdiffLearn,
            Finder::Proptest,
            Finder::Libfuzzer,
            Finder::LibfuzzerSeeded,
        ];

        fn name(self) -> &'static str {
            match self {
                Finder::Cgdiff => "cgdiff",
                Finder::CgdiffSwarm => "cgdiff-swarm",
                Finder::CgdiffCorpus => "cgdiff-corpus",
                Finder::CgdiffLearn => "cgdiff-learn",
                Finder::Proptest => "proptest",
                Finder::Libfuzzer => "libfuzzer",
                Finder::LibfuzzerSeeded => "libfuzzer-seeded",
            }
        }

        /// The learning a cgdiff finder runs with (`None`: not a cgdiff finder).
        fn learning(self) -> Option<Learning> {
            let l = |swarm, corpus, splice| {
                Some(Learning {
                    swarm,
                    corpus,
                    splice,
                })
            };
            match self {
                Finder::Cgdiff => Some(Learning::default()),
                Finder::CgdiffSwarm => l(true, false, false),
                Finder::CgdiffCorpus => l(true, true, false),
                Finder::CgdiffLearn => Some(Learning::ALL),
                _ => None,
            }
        }
    }

    /// One finder's trials on one bug, summarised.
    #[derive(serde::Serialize)]
    struct Side {
        hits: usize,
        trials: usize,
        /// Median time to find (s); `None` when censored (half or more not found).
        median_s: Option<f64>,
        /// Median operations of the minimised/shrunk cases, over the hits.
        median_min_ops: Option<f64>,
        /// Median operations of the cases as found, over the hits.
        median_found_ops: Option<f64>,
        /// Median cases tried per trial (libFuzzer: inputs executed).
        median_cases: Option<f64>,
        /// Median seconds spent minimising/shrinking, over the hits.
        median_minimise_s: Option<f64>,
        runs: Vec<Trial>,
    }

    impl Side {
        fn of(runs: Vec<Trial>) -> Side {
            let hits: Vec<&Trial> = runs.iter().filter(|t| t.time.is_some()).collect();
            let f = |g: &dyn Fn(&Trial) -> Option<f64>| {
                stats::median(&hits.iter().filter_map(|t| g(t)).collect::<Vec<_>>())
            };
            Side {
                hits: hits.len(),
                trials: runs.len(),
                median_s: stats::median_time(&times(&runs)),
                median_min_ops: f(&|t| t.min_ops.map(|n| n as f64)),
                median_found_ops: f(&|t| t.found_ops.map(|n| n as f64)),
                median_cases: stats::median(
                    &runs.iter().map(|t| t.cases as f64).collect::<Vec<_>>(),
                ),
                median_minimise_s: f(&|t| t.minimise_secs),
                runs,
            }
        }
    }

    fn times(runs: &[Trial]) -> Vec<Time> {
        runs.iter().map(|t| t.time).collect()
    }

    #[derive(serde::Serialize)]
    struct BugResult {
        bug: &'static str,
        tier: &'static str,
        model: &'static str,
        budget_s: f64,
        /// One entry per finder run, under its name (`cgdiff`, `proptest`, `libfuzzer`, …).
        #[serde(flatten)]
        sides: BTreeMap<&'static str, Side>,
        /// The other finder cgdiff is compared with: the one with the shortest median
        /// (censored counting as the budget), ties to the earlier in `--finders` order.
        rival: Option<&'static str>,
        /// The rival's median time / cgdiff's.
        ratio: Option<f64>,
        /// The ratio is a lower bound: the rival's median is censored.
        ratio_is_lower_bound: bool,
        /// Vargha–Delaney A12: P(a cgdiff time < a rival time), ties 1/2.
        a12: Option<f64>,
    }

    fn budget_of(a: &Args, bug: Bug) -> Duration {
        a.budget.unwrap_or(match bug.tier() {
            Tier::Shallow => Duration::from_secs(10),
            Tier::Deep => Duration::from_secs(60),
        })
    }

    pub fn run(a: Args) -> Result<ExitCode> {
        let bugs: Vec<Bug> = if a.bugs.is_empty() {
            match a.tier.as_str() {
                "all" => Bug::ALL.to_vec(),
                t => match Tier::from_name(t) {
                    Some(t) => Bug::of_tier(t).collect(),
                    None => bail!("--tier: expected shallow, deep or all, got {t:?}"),
                },
            }
        } else {
            a.bugs
                .iter()
                .map(|n| {
                    Bug::from_name(n).ok_or_else(|| {
                        let names: Vec<&str> = Bug::ALL.iter().map(|b| b.name()).collect();
                        anyhow::anyhow!(
                            "--bugs: no planted bug {n:?} (known: {})",
                            names.join(", ")
                        )
                    })
                })
                .collect::<Result<_>>()?
        };
        let mut finders = Vec::new();
        for f in &a.finders {
            match Finder::ALL.into_iter().find(|x| x.name() == f) {
                Some(x) if !finders.contains(&x) => finders.push(x),
                Some(_) => {}
                None => {
                    let names: Vec<&str> = Finder::ALL.iter().map(|f| f.name()).collect();
                    bail!("--finders: unknown finder {f:?} ({})", names.join(", "))
                }
            }
        }
        if a.trials == 0 || a.max_ops == 0 || a.jobs == 0 || finders.is_empty() {
            bail!("--trials, --max-ops, --jobs and --finders must not be zero or empty");
        }
        let libfuzzer_bin = a
            .libfuzzer_bin
            .clone()
            .unwrap_or_else(hunt::default_libfuzzer_bin);
        if finders
            .iter()
            .any(|f| matches!(f, Finder::Libfuzzer | Finder::LibfuzzerSeeded))
            && !libfuzzer_bin.is_file()
        {
            bail!(
                "--finders libfuzzer: no fuzz target at {} (build it with \
                 `scripts/fuzz-build.sh --planted`, or give --libfuzzer-bin)",
                libfuzzer_bin.display()
            );
        }
        hunt::quiet_panics_in_cases();

        // Trials interleave the finders so that, with --jobs > 1, all meet the same load.
        let mut work = Vec::new();
        for (bi, &bug) in bugs.iter().enumerate() {
            for t in 0..a.trials {
                let seed = cgdiff_engine::world::mix(
                    a.seed ^ cgdiff_engine::world::mix(((bi as u64) << 32 | t as u64) + 1),
                );
                for &f in &finders {
                    work.push((bug, f, t, seed));
                }
            }
        }
        let results: Mutex<Vec<(Bug, Finder, u32, Trial)>> = Mutex::new(Vec::new());
        let next = AtomicUsize::new(0);
        let total = work.len();
        std::thread::scope(|s| {
            for _ in 0..a.jobs.min(total) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&(bug, f, t, seed)) = work.get(i) else {
                        break;
                    };
                    let budget = budget_of(&a, bug);
                    let trial = match f {
                        Finder::Cgdiff
                        | Finder::CgdiffSwarm
                        | Finder::CgdiffCorpus
                        | Finder::CgdiffLearn => hunt::cgdiff_trial(
                            bug,
                            seed,
                            budget,
                            a.max_ops,
                            f.learning().expect("a cgdiff finder"),
                        ),
                        Finder::Proptest => hunt::proptest_trial(bug, seed, budget, a.max_ops),
                        Finder::Libfuzzer => {
                            hunt::libfuzzer_trial(&libfuzzer_bin, bug, seed, budget, false)
                        }
                        Finder::LibfuzzerSeeded => {
                            hunt::libfuzzer_trial(&libfuzzer_bin, bug, seed, budget, true)
                        }
                    };
                    eprintln!(
                        "[{:>4}/{total}] {:<38} {:<16} trial {t}: {}",
                        i + 1,
                        bug.name(),
                        f.name(),
                        match (trial.time, trial.min_ops) {
                            (Some(s), Some(n)) => format!("found in {s:.3} s, {n} ops"),
                            _ => format!("not found in {budget:?}"),
                        }
                    );
                    results.lock().unwrap().push((bug, f, t, trial));
                });
            }
        });
        let mut results = results.into_inner().unwrap();
        results.sort_by_key(|r| r.2);
        let table: Vec<BugResult> = bugs
            .iter()
            .map(|&bug| {
                let budget = budget_of(&a, bug).as_secs_f64();
                let sides: BTreeMap<&'static str, Side> = finders
                    .iter()
                    .map(|&f| {
                        let runs = results
                            .iter()
                            .filter(|r| r.0 == bug && r.1 == f)
                            .map(|r| r.3.clone())
                            .collect();
                        (f.name(), Side::of(runs))
                    })
                    .collect();
                let rank = |s: &Side| s.median_s.unwrap_or(f64::INFINITY);
                let rival = finders
                    .iter()
                    .filter(|&&f| f.learning().is_none())
                    .map(|f| f.name())
                    .min_by(|x, y| rank(&sides[x]).total_cmp(&rank(&sides[y])));
                let (ratio, lower, a12) = match (sides.get("cgdiff"), rival.map(|r| &sides[r])) {
                    (Some(c), Some(r)) => {
                        let (ratio, lower) = stats::ratio(c.median_s, r.median_s, budget)
                            .map_or((None, false), |(x, l)| (Some(x), l));
                        (ratio, lower, stats::a12(&times(&c.runs), &times(&r.runs)))
                    }
                    _ => (None, false, None),
                };
                BugResult {
                    bug: bug.name(),
                    tier: bug.tier().name(),
                    model: bug.design(),
                    budget_s: budget,
                    sides,
                    rival,
                    ratio,
                    ratio_is_lower_bound: lower,
                    a12,
                }
            })
            .collect();
        if a.json {
            println!(
                "{}",
                serde_json::json!({
                    "trials": a.trials, "budget_s": a.budget.map(|b| b.as_secs_f64()),
                    "max_ops": a.max_ops, "seed": a.seed, "jobs": a.jobs,
                    "finders": finders.iter().map(|f| f.name()).collect::<Vec<_>>(),
                    "found": "the verdict with the bug planted differs from the verdict \
                              without it (agree vs diverge, or first divergent operation, \
                              or signature)",
                    "bugs": table,
                })
            );
        } else {
            print_table(&a, &finders, &table);
        }
        Ok(ExitCode::SUCCESS)
    }

    fn secs(t: Option<f64>, budget: f64) -> String {
        match t {
            Some(s) if s < 0.01 => format!("{:.1}ms", s * 1000.0),
            Some(s) if s < 1.0 => format!("{:.0}ms", s * 1000.0),
            Some(s) => format!("{s:.2}s"),
            None => format!(">{budget}s"),
        }
    }

    fn num(v: Option<f64>) -> String {
        v.map_or("-".to_string(), |v| format!("{v}"))
    }

    fn print_table(a: &Args, finders: &[Finder], table: &[BugResult]) {
        println!(
            "cgdiff bench power: {} trials per bug and finder, budget {} each, max {} ops, \
             seed {}, {} trial(s) at a time",
            a.trials,
            a.budget
                .map_or("10 s (shallow) / 60 s (deep)".to_string(), |b| format!(
                    "{} s",
                    b.as_secs_f64()
                )),
            a.max_ops,
            a.seed,
            a.jobs
        );
        println!(
            "found = the verdict with the bug planted differs from the verdict without it; \
             times censored at the budget; ratio and A12: cgdiff against the rival (the other \
             finder with the shortest median)"
        );
        println!();
        let mut head = "| bug | tier | model |".to_string();
        let mut rule = "|---|---|---|".to_string();
        for f in finders {
            let ops = if *f == Finder::Proptest {
                "shrunk ops"
            } else {
                "min ops"
            };
            head += &format!(" {0} hits | {0} median | {0} {ops} |", f.name());
            rule += "---|---|---|";
        }
        if finders.len() > 1 && finders.contains(&Finder::Cgdiff) {
            head += " rival | ratio | A12 |";
            rule += "---|---|---|";
        }
        println!("{head}");
        println!("{rule}");
        for r in table {
            let mut line = format!("| {} | {} | {} |", r.bug, r.tier, r.model);
            for f in finders {
                let s = &r.sides[f.name()];
                line += &format!(
                    " {}/{} | {} | {} |",
                    s.hits,
                    s.trials,
                    secs(s.median_s, r.budget_s),
                    num(s.median_min_ops)
                );
            }
            if finders.len() > 1 && finders.contains(&Finder::Cgdiff) {
                let ratio = match r.ratio {
                    Some(x) if r.ratio_is_lower_bound => format!(">{x:.0}×"),
                    Some(x) if x >= 10.0 => format!("{x:.0}×"),
                    Some(x) => format!("{x:.1}×"),
                    None => "-".into(),
                };
                let a12 = r.a12.map_or("-".into(), |x| format!("{x:.2}"));
                line += &format!(" {} | {ratio} | {a12} |", r.rival.unwrap_or("-"));
            }
            println!("{line}");
        }
        println!();
        for f in finders {
            let sides: Vec<&Side> = table.iter().map(|r| &r.sides[f.name()]).collect();
            println!(
                "{} found {} of {} bugs in every trial; {} of {} trials in all",
                f.name(),
                sides.iter().filter(|s| s.hits == s.trials).count(),
                sides.len(),
                sides.iter().map(|s| s.hits).sum::<usize>(),
                sides.iter().map(|s| s.trials).sum::<usize>()
            );
        }
        if finders.len() > 1 && finders.contains(&Finder::Cgdiff) {
            let fast = table
                .iter()
                .filter(|r| r.ratio.is_some_and(|x| x >= 5.0))
                .count();
            let shorter = table
                .iter()
                .filter(|r| {
                    let c = r.sides["cgdiff"].median_min_ops;
                    let others: Vec<f64> = r
                        .sides
                        .iter()
                        .filter(|(n, _)| !n.starts_with("cgdiff"))
                        .filter_map(|(_, s)| s.median_min_ops)
                        .collect();
                    match c {
                        Some(c) => others.iter().all(|&o| c <= o),
                        None => false,
                    }
                })
                .count();
            println!(
                "median time ratio against the rival >= 5x on {fast} of {} bugs; cgdiff's \
                 minimised cases no longer than every other finder's (medians) on {shorter} of {}",
                table.len(),
                table.len()
            );
        }
    }
}
