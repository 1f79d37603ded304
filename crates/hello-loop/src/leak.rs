//! `--leak SIZE`: after every line, SIZE more memory, written to so that it is really used (the
//! kernel gives a page only when it is first touched) and kept for good: the resident size grows
//! until a memory limit ends the program (OOMKilled, exit 137).

/// The most one step may take: more is surely a typo, and a step this big already fills a
/// small node in a few lines.
pub const MAX: u64 = 1 << 30;

const SIZE_FORM: &str =
    "expected a size from 1 to 1Gi: a number of bytes, or one with Ki, Mi or Gi (4Mi, 512Ki)";

/// The `--leak` value: `N`, `NKi`, `NMi` or `NGi` bytes (powers of 1024), from 1 byte to 1Gi.
pub fn size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let shift = match unit {
        "" => 0,
        "Ki" => 10,
        "Mi" => 20,
        "Gi" => 30,
        _ => return Err(format!("not a size; {SIZE_FORM}")),
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("not a size; {SIZE_FORM}"))?;
    match number.checked_mul(1 << shift) {
        Some(0) => Err(format!("must be at least 1 byte; {SIZE_FORM}")),
        Some(bytes) if bytes <= MAX => Ok(bytes),
        _ => Err(format!("more than 1Gi; {SIZE_FORM}")),
    }
}

/// The memory taken so far.
pub struct Leak {
    step: usize,
    kept: Vec<Vec<u8>>,
    total: u64,
    /// Whether the last step failed: said once, not at every line.
    failing: bool,
}

impl Leak {
    pub fn new(step: u64) -> Self {
        Leak {
            step: usize::try_from(step).unwrap_or(usize::MAX),
            kept: Vec::new(),
            total: 0,
            failing: false,
        }
    }

    /// Takes one more step of memory and touches every page of it. An allocation refused (an
    /// address-space limit; a memory cgroup does not refuse, its OOM killer ends the process) is
    /// logged, and tried again at the next line.
    pub fn grow(&mut self) {
        let mut block = Vec::new();
        if block.try_reserve_exact(self.step).is_err() {
            if !self.failing {
                tracing::warn!(
                    total_bytes = self.total,
                    step_bytes = self.step,
                    "cannot allocate more memory; trying again after the next line"
                );
                self.failing = true;
            }
            return;
        }
        self.failing = false;
        // Every byte written, so every page is resident; not with zeros, which the compiler may
        // turn into calloc(3), whose fresh pages stay untouched.
        block.resize(self.step, 0xa5);
        std::hint::black_box(&mut block);
        self.total += self.step as u64;
        self.kept.push(block);
        tracing::info!(total_bytes = self.total, "leaked");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_iec_from_one_byte_to_a_gibibyte() {
        assert_eq!(size("1"), Ok(1));
        assert_eq!(size("4Mi"), Ok(4 << 20));
        assert_eq!(size("512Ki"), Ok(512 << 10));
        assert_eq!(size("1Gi"), Ok(MAX));
        assert_eq!(size(" 3 "), Ok(3));
        for (bad, why) in [
            ("0", "at least 1 byte"),
            ("0Mi", "at least 1 byte"),
            ("2Gi", "more than 1Gi"),
            ("1073741825", "more than 1Gi"),
            ("99999999999999999999Gi", "not a size"),
            ("4M", "not a size"),
            ("4MB", "not a size"),
            ("4 Mi", "not a size"),
            ("-1", "not a size"),
            ("1.5Mi", "not a size"),
            ("Mi", "not a size"),
            ("", "not a size"),
            ("lots", "not a size"),
        ] {
            let err = size(bad).unwrap_err();
            assert!(
                err.contains(why) && err.contains("1 to 1Gi"),
                "{bad:?}: {err}"
            );
        }
    }
}
