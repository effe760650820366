//! The load generator's own CPU time, from `/proc/self/stat` (Linux; `None`
//! elsewhere): user + system time of every thread of the process.

use std::time::Duration;

/// `/proc` reports times in clock ticks of `USER_HZ`, which the kernel fixes at 100
/// for userspace on every architecture (`man 5 proc`, `sysconf(_SC_CLK_TCK)`).
const USER_HZ: u64 = 100;

/// CPU time this process has used so far.
pub fn process_cpu() -> Option<Duration> {
    parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// `utime` + `stime` (fields 14 and 15) of a `/proc/<pid>/stat` line. The command
/// name (field 2) is in parentheses and may hold spaces, so fields are counted from
/// after its closing parenthesis.
pub fn parse_stat(stat: &str) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace().skip(11); // field 3 is the first
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 1000 / USER_HZ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines() {
        let line = "4242 (sluice loadgen) S 1 4242 4242 0 -1 4194560 1000 0 0 0 \
                    150 25 0 0 20 0 3 0 100 1000000 500 18446744073709551615";
        assert_eq!(parse_stat(line), Some(Duration::from_millis(1750)));
        assert_eq!(parse_stat("garbage"), None);
        if cfg!(target_os = "linux") {
            assert!(process_cpu().is_some());
        }
    }
}
