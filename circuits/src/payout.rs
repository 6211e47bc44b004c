//! The payout rule: `payout = floor(revenue * claimed_weight / total_weight)`, with
//! `rem = revenue * claimed_weight - payout * total_weight`, so `0 <= rem < total_weight`.
//!
//! Invariant: computed in `u128`, where `revenue * claimed_weight < 2^128` cannot overflow; the
//! circuit proves the same relation in the field, where every term is range-checked to 64 bits
//! so that nothing wraps.

/// The payout and remainder of a claim, or `None` if `total_weight` is 0 or the claim's weight
/// exceeds the total (the payout would then not fit the protocol's bounds).
pub fn payout(revenue: u64, claimed_weight: u64, total_weight: u64) -> Option<(u64, u64)> {
    if total_weight == 0 || claimed_weight > total_weight {
        return None;
    }
    let product = revenue as u128 * claimed_weight as u128;
    let total = total_weight as u128;
    // claimed <= total, so product / total <= revenue < 2^64.
    Some(((product / total) as u64, (product % total) as u64))
}

#[cfg(test)]
mod tests {
    use super::payout;

    #[test]
    fn floors_and_reports_the_remainder() {
        assert_eq!(payout(1000, 1, 3), Some((333, 1)));
        assert_eq!(payout(u64::MAX, u64::MAX, u64::MAX), Some((u64::MAX, 0)));
        assert_eq!(payout(10, 0, 5), Some((0, 0)));
        assert_eq!(payout(10, 6, 5), None);
        assert_eq!(payout(10, 0, 0), None);
    }
}
