//! Runs N seeded cases through the oracle and tallies buckets and signatures (a quick look for
//! developers): `cargo run --release -p cgdiff-engine --example survey 20000`.
use cgdiff_engine::{gen, oracle};
use std::collections::BTreeMap;
fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10000);
    // (bucket, signature) -> (count, shortest first divergent op, its seed)
    let mut sigs: BTreeMap<(String, String), (u64, usize, u64)> = BTreeMap::new();
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
                .entry((d.bucket.name(), d.signature.clone()))
                .or_insert((0, usize::MAX, seed));
            e.0 += 1;
            if d.op_index < e.1 {
                e.1 = d.op_index;
                e.2 = seed;
            }
        }
    }
    let el = t.elapsed().as_secs_f64();
    for ((b, s), (c, len, seed)) in &sigs {
        println!("{c:7} {b:<32} {s}  shortest_at={len} seed={seed}");
    }
    let buckets: std::collections::BTreeSet<&String> = sigs.keys().map(|(b, _)| b).collect();
    println!(
        "{} cases, {} ops, {:.0} ops/s, {} signatures in {} buckets",
        n,
        ops,
        ops as f64 / el,
        sigs.len(),
        buckets.len()
    );
}
