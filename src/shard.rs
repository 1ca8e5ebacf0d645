//! Camera ids → shards (`vplc run --cameras FILE --shard I/N`, `vplc deploy k8s --shards N`):
//! rendezvous hashing (highest random weight). Each shard `s` of `0..n` scores the id, and
//! the id goes to the shard with the highest score (the lowest index on a tie). Going from
//! `n` to `n + 1` shards changes the winner only where the new shard scores highest, so
//! about `1 / (n + 1)` of the ids move, all of them onto the new shard.
//!
//! The score must be the same on every machine and with every Rust release (pods built at
//! different times share one assignment), so it is written out here, not taken from `std`'s
//! `Hasher`s (SipHash with keys that may change):
//!
//! ```text
//! h     = FNV-1a 64 of the id's UTF-8 bytes
//!         (offset basis 0xcbf29ce484222325, prime 0x100000001b3)
//! score = mix64(h ^ ((s + 1) * 0x9e3779b97f4a7c15))        (wrapping, 64-bit)
//! mix64(x): x ^= x >> 30; x *= 0xbf58476d1ce4e5b9;
//!           x ^= x >> 27; x *= 0x94d049bb133111eb; x ^= x >> 31
//! ```
//!
//! `mix64` is SplitMix64's finaliser (Steele, Lea and Flood, 2014): FNV-1a alone spreads
//! short, similar ids (`cam-1`, `cam-2`) poorly in its high bits, and the finaliser makes
//! every bit of the score depend on every bit of `h` and of the shard.

use vpl_compiler::pool::Request;

pub mod kafka;

/// FNV-1a, 64 bits (Fowler, Noll and Vo; the published offset basis and prime).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// SplitMix64's finaliser: a bijection of `u64` whose every output bit depends on every
/// input bit.
fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Shard `shard`'s score for the id whose FNV-1a hash is `h`.
fn score(h: u64, shard: usize) -> u64 {
    mix64(h ^ (shard as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// The shard of `0..n` the camera `id` belongs to (0 when `n` is 0 or 1).
pub fn shard_of(id: &str, n: usize) -> usize {
    let h = fnv1a64(id.as_bytes());
    let mut best = 0;
    let mut best_score = 0;
    for s in 0..n {
        let sc = score(h, s);
        if s == 0 || sc > best_score {
            best = s;
            best_score = sc;
        }
    }
    best
}

/// `--shard I/N`: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `I/N` with `0 ≤ I < N`, both decimal.
    fn from_str(text: &str) -> Result<Shard, String> {
        let (i, n) = text.split_once('/').ok_or_else(|| {
            format!("`{text}` is not a shard: write `I/N`, e.g. `0/3` (shard 0 of 3)")
        })?;
        let number = |part: &str, what: &str| {
            part.trim().parse::<usize>().map_err(|_| {
                format!(
                    "`{text}`: the {what} `{part}` is not a whole number; write `I/N`, e.g. `0/3`"
                )
            })
        };
        let index = number(i, "shard index")?;
        let count = number(n, "number of shards")?;
        if count == 0 {
            return Err(format!("`{text}`: the number of shards must be at least 1"));
        }
        if index >= count {
            return Err(format!(
                "`{text}`: shard {index} does not exist among {count} shards (they are numbered 0 to {})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The cameras of `entries` that belong to shard `i` of `n`, in their order in the list.
pub fn select_shard(entries: Vec<Request>, i: usize, n: usize) -> Vec<Request> {
    entries
        .into_iter()
        .filter(|r| shard_of(&r.id, n) == i)
        .collect()
}

/// The cameras a run admits into its pool (`vplc run --cameras FILE [--shard I/N]`): the
/// entries of FILE, only shard I's with `--shard`; `None` without `--cameras`. The program
/// must have exactly one pool, and the shard's cameras must fit in it (`max`). The run
/// hands them to the pool as its initial streams, in place of the pool's `streams:` file.
pub fn cameras_for_run(
    cameras: Option<&std::path::Path>,
    shard: Option<Shard>,
    plan: &vpl_compiler::plan::Plan,
) -> Result<Option<Vec<Request>>, String> {
    let Some(path) = cameras.filter(|c| !kafka::is_kafka(&c.to_string_lossy())) else {
        return Ok(None);
    };
    let pool = the_pool(plan, &format!("--cameras {}", path.display()))?;
    let all = vpl_compiler::pool::read_streams_file(path)?;
    let shard = shard.unwrap_or(Shard { index: 0, count: 1 });
    let mine = select_shard(all, shard.index, shard.count);
    if mine.len() > pool.max {
        return Err(overfull(shard, mine.len(), &pool.name, pool.max));
    }
    Ok(Some(mine))
}

/// The program's one pool, which `what` (`--cameras …`) admits cameras into.
pub fn the_pool<'a>(
    plan: &'a vpl_compiler::plan::Plan,
    what: &str,
) -> Result<&'a vpl_compiler::plan::PoolPlan, String> {
    match plan.pools.as_slice() {
        [pool] => Ok(pool),
        [] => Err(format!(
            "{what} admits cameras into the program's pool, and `{}` has none: declare one with `pool(max: N) : video<…>`",
            plan.pipeline
        )),
        several => Err(format!(
            "{what} admits cameras into the program's one pool, and `{}` has {} ({})",
            plan.pipeline,
            several.len(),
            several
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// A shard given more cameras than its pool holds.
pub fn overfull(shard: Shard, cameras: usize, pool: &str, max: usize) -> String {
    format!(
        "shard {shard} gets {cameras} cameras, more than the pool `{pool}` holds (max: {max}): use more shards, or a larger `max`"
    )
}

/// `--shard I/N`: every records element of `plan` writes `"shard": I` in its records.
pub fn mark_records(plan: &mut vpl_compiler::plan::Plan, shard: Shard) {
    use vpl_compiler::plan::Prop;
    for e in plan
        .elements
        .iter_mut()
        .filter(|e| e.factory == "vplrecords")
    {
        e.props
            .push(("shard".into(), Prop::Int(shard.index as i64)));
    }
}

/// How many of `ids` each of the `n` shards gets.
pub fn counts<'a>(ids: impl IntoIterator<Item = &'a str>, n: usize) -> Vec<usize> {
    let mut counts = vec![0; n];
    for id in ids {
        counts[shard_of(id, n)] += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("cam-{i}")).collect()
    }

    /// The published FNV-1a 64 test vectors (the reference implementation's `""`, `"a"`,
    /// `"foobar"`).
    #[test]
    fn fnv1a64_is_the_published_function() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    /// Pinned: a change here moves cameras between the pods of a running deployment.
    #[test]
    fn shards_are_stable() {
        let got: Vec<usize> = ["cam-0", "cam-1", "cam-2", "lobby", "gate-north", "x"]
            .iter()
            .map(|id| shard_of(id, 3))
            .collect();
        assert_eq!(got, PINNED_3);
        let got: Vec<usize> = ["cam-0", "cam-1", "cam-2", "lobby", "gate-north", "x"]
            .iter()
            .map(|id| shard_of(id, 10))
            .collect();
        assert_eq!(got, PINNED_10);
        assert_eq!(shard_of("anything", 1), 0);
        assert_eq!(shard_of("anything", 0), 0);
    }

    const PINNED_3: [usize; 6] = [0, 1, 0, 2, 2, 0];
    const PINNED_10: [usize; 6] = [3, 1, 0, 7, 7, 4];

    /// Each of N shards gets about 1/N of 10,000 ids: within 10 % of 10,000 / N (the
    /// binomial spread is about 1 % to 3 % here).
    #[test]
    fn shards_are_even() {
        let all = ids(10_000);
        for n in [2, 3, 5, 8, 16] {
            let counts = counts(all.iter().map(String::as_str), n);
            let fair = 10_000.0 / n as f64;
            for (s, c) in counts.iter().enumerate() {
                let off = (*c as f64 - fair).abs() / fair;
                assert!(
                    off < 0.10,
                    "{n} shards: shard {s} has {c} ids, {fair} expected"
                );
            }
        }
    }

    /// From N to N + 1 shards, about 1/(N + 1) of the ids move, and every one that moves
    /// goes to the new shard.
    #[test]
    fn a_new_shard_takes_only_its_share() {
        let all = ids(10_000);
        for n in [1, 2, 3, 7, 15] {
            let mut moved = 0;
            for id in &all {
                let (before, after) = (shard_of(id, n), shard_of(id, n + 1));
                if before != after {
                    assert_eq!(
                        after, n,
                        "{id} moved from {before} to {after}, not to the new shard"
                    );
                    moved += 1;
                }
            }
            let fair = 10_000.0 / (n + 1) as f64;
            let off = (moved as f64 - fair).abs() / fair;
            assert!(
                off < 0.10,
                "{n} → {} shards moved {moved} ids, about {fair} expected",
                n + 1
            );
        }
    }

    #[test]
    fn select_keeps_the_shards_cameras_in_order() {
        let requests: Vec<Request> = ids(30)
            .into_iter()
            .map(|id| Request {
                url: format!("rtsp://cams/{id}"),
                id,
                ..Request::default()
            })
            .collect();
        let mut seen = Vec::new();
        for i in 0..3 {
            let mine = select_shard(requests.clone(), i, 3);
            assert!(mine.iter().all(|r| shard_of(&r.id, 3) == i));
            let positions: Vec<usize> = mine
                .iter()
                .map(|r| requests.iter().position(|q| q == r).expect("from the list"))
                .collect();
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "kept in order");
            seen.extend(positions);
        }
        seen.sort();
        assert_eq!(
            seen,
            (0..30).collect::<Vec<_>>(),
            "every camera on exactly one shard"
        );
    }

    #[test]
    fn shard_flags_are_checked() {
        assert_eq!("0/3".parse(), Ok(Shard { index: 0, count: 3 }));
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["3/3", "0/0", "1", "a/3", "-1/3", "1/x", ""] {
            let e = bad.parse::<Shard>().expect_err(bad);
            assert!(e.contains(&format!("`{bad}`")), "{bad}: {e}");
        }
        assert!(
            "3/3"
                .parse::<Shard>()
                .unwrap_err()
                .contains("numbered 0 to 2")
        );
    }
}
