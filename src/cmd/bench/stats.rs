//! The statistics of `cgdiff bench power`: medians of censored times and the Vargha–Delaney
//! A12 effect size. Pure functions, compiled in every build so `cargo test` checks them even
//! though the command that uses them needs the `planted-bugs` feature.

#![cfg_attr(not(feature = "planted-bugs"), allow(dead_code))]

/// A trial's time to find the bug, in seconds; `None` = censored (not found within the
/// budget). Censored times rank above every found time ("budget + ε").
pub type Time = Option<f64>;

/// Sort key: censored after every found time.
fn rank(t: Time) -> f64 {
    t.unwrap_or(f64::INFINITY)
}

/// The median of `times` (the lower middle one for an even count, as `cgdiff bench` does
/// elsewhere); `None` when the median itself is censored, i.e. at most half the trials found
/// the bug. `None` for no trials.
pub fn median_time(times: &[Time]) -> Option<f64> {
    let mut v: Vec<f64> = times.iter().map(|&t| rank(t)).collect();
    v.sort_by(f64::total_cmp);
    let m = *v.get(v.len().saturating_sub(1) / 2)?;
    m.is_finite().then_some(m)
}

/// The median of plain values (the lower middle one); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len().saturating_sub(1) / 2).copied()
}

/// Vargha–Delaney A12: the probability that a time drawn from `a` is smaller (better) than one
/// drawn from `b`, ties counting one half. Censored times are equal to each other and larger
/// than any found time. 0.5 = no difference; 1.0 = every `a` beats every `b`. `None` when
/// either side has no trials.
pub fn a12(a: &[Time], b: &[Time]) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let mut wins = 0.0;
    for &x in a {
        for &y in b {
            let (x, y) = (rank(x), rank(y));
            if x < y {
                wins += 1.0;
            } else if x == y {
                wins += 0.5;
            }
        }
    }
    Some(wins / (a.len() * b.len()) as f64)
}

/// Ratio of two medians (`b / a`: how many times longer `b` takes than `a`), when both are
/// known. When only `b`'s median is censored the ratio is at least `budget / a`; the caller
/// says so with a `>`.
pub fn ratio(a: Option<f64>, b: Option<f64>, budget: f64) -> Option<(f64, bool)> {
    match (a, b) {
        (Some(a), Some(b)) => Some((b / a.max(1e-9), false)),
        (Some(a), None) => Some((budget / a.max(1e-9), true)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_censored_times() {
        assert_eq!(median_time(&[]), None);
        assert_eq!(median_time(&[Some(3.0), Some(1.0), Some(2.0)]), Some(2.0));
        // Lower middle of an even count.
        assert_eq!(
            median_time(&[Some(4.0), Some(1.0), Some(3.0), Some(2.0)]),
            Some(2.0)
        );
        // Censored times sort last: 2 of 3 found, the median is found.
        assert_eq!(median_time(&[None, Some(5.0), Some(1.0)]), Some(5.0));
        // Half or fewer found: the median is censored.
        assert_eq!(median_time(&[None, None, Some(1.0)]), None);
        assert_eq!(median_time(&[None, Some(1.0)]), Some(1.0));
    }

    #[test]
    fn a12_counts_wins_and_half_ties() {
        assert_eq!(a12(&[Some(1.0)], &[Some(2.0)]), Some(1.0));
        assert_eq!(a12(&[Some(2.0)], &[Some(1.0)]), Some(0.0));
        assert_eq!(a12(&[Some(1.0)], &[Some(1.0)]), Some(0.5));
        // Two censored trials tie; a found time beats a censored one.
        assert_eq!(a12(&[None], &[None]), Some(0.5));
        assert_eq!(a12(&[Some(9.0)], &[None]), Some(1.0));
        assert_eq!(a12(&[Some(1.0), None], &[Some(2.0), Some(0.5)]), Some(0.25));
        assert_eq!(a12(&[], &[Some(1.0)]), None);
    }

    #[test]
    fn ratio_is_a_lower_bound_when_the_slower_side_is_censored() {
        assert_eq!(ratio(Some(2.0), Some(10.0), 10.0), Some((5.0, false)));
        assert_eq!(ratio(Some(0.5), None, 10.0), Some((20.0, true)));
        assert_eq!(ratio(None, Some(1.0), 10.0), None);
    }
}
