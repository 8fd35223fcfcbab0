//! Prints the case of a seed up to its divergence, and the diff (developer aid).
use cgdiff_engine::{gen, oracle};
fn main() {
    let seed: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut buf = Vec::new();
    gen::seeded_bytes(seed, 512, &mut buf);
    let mut case = gen::from_bytes(&buf, 64);
    let r = oracle::run(&case, true);
    if let Some(d) = r.verdict.divergence() {
        case.ops.truncate(d.op_index + 1);
    }
    if let Some(d) = r.verdict.divergence() {
        println!("bucket {} signature {}", d.bucket.name(), d.signature);
    }
    print!("{}", cgdiff_engine::format::print(&case));
    println!("{:?}", case.setup);
    for (i, op) in case.ops.iter().enumerate() {
        println!("{i}: {:?} {:?}", op.op, op.faults);
        if let Some(t) = r.trace.get(i) {
            if i + 1 == case.ops.len() {
                for m in 0..2 {
                    println!("   [{}] {:?}", m, t.outcomes[m]);
                    for s in &t.steps[m] {
                        println!("       {s}");
                    }
                }
            } else {
                println!("   -> {:?}", t.outcomes);
            }
        }
    }
    if let Some(d) = r.verdict.divergence() {
        println!("{}\n{}", d.signature, d.detail.as_ref().unwrap().diff);
    }
}
