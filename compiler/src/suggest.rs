//! "Did you mean" suggestions for misspelt names.

/// Names longer than this (in characters) are compared for case only: the edit distance
/// costs the product of the two lengths, and a 5 MB name took seconds against each
/// candidate. No one misspells a name of 64 characters into a likely typo of another.
const MAX_EDITED: usize = 64;

/// The candidate closest to `name`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let length = name.chars().count();
    let limit = (length / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let distance = if candidate.len() == name.len() && candidate.eq_ignore_ascii_case(name) {
            0
        } else {
            let other = candidate.chars().count();
            // The distance is at least the difference of the lengths.
            if length > MAX_EDITED || other > MAX_EDITED || length.abs_diff(other) > limit {
                continue;
            }
            strsim::damerau_levenshtein(name, candidate)
        };
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggestions() {
        let stages = ["decode", "encode", "infer", "track", "overlay"];
        assert_eq!(did_you_mean("decdoe", stages), Some("decode"));
        assert_eq!(did_you_mean("Infer", stages), Some("infer"));
        assert_eq!(did_you_mean("trak", stages), Some("track"));
        assert_eq!(did_you_mean("zzz", stages), None);
        assert_eq!(did_you_mean("x", ["y"]), Some("y"));
    }

    #[test]
    fn long_names_are_compared_for_case_only() {
        let long = "a".repeat(5_000_000);
        let other = format!("{}b", "a".repeat(4_999_999));
        let upper = long.to_ascii_uppercase();
        let candidates = [other.as_str(), "decode", upper.as_str()];
        assert_eq!(did_you_mean(&long, candidates), Some(upper.as_str()));
        assert_eq!(did_you_mean(&long, [other.as_str(), "decode"]), None);
        assert_eq!(
            did_you_mean("decdoe", [long.as_str(), "decode"]),
            Some("decode")
        );
    }
}
