//! Fitting a bulletin to its slot: how far the programme is over or under
//! its target, and — when the slot asks for it — which items to leave out.
//! Editor order is the rank: the last items go first, always whole items, so
//! nothing is ever cut mid-sentence. The top item always stays.

use std::time::Duration;

use serde::Serialize;

/// Where a programme lands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Within,
    Over,
    Under,
}

/// The programme length against the slot's target and tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    pub total: Duration,
    pub target: Duration,
    pub tolerance: Duration,
}

impl Fit {
    /// Positive when over the target, negative when under, in milliseconds.
    pub fn difference_ms(&self) -> i64 {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        ms(self.total) - ms(self.target)
    }

    pub fn verdict(&self) -> Verdict {
        if self.total > self.target + self.tolerance {
            Verdict::Over
        } else if self.total + self.tolerance < self.target {
            Verdict::Under
        } else {
            Verdict::Within
        }
    }

    /// "over by 1:23", "under by 0:40", "within 0:12 of the target" — for logs.
    pub fn describe(&self) -> String {
        let diff = self.difference_ms().unsigned_abs();
        let clock = crate::script::clock(Duration::from_millis(diff));
        match self.verdict() {
            Verdict::Over => format!("over the target by {clock}"),
            Verdict::Under => format!("under the target by {clock}"),
            Verdict::Within => format!("within tolerance ({clock} from the target)"),
        }
    }
}

/// The length of a programme: `fixed` (jingles, greeting, sign-off and the
/// gaps around them) plus the items with a pause between each two.
pub fn total(fixed: Duration, items: &[Duration], pause_between_items: Duration) -> Duration {
    let pauses =
        pause_between_items * u32::try_from(items.len().saturating_sub(1)).unwrap_or(u32::MAX);
    fixed + items.iter().sum::<Duration>() + pauses
}

/// How many of the items, in rank order, to keep so the programme ends no
/// later than target + tolerance. Never fewer than one.
pub fn keep(
    fixed: Duration,
    items: &[Duration],
    pause_between_items: Duration,
    target: Duration,
    tolerance: Duration,
) -> usize {
    let limit = target + tolerance;
    let mut kept = items.len();
    while kept > 1 && total(fixed, &items[..kept], pause_between_items) > limit {
        kept -= 1;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn reports_over_and_under() {
        let fit = Fit {
            total: s(1000),
            target: s(900),
            tolerance: s(60),
        };
        assert_eq!(fit.verdict(), Verdict::Over);
        assert_eq!(fit.difference_ms(), 100_000);
        assert_eq!(fit.describe(), "over the target by 1:40");
        let fit = Fit {
            total: s(850),
            target: s(900),
            tolerance: s(60),
        };
        assert_eq!(fit.verdict(), Verdict::Within);
        let fit = Fit {
            total: s(800),
            target: s(900),
            tolerance: s(60),
        };
        assert_eq!(fit.verdict(), Verdict::Under);
        assert_eq!(fit.difference_ms(), -100_000);
    }

    #[test]
    fn drops_the_lowest_ranked_items_first() {
        let items = [s(300), s(300), s(200), s(100)];
        // 60 fixed + 900 items + 3 × 2 pauses = 966.
        assert_eq!(total(s(60), &items, s(2)), s(966));
        assert_eq!(keep(s(60), &items, s(2), s(900), s(66)), 4);
        // 60 + 800 + 2 × 2 = 864 fits 900 + 60; all four (966) do not.
        assert_eq!(keep(s(60), &items, s(2), s(900), s(60)), 3);
        assert_eq!(keep(s(60), &items, s(2), s(800), s(0)), 2);
        assert_eq!(keep(s(60), &items, s(2), s(100), s(0)), 1);
    }

    proptest! {
        #[test]
        fn the_kept_prefix_fits_or_is_the_top_item(
            items in proptest::collection::vec(1u64..600, 1..12),
            target in 60u64..1800,
        ) {
            let items: Vec<Duration> = items.into_iter().map(s).collect();
            let kept = keep(s(30), &items, s(2), s(target), s(30));
            prop_assert!(kept >= 1 && kept <= items.len());
            let fits = total(s(30), &items[..kept], s(2)) <= s(target + 30);
            prop_assert!(fits || kept == 1);
            // Keeping one more would not fit.
            if kept < items.len() {
                prop_assert!(total(s(30), &items[..=kept], s(2)) > s(target + 30));
            }
        }
    }
}
