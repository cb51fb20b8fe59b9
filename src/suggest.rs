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

/// Levenshtein distance over characters when it is at most `limit`, else `None`. Only the
/// band of cells within `limit` of the diagonal is computed, and a row whose every cell is
/// over the limit stops the search: O(limit × min(|a|, |b|)) after an O(|a| + |b|) length
/// check, so a hint for a 100 KB segment costs no more than reading it.
pub fn edit_distance_within(a: &str, b: &str, limit: usize) -> Option<usize> {
    // Most texts compared are ASCII (paths, keys): compare bytes and skip collecting chars.
    if a.is_ascii() && b.is_ascii() {
        return banded(a.as_bytes(), b.as_bytes(), limit);
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    banded(&a, &b, limit)
}

/// [`edit_distance_within`] over any symbols. The two rows live on the stack when `b` is
/// short (the common case: a hint runs once per finding, and a big policy has many).
fn banded<T: PartialEq>(a: &[T], b: &[T], limit: usize) -> Option<usize> {
    const STACK: usize = 64;
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let width = b.len() + 1;
    if width <= STACK {
        let (mut previous, mut current) = ([0; STACK], [0; STACK]);
        return banded_rows(a, b, limit, &mut previous[..width], &mut current[..width]);
    }
    banded_rows(a, b, limit, &mut vec![0; width], &mut vec![0; width])
}

/// The banded programme, in two rows of `b.len() + 1` cells each.
fn banded_rows<'r, T: PartialEq>(
    a: &[T],
    b: &[T],
    limit: usize,
    mut previous: &'r mut [usize],
    mut current: &'r mut [usize],
) -> Option<usize> {
    let over = limit + 1;
    // Cells outside the band read as `over`; each row writes only its band, and the cell left
    // of the band is reset because it holds a value from two rows back.
    previous.fill(over);
    current.fill(over);
    for (j, cell) in previous.iter_mut().enumerate().take(limit.min(b.len()) + 1) {
        *cell = j;
    }
    for i in 1..=a.len() {
        let low = i.saturating_sub(limit).max(1);
        let high = (i + limit).min(b.len());
        current[low - 1] = if low == 1 && i <= limit { i } else { over };
        let mut row_min = current[low - 1];
        for j in low..=high {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let cell = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost)
                .min(over);
            current[j] = cell;
            row_min = row_min.min(cell);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    let distance = previous[b.len()];
    (distance <= limit).then_some(distance)
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

    proptest::proptest! {
        /// The banded distance is the full one whenever that is within the limit.
        #[test]
        fn the_banded_distance_is_the_full_distance_within_the_limit(
            a in "[abé/]{0,9}",
            b in "[abé/]{0,9}",
            limit in 0usize..6,
        ) {
            let full = edit_distance(&a, &b);
            let expected = (full <= limit).then_some(full);
            proptest::prop_assert_eq!(edit_distance_within(&a, &b, limit), expected);
        }

        /// The same for ASCII texts (compared as bytes), short and past the stack rows.
        #[test]
        fn the_banded_ascii_distance_is_the_full_distance_within_the_limit(
            a in "[ab/]{0,70}",
            edits in proptest::collection::vec((0usize..71, 0u8..3, "[ab/]"), 0..6),
            limit in 0usize..6,
        ) {
            // `b` is `a` after a few edits, so that distances within the limit are common.
            let mut b = a.clone();
            for (at, kind, text) in edits {
                let at = at.min(b.len());
                match kind {
                    0 => b.insert_str(at, &text),
                    1 if at < b.len() => b.replace_range(at..at + 1, &text),
                    _ if at < b.len() => drop(b.remove(at)),
                    _ => {}
                }
            }
            let full = edit_distance(&a, &b);
            let expected = (full <= limit).then_some(full);
            proptest::prop_assert_eq!(edit_distance_within(&a, &b, limit), expected);
        }
    }

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
