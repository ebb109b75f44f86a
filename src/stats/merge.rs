//! Exact merging of per-region aggregates: counts and sums add up, minima and maxima
//! compare, and a mean is computed once at the end from the merged sum and count, never as
//! a mean of the regions' means. Pure, so it is tested without a database.

use serde::Serialize;
use std::collections::BTreeMap;

/// Sums, counts and extremes of one group.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Acc {
    pub count: i64,
    pub sum: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Acc {
    pub fn add(&mut self, other: &Acc) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = pick(self.min, other.min, f64::min);
        self.max = pick(self.max, other.max, f64::max);
    }

    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}

fn pick(a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(f(x, y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// One group of an answer: the dimensions asked for, and the numbers.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Group {
    /// Dimension name to value, only for the dimensions in `group_by`.
    #[serde(flatten)]
    pub by: BTreeMap<String, String>,
    pub count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// Rolls rows (all dimensions) up to the dimensions in `keep`, in their order.
pub fn roll_up(
    rows: &[(BTreeMap<String, String>, Acc)],
    keep: &[&str],
    with_values: bool,
) -> Vec<Group> {
    let mut groups: BTreeMap<Vec<String>, Acc> = BTreeMap::new();
    for (dims, acc) in rows {
        let key = keep
            .iter()
            .map(|k| dims.get(*k).cloned().unwrap_or_default())
            .collect();
        groups.entry(key).or_default().add(acc);
    }
    groups
        .into_iter()
        .map(|(key, acc)| Group {
            by: keep.iter().map(|k| (*k).to_owned()).zip(key).collect(),
            count: acc.count,
            mean: acc.mean().filter(|_| with_values),
            min: acc.min.filter(|_| with_values),
            max: acc.max.filter(|_| with_values),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        region: &str,
        code: &str,
        count: i64,
        sum: f64,
        min: f64,
        max: f64,
    ) -> (BTreeMap<String, String>, Acc) {
        let dims = [("region", region), ("code", code)].map(|(k, v)| (k.to_owned(), v.to_owned()));
        (
            dims.into_iter().collect(),
            Acc {
                count,
                sum,
                min: Some(min),
                max: Some(max),
            },
        )
    }

    #[test]
    fn a_mean_across_regions_weighs_each_reading_not_each_region() {
        // 1 reading of 100 in one region, 3 of 60 in another: the mean is 70, not 80.
        let rows = [
            row("quthing", "8867-4", 1, 100.0, 100.0, 100.0),
            row("maseru", "8867-4", 3, 180.0, 60.0, 60.0),
        ];
        let groups = roll_up(&rows, &["code"], true);
        assert_eq!(groups.len(), 1);
        assert_eq!(
            (
                groups[0].count,
                groups[0].mean,
                groups[0].min,
                groups[0].max
            ),
            (4, Some(70.0), Some(60.0), Some(100.0))
        );
    }

    #[test]
    fn rolling_up_keeps_only_the_dimensions_asked_for() {
        let rows = [
            row("quthing", "a", 1, 1.0, 1.0, 1.0),
            row("quthing", "b", 2, 2.0, 1.0, 1.0),
        ];
        let groups = roll_up(&rows, &["region"], false);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].by.keys().collect::<Vec<_>>(), vec!["region"]);
        assert_eq!((groups[0].count, groups[0].mean), (3, None));
    }
}
