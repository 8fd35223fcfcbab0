//! Unix seconds as UTC calendar text, without a date library: reports only ever print UTC.

/// `2024-05-01 12:34 UTC`.
pub fn datetime(unix: i64) -> String {
    let (y, m, d) = civil(unix.div_euclid(86_400));
    let s = unix.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        s / 3600,
        s % 3600 / 60
    )
}

/// `2024-05-01T12:34:56`: the form JUnit's `timestamp` attribute takes (UTC, no zone).
pub fn iso(unix: i64) -> String {
    let (y, m, d) = civil(unix.div_euclid(86_400));
    let s = unix.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// `05-01 12:34`: short, for chart axes.
pub fn short(unix: i64) -> String {
    let (_, m, d) = civil(unix.div_euclid(86_400));
    let s = unix.rem_euclid(86_400);
    format!("{m:02}-{d:02} {:02}:{:02}", s / 3600, s % 3600 / 60)
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's `civil_from_days`.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_dates() {
        assert_eq!(super::datetime(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::datetime(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(
            super::datetime(1_391_212_800 + 3_723),
            "2014-02-01 01:02 UTC"
        );
        assert_eq!(super::iso(1_714_566_845), "2024-05-01T12:34:05");
        assert_eq!(super::short(1_714_566_840), "05-01 12:34");
    }
}
