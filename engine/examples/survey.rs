//! Runs N seeded cases through the oracle and tallies signatures (a quick look for developers).
use cgdiff_engine::{gen, oracle};
use std::collections::BTreeMap;
fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10000);
    let mut sigs: BTreeMap<String, (u64, Option<&str>, usize, u64)> = BTreeMap::new();
    let mut buf = Vec::new();
    let mut ops = 0;
    let t = std::time::Instant::now();
    for seed in 0..n {
        gen::seeded_bytes(seed, 512, &mut buf);
        let case = gen::from_bytes(&buf, 64);
        let r = oracle::check(&case);
        ops += r.ops_executed;
        if let Some(d) = r.verdict.divergence() {
            let e = sigs
                .entry(d.signature.clone())
                .or_insert((0, d.rule, usize::MAX, seed));
            e.0 += 1;
            if d.op_index < e.2 {
                e.2 = d.op_index;
                e.3 = seed;
            }
        }
    }
    let el = t.elapsed().as_secs_f64();
    for (s, (c, r, len, seed)) in &sigs {
        println!("{c:7} {s}  rule={r:?} shortest_at={len} seed={seed}");
    }
    println!(
        "{} cases, {} ops, {:.0} ops/s, {} signatures",
        n,
        ops,
        ops as f64 / el,
        sigs.len()
    );
}
