//! How much CPU the host took from this VM: the `steal` column of `/proc/stat`. On a shared
//! hypervisor it can halve a CPU-bound benchmark with no change in the code, so the report
//! says how much there was while each part was measured.

/// Cumulative jiffies of all CPUs: (total, stolen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimes {
    total: u64,
    steal: u64,
}

impl CpuTimes {
    pub fn read() -> Option<Self> {
        Self::parse(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// The aggregate `cpu` line: user nice system idle iowait irq softirq steal [guest...].
    /// Guest time is already counted in user and nice, so it is not added again.
    fn parse(stat: &str) -> Option<Self> {
        let line = stat.lines().find(|l| l.starts_with("cpu "))?;
        let fields: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .take(8)
            .map(|f| f.parse().ok())
            .collect::<Option<_>>()?;
        (fields.len() == 8).then(|| Self {
            total: fields.iter().sum(),
            steal: fields[7],
        })
    }

    /// The share of CPU time stolen between `self` and `later` (0.0 to 1.0).
    pub fn steal_since(self, later: Self) -> Option<f64> {
        let total = later.total.checked_sub(self.total)?;
        let steal = later.steal.checked_sub(self.steal)?;
        (total > 0).then(|| steal as f64 / total as f64)
    }
}

/// Steal over a phase, as the report prints it.
pub fn steal_text(before: Option<CpuTimes>, after: Option<CpuTimes>) -> String {
    match before.zip(after).and_then(|(b, a)| b.steal_since(a)) {
        Some(share) => format!("{:.0}%", share * 100.0),
        None => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steal_is_the_share_of_all_cpu_time() {
        let before = CpuTimes::parse("cpu  100 0 50 800 10 0 0 40 0 0\ncpu0 1 2 3").unwrap();
        let after = CpuTimes::parse("cpu  200 0 100 900 10 0 0 140 5 0\n").unwrap();
        // 350 jiffies passed, 100 of them stolen
        assert_eq!(steal_text(Some(before), Some(after)), "29%");
        assert_eq!(after.steal_since(before), None);
        assert_eq!(CpuTimes::parse("cpu  1 2 3\n"), None);
        assert_eq!(steal_text(None, Some(after)), "unknown");
    }
}
