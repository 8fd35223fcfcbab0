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
    cargo run --release --features planted-bugs -- bench power\n  \
    cargo run --release --features planted-bugs -- bench power --trials 5 --budget 5s --json\n  \
    cargo run --release --features planted-bugs -- bench power --bugs finish-forgets-put --finders cgdiff"
)]
pub struct Args {
    /// Independent seeded trials per bug and finder.
    #[arg(long, default_value_t = 10)]
    pub trials: u32,
    /// Time budget of one trial (e.g. 10s, 500ms); a bug not found by then is censored.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    pub budget: Duration,
    /// Only these planted bugs (comma-separated names; default: all).
    #[arg(long, value_delimiter = ',')]
    pub bugs: Vec<String>,
    /// Which finders to run (comma-separated: cgdiff, proptest).
    #[arg(long, value_delimiter = ',', default_value = "cgdiff,proptest")]
    pub finders: Vec<String>,
    /// Operations per case at most: cgdiff's generator, and proptest's sequences (1 to this).
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
    use anyhow::{bail, Result};
    use cgdiff_engine::planted::Bug;
    use std::process::ExitCode;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Finder {
        Cgdiff,
        Proptest,
    }

    impl Finder {
        fn name(self) -> &'static str {
            match self {
                Finder::Cgdiff => "cgdiff",
                Finder::Proptest => "proptest",
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
        /// Median cases tried per trial.
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
        model: &'static str,
        cgdiff: Option<Side>,
        proptest: Option<Side>,
        /// proptest's median time / cgdiff's.
        ratio: Option<f64>,
        /// The ratio is a lower bound: proptest's median is censored.
        ratio_is_lower_bound: bool,
        /// Vargha–Delaney A12: P(a cgdiff time < a proptest time), ties 1/2.
        a12: Option<f64>,
    }

    pub fn run(a: Args) -> Result<ExitCode> {
        let bugs: Vec<Bug> = if a.bugs.is_empty() {
            Bug::ALL.to_vec()
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
            finders.push(match f.as_str() {
                "cgdiff" => Finder::Cgdiff,
                "proptest" => Finder::Proptest,
                other => bail!("--finders: unknown finder {other:?} (cgdiff, proptest)"),
            });
        }
        if a.trials == 0 || a.max_ops == 0 || a.jobs == 0 || finders.is_empty() {
            bail!("--trials, --max-ops, --jobs and --finders must not be zero or empty");
        }
        hunt::quiet_panics_in_cases();

        // Trials interleave the finders so that, with --jobs > 1, both meet the same load.
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
                    let trial = match f {
                        Finder::Cgdiff => hunt::cgdiff_trial(bug, seed, a.budget, a.max_ops),
                        Finder::Proptest => hunt::proptest_trial(bug, seed, a.budget, a.max_ops),
                    };
                    eprintln!(
                        "[{:>4}/{total}] {:<32} {:<8} trial {t}: {}",
                        i + 1,
                        bug.name(),
                        f.name(),
                        match (trial.time, trial.min_ops) {
                            (Some(s), Some(n)) => format!("found in {s:.3} s, {n} ops"),
                            _ => format!("not found in {:?}", a.budget),
                        }
                    );
                    results.lock().unwrap().push((bug, f, t, trial));
                });
            }
        });
        let mut results = results.into_inner().unwrap();
        results.sort_by_key(|r| r.2);
        let budget = a.budget.as_secs_f64();
        let table: Vec<BugResult> = bugs
            .iter()
            .map(|&bug| {
                let side = |f: Finder| {
                    finders.contains(&f).then(|| {
                        Side::of(
                            results
                                .iter()
                                .filter(|r| r.0 == bug && r.1 == f)
                                .map(|r| r.3.clone())
                                .collect(),
                        )
                    })
                };
                let (c, p) = (side(Finder::Cgdiff), side(Finder::Proptest));
                let (ratio, lower) = match (&c, &p) {
                    (Some(c), Some(p)) => stats::ratio(c.median_s, p.median_s, budget)
                        .map_or((None, false), |(r, l)| (Some(r), l)),
                    _ => (None, false),
                };
                let a12 = match (&c, &p) {
                    (Some(c), Some(p)) => stats::a12(&times(&c.runs), &times(&p.runs)),
                    _ => None,
                };
                BugResult {
                    bug: bug.name(),
                    model: bug.design(),
                    cgdiff: c,
                    proptest: p,
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
                    "trials": a.trials, "budget_s": budget, "max_ops": a.max_ops,
                    "seed": a.seed, "jobs": a.jobs,
                    "found": "the verdict with the bug planted differs from the verdict \
                              without it (agree vs diverge, or first divergent operation, \
                              or signature)",
                    "bugs": table,
                })
            );
        } else {
            print_table(&a, &table, budget);
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

    fn print_table(a: &Args, table: &[BugResult], budget: f64) {
        println!(
            "cgdiff bench power: {} trials per bug and finder, budget {budget} s each, \
             max {} ops, seed {}, {} trial(s) at a time",
            a.trials, a.max_ops, a.seed, a.jobs
        );
        println!(
            "found = the verdict with the bug planted differs from the verdict without it; \
             times censored at the budget"
        );
        println!();
        println!(
            "| bug | model | cgdiff hits | cgdiff median | cgdiff min ops | proptest hits | \
             proptest median | proptest shrunk ops | ratio | A12 |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        for r in table {
            let side = |s: &Option<Side>| match s {
                Some(s) => (
                    format!("{}/{}", s.hits, s.trials),
                    secs(s.median_s, budget),
                    num(s.median_min_ops),
                ),
                None => ("-".into(), "-".into(), "-".into()),
            };
            let (ch, cm, co) = side(&r.cgdiff);
            let (ph, pm, po) = side(&r.proptest);
            let ratio = match r.ratio {
                Some(x) if r.ratio_is_lower_bound => format!(">{x:.0}×"),
                Some(x) if x >= 10.0 => format!("{x:.0}×"),
                Some(x) => format!("{x:.1}×"),
                None => "-".into(),
            };
            let a12 = r.a12.map_or("-".into(), |x| format!("{x:.2}"));
            println!(
                "| {} | {} | {ch} | {cm} | {co} | {ph} | {pm} | {po} | {ratio} | {a12} |",
                r.bug, r.model
            );
        }
        let both: Vec<(&Side, &Side, &BugResult)> = table
            .iter()
            .filter_map(|r| Some((r.cgdiff.as_ref()?, r.proptest.as_ref()?, r)))
            .collect();
        if let Some(c) = table
            .iter()
            .map(|r| r.cgdiff.as_ref())
            .collect::<Option<Vec<_>>>()
        {
            let all = c.iter().filter(|s| s.hits == s.trials).count();
            println!();
            println!(
                "cgdiff found {all} of {} bugs in every trial; {} of {} trials in all",
                c.len(),
                c.iter().map(|s| s.hits).sum::<usize>(),
                c.iter().map(|s| s.trials).sum::<usize>()
            );
        }
        if let Some(p) = table
            .iter()
            .map(|r| r.proptest.as_ref())
            .collect::<Option<Vec<_>>>()
        {
            let all = p.iter().filter(|s| s.hits == s.trials).count();
            println!(
                "proptest found {all} of {} bugs in every trial; {} of {} trials in all",
                p.len(),
                p.iter().map(|s| s.hits).sum::<usize>(),
                p.iter().map(|s| s.trials).sum::<usize>()
            );
        }
        if !both.is_empty() {
            let fast = both
                .iter()
                .filter(|(_, _, r)| r.ratio.is_some_and(|x| x >= 5.0))
                .count();
            let shorter = both
                .iter()
                .filter(|(c, p, _)| match (c.median_min_ops, p.median_min_ops) {
                    (Some(c), Some(p)) => c <= p,
                    (Some(_), None) => true,
                    _ => false,
                })
                .count();
            println!(
                "median time ratio >= 5x on {fast} of {} bugs; cgdiff's minimised cases no longer \
                 than proptest's shrunk ones (medians) on {shorter} of {}",
                both.len(),
                both.len()
            );
        }
    }
}
