//! "Did you mean" suggestions for misspelt names.

/// The candidate closest to `name`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let distance = if candidate.to_ascii_lowercase() == lower {
            0
        } else {
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
}
