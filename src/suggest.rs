//! "did you mean" help: the one edit distance and the one nearest-candidate search that every
//! typo hint in the crate uses (policy keys, capabilities, rule ids, config keys, policy names).

/// Levenshtein distance over characters. Cost: O(|a| × |b|).
pub fn edit_distance(a: &str, b: &str) -> usize {
    distance(a, b, false)
}

/// Levenshtein distance with adjacent transpositions counted as one edit (optimal string
/// alignment), so `raed` is one edit from `read`. Cost: O(|a| × |b|).
pub fn edit_distance_with_transpositions(a: &str, b: &str) -> usize {
    distance(a, b, true)
}

/// The dynamic programme behind both distances; it keeps the previous two rows because a
/// transposition looks two characters back.
fn distance(a: &str, b: &str, transpositions: bool) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows, reused: no allocation per row.
    let mut previous_previous = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            current[j] = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            let swapped = i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1];
            if transpositions && swapped {
                current[j] = current[j].min(previous_previous[j - 2] + 1);
            }
        }
        std::mem::swap(&mut previous_previous, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The candidate nearest by `distance_to` among those within `limit(candidate)` edits; the
/// first one wins a tie, so callers control preference by the order of `candidates`.
/// Cost: O(candidates × cost of `distance_to`).
pub fn closest<'c, T: AsRef<str> + ?Sized + 'c>(
    candidates: impl IntoIterator<Item = &'c T>,
    distance_to: impl Fn(&str) -> usize,
    limit: impl Fn(&str) -> usize,
) -> Option<&'c T> {
    candidates
        .into_iter()
        .map(|candidate| (distance_to(candidate.as_ref()), candidate))
        .filter(|(distance, candidate)| *distance <= limit(candidate.as_ref()))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_distance_counts_a_swap_as_two_edits() {
        assert_eq!(edit_distance("raed", "read"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn transposition_distance_counts_a_swap_as_one_edit() {
        assert_eq!(edit_distance_with_transpositions("raed", "read"), 1);
        assert_eq!(edit_distance_with_transpositions("kitten", "sitting"), 3);
    }

    #[test]
    fn closest_prefers_the_nearest_then_the_first() {
        let names = ["reed", "read", "rend"];
        let found = closest(names, |c| edit_distance("rexd", c), |_| 1);
        assert_eq!(found, Some("reed"));
        assert_eq!(closest(names, |c| edit_distance("zzzz", c), |_| 1), None);
    }
}
