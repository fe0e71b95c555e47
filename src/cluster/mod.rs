//! Clusters across cases: near-duplicate letters (the same letter sent by
//! many people, with names, dates and numbers changed) and cases of one
//! class about one place.
//!
//! Near-duplicates: the text is masked first (digits of any script, ID
//! and phone numbers, dates, and names after 我叫/本人/信访人 … become one
//! placeholder), then cut into character shingles (5 by default) after
//! dropping spaces and punctuation. Each case gets a MinHash signature of
//! [`PERMUTATIONS`] 16-bit values; [`BANDS`] bands of [`ROWS`] rows put cases
//! whose signatures agree on a whole band into one bucket (LSH), so only
//! cases sharing a bucket are compared and never every pair. Each
//! candidate pair of tonight's cases is confirmed with the exact Jaccard
//! similarity of their shingle sets; a case of the store (which keeps no
//! text) is confirmed by the share of equal signature values, the
//! estimate of the same similarity. Confirmed pairs are joined
//! (union-find) into clusters.
//!
//! Place clusters: at least `place_min_size` cases of one primary class
//! (not 其他) with the same location, tonight's and the store's window.
//!
//! A cluster needs cases from more than one person ([`several_people`]):
//! one person's copies are a repeat petition, not a joint one.
//!
//! A case in both kinds of cluster carries the near-duplicate one.
//! Cluster ids are given in order of each cluster's smallest case id, so
//! the same input gives the same ids.

use std::collections::HashMap;

use chrono::NaiveDate;
use rayon::prelude::*;

/// MinHash permutations.
pub const PERMUTATIONS: usize = 128;
/// LSH bands.
pub const BANDS: usize = 16;
/// Rows per band.
pub const ROWS: usize = PERMUTATIONS / BANDS;
/// Comparisons a new bucket member makes at most (against earlier
/// members not yet in its cluster), so a bucket of a thousand copies
/// costs thousands of comparisons, not half a million.
const MAX_TRIES: usize = 8;

/// The MinHash functions: `PERMUTATIONS` keyed bijections of a shingle hash.
#[derive(Debug, Clone)]
pub struct Hasher {
    a: [u32; PERMUTATIONS],
    b: [u32; PERMUTATIONS],
    shingle: usize,
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Hasher {
    /// Hash functions from `seed` (the store derives it from its key),
    /// on shingles of `shingle` characters.
    pub fn new(seed: u64, shingle: usize) -> Hasher {
        let mut s = seed;
        let mut a = [0u32; PERMUTATIONS];
        let mut b = [0u32; PERMUTATIONS];
        for i in 0..PERMUTATIONS {
            a[i] = (splitmix(&mut s) >> 32) as u32 | 1;
            b[i] = (splitmix(&mut s) >> 32) as u32;
        }
        Hasher {
            a,
            b,
            shingle: shingle.max(1),
        }
    }

    /// The sorted, distinct shingle hashes of a text (title and text).
    pub fn shingles(&self, text: &str) -> Vec<u32> {
        let chars = masked(text);
        let k = self.shingle;
        let mut out: Vec<u32> = if chars.len() < k {
            if chars.is_empty() {
                Vec::new()
            } else {
                vec![hash_chars(&chars)]
            }
        } else {
            chars.windows(k).map(hash_chars).collect()
        };
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The MinHash signature of a shingle set: the high 16 bits of each
    /// permutation's minimum (b-bit MinHash). Two values agree by chance
    /// once in 65 536, which moves the estimate of a similarity by less
    /// than 0.0001, and the store keeps half the bytes.
    pub fn signature(&self, shingles: &[u32]) -> Vec<u32> {
        let mut sig = [u32::MAX; PERMUTATIONS];
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2, checked just above.
            unsafe { minima_avx2(&self.a, &self.b, shingles, &mut sig) };
            return sig.iter().map(|m| m >> 16).collect();
        }
        minima(&self.a, &self.b, shingles, &mut sig);
        sig.iter().map(|m| m >> 16).collect()
    }
}

/// Each permutation's minimum over the shingles. Each permutation is a
/// bijection of the 32-bit shingle hash (xor, odd multiplier, xorshift),
/// computed for all permutations side by side: SIMD lanes where the
/// processor has them.
#[inline(always)]
fn minima(
    a: &[u32; PERMUTATIONS],
    b: &[u32; PERMUTATIONS],
    shingles: &[u32],
    sig: &mut [u32; PERMUTATIONS],
) {
    for &x in shingles {
        for ((m, a), b) in sig.iter_mut().zip(a).zip(b) {
            let h = (x ^ b).wrapping_mul(*a);
            *m = (*m).min(h ^ (h >> 16));
        }
    }
}

/// [`minima`] compiled for AVX2 (eight 32-bit multiplications at once;
/// the baseline x86-64 target has no 32-bit SIMD multiplication at all).
/// The result is the same bit for bit, so signatures made either way
/// agree.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn minima_avx2(
    a: &[u32; PERMUTATIONS],
    b: &[u32; PERMUTATIONS],
    shingles: &[u32],
    sig: &mut [u32; PERMUTATIONS],
) {
    minima(a, b, shingles, sig);
}

/// The band keys of a signature.
pub fn bands(sig: &[u32]) -> Vec<u64> {
    sig.chunks(ROWS)
        .enumerate()
        .map(|(b, rows)| {
            let mut h = 0xcbf2_9ce4_8422_2325u64 ^ b as u64;
            for &r in rows {
                let mut s = h ^ u64::from(r);
                h = splitmix(&mut s);
            }
            h
        })
        .collect()
}

fn hash_chars(cs: &[char]) -> u32 {
    let mut h = 0x811c_9dc5u64;
    for &c in cs {
        let mut s = h ^ u64::from(u32::from(c));
        h = splitmix(&mut s);
    }
    (h >> 32) as u32
}

/// Exact Jaccard similarity of two sorted sets.
pub fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    // Without branches on the comparison, whose outcome no processor
    // can predict: each step moves past the smaller value (both when
    // equal).
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        both += usize::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    both as f64 / (a.len() + b.len() - both) as f64
}

/// Share of equal values of two signatures: the estimate of the Jaccard
/// similarity.
pub fn estimate(a: &[u32], b: &[u32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
}

/// Words after which a name follows, as characters (compared where the
/// text is a `Vec<char>`).
const NAME_CUES: [&[char]; 12] = [
    &['我', '叫'],
    &['本', '人'],
    &['我', '是'],
    &['信', '访', '人'],
    &['联', '系', '人'],
    &['反', '映', '人'],
    &['签', '名'],
    &['姓', '名'],
    &['署', '名'],
    &['代', '表'],
    &['村', '民'],
    &['居', '民'],
];

/// The name cue that starts at `chars[i]`, if any.
fn cue_at(chars: &[char], i: usize) -> Option<&'static [char]> {
    let rest = &chars[i..];
    // Most characters start no cue: one test of the first character
    // before the comparisons.
    if !matches!(
        rest.first(),
        Some('我' | '本' | '信' | '联' | '反' | '签' | '姓' | '署' | '代' | '村' | '居')
    ) {
        return None;
    }
    NAME_CUES.iter().copied().find(|cue| rest.starts_with(cue))
}

fn is_digitish(c: char) -> bool {
    matches!(
        c,
        '0'..='9'
            | '０'..='９'
            | '〇' | '零' | '一' | '二' | '三' | '四' | '五' | '六' | '七' | '八' | '九'
            | '十' | '百' | '千' | '万' | '两'
            | '壹' | '贰' | '叁' | '肆' | '伍' | '陆' | '柒' | '捌' | '玖' | '拾'
    )
}

/// The text with what differs between copies of one letter masked:
/// digits in any script (ID numbers, phones, dates, amounts) and the
/// two or three characters after a name cue become one `#`; spaces and
/// punctuation are dropped.
pub fn masked(text: &str) -> Vec<char> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(cue) = cue_at(&chars, i) {
            out.extend_from_slice(cue);
            i += cue.len();
            while i < chars.len() && matches!(chars[i], '：' | ':' | ' ' | '　') {
                i += 1;
            }
            let name = chars[i..]
                .iter()
                .take(3)
                .take_while(|c| is_han(**c) && !"，。、的是在和了从".contains(**c))
                .count();
            if name >= 2 {
                out.push('#');
                i += name;
            }
            continue;
        }
        if is_digitish(c) || c == 'X' || c == 'x' {
            let start = i;
            while i < chars.len() && (is_digitish(chars[i]) || chars[i] == 'X' || chars[i] == 'x') {
                i += 1;
            }
            // A lone 一 or 十 inside words (一直, 十分) stays.
            if i - start == 1 && !c.is_ascii_digit() && !('０'..='９').contains(&c) {
                out.push(c);
            } else {
                out.push('#');
            }
            continue;
        }
        if !(c.is_whitespace() || c.is_ascii_punctuation() || is_cjk_punct(c)) {
            out.push(c);
        }
        i += 1;
    }
    out
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

fn is_cjk_punct(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ff0f}' | '\u{ff1a}'..='\u{ff20}' | '\u{2010}'..='\u{206f}')
}

/// A case to cluster.
#[derive(Debug, Clone)]
pub struct Item {
    /// Case id.
    pub id: String,
    /// Received date.
    pub received: NaiveDate,
    /// Primary class.
    pub class: String,
    /// Keyed hash of the place.
    pub place: Option<[u8; 32]>,
    /// Shingle set (tonight's cases; empty for the store's).
    pub shingles: Vec<u32>,
    /// MinHash signature (empty when unknown).
    pub signature: Vec<u32>,
    /// Tonight's case (otherwise from the store).
    pub tonight: bool,
    /// Keyed hashes of the petitioner ids (empty when none is known).
    pub petitioners: Vec<[u8; 32]>,
}

/// Whether cases with these petitioner keys come from more than one
/// person: two distinct keys, or a case whose petitioner is unknown
/// beside any other. One person's copies of a letter are a repeat
/// petition (the repeat rules' matter), not a joint one.
pub fn several_people<'a>(cases: impl IntoIterator<Item = &'a [[u8; 32]]>) -> bool {
    let mut first: Option<&[u8; 32]> = None;
    let mut unknown = 0usize;
    for keys in cases {
        if keys.is_empty() {
            unknown += 1;
        }
        for k in keys {
            match first {
                None => first = Some(k),
                Some(f) if f != k => return true,
                Some(_) => {}
            }
        }
        if unknown + usize::from(first.is_some()) >= 2 {
            return true;
        }
    }
    false
}

/// Kind of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Near-duplicate letters.
    NearDuplicate,
    /// Same class and place.
    Place,
}

impl Kind {
    /// The name in the JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Kind::NearDuplicate => "near_duplicate",
            Kind::Place => "place",
        }
    }
}

/// A cluster: its members (indices into the items).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Id (ND-0001, PL-0001 …).
    pub id: String,
    /// Kind.
    pub kind: Kind,
    /// Members, by index into the items, sorted by case id.
    pub members: Vec<usize>,
}

/// What clustering measured (for the benchmark and tests).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// Candidate pairs compared.
    pub compared: u64,
    /// Pairs confirmed.
    pub confirmed: u64,
}

struct Sets {
    parent: Vec<usize>,
}

impl Sets {
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[a.max(b)] = a.min(b);
        }
    }
}

/// Near-duplicate clusters of `items` with similarity at least
/// `threshold`; only clusters with a tonight's member.
pub fn near_duplicates(items: &[Item], threshold: f64) -> (Vec<Vec<usize>>, Work) {
    let mut sets = Sets {
        parent: (0..items.len()).collect(),
    };
    let mut work = Work::default();
    // Every (band key, case) pair, sorted: a bucket is a run of one key,
    // its members in input order. Sorting one flat vector costs far less
    // than a map of two million small vectors.
    let mut keyed: Vec<(u64, u32)> = items
        .par_iter()
        .enumerate()
        .filter(|(_, it)| it.signature.len() == PERMUTATIONS)
        .flat_map_iter(|(i, it)| bands(&it.signature).into_iter().map(move |k| (k, i as u32)))
        .collect();
    keyed.par_sort_unstable();
    for bucket in keyed.chunk_by(|a, b| a.0 == b.0) {
        for (n, &(_, i)) in bucket.iter().enumerate().skip(1) {
            let i = i as usize;
            let mut tries = 0;
            for &(_, j) in &bucket[..n] {
                let j = j as usize;
                if tries >= MAX_TRIES {
                    break;
                }
                if sets.find(i) == sets.find(j) {
                    continue;
                }
                tries += 1;
                work.compared += 1;
                let (a, b) = (&items[i], &items[j]);
                let sim = if a.tonight && b.tonight {
                    let (small, large) = (
                        a.shingles.len().min(b.shingles.len()),
                        a.shingles.len().max(b.shingles.len()),
                    );
                    // The similarity is at most the smaller set's share
                    // of the larger: no need to count when that is short.
                    if (small as f64) < threshold * large as f64 {
                        0.0
                    } else {
                        jaccard(&a.shingles, &b.shingles)
                    }
                } else {
                    estimate(&a.signature, &b.signature)
                };
                if sim >= threshold {
                    work.confirmed += 1;
                    sets.join(i, j);
                }
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..items.len() {
        let r = sets.find(i);
        groups.entry(r).or_default().push(i);
    }
    let out = groups
        .into_values()
        .filter(|g| g.len() >= 2 && g.iter().any(|&i| items[i].tonight))
        .collect();
    (out, work)
}

/// Place clusters: groups of at least `min_size` items of one class
/// (other than `other`) and one place received within `window_days` of
/// the group's first case (a later case starts a new group), with a
/// tonight's member.
pub fn places(items: &[Item], other: &str, min_size: u32, window_days: u32) -> Vec<Vec<usize>> {
    let mut groups: HashMap<(&str, [u8; 32]), Vec<usize>> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        if let Some(p) = it.place
            && it.class != other
        {
            groups.entry((it.class.as_str(), p)).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for mut g in groups.into_values() {
        g.sort_by(|&a, &b| {
            (items[a].received, &items[a].id).cmp(&(items[b].received, &items[b].id))
        });
        let mut part: Vec<usize> = Vec::new();
        for i in g {
            if let Some(&first) = part.first()
                && (items[i].received - items[first].received).num_days() > i64::from(window_days)
            {
                out.push(std::mem::take(&mut part));
            }
            part.push(i);
        }
        out.push(part);
    }
    out.retain(|g| g.len() as u32 >= min_size && g.iter().any(|&i| items[i].tonight));
    out
}

/// Both kinds of cluster, with ids: near-duplicates first, then places,
/// each in order of their smallest member's case id.
pub fn clusters(
    items: &[Item],
    threshold: f64,
    other: &str,
    place_min: u32,
    window_days: u32,
) -> (Vec<Cluster>, Work) {
    let (near, work) = near_duplicates(items, threshold);
    let place = places(items, other, place_min, window_days);
    let mut out = Vec::new();
    for (kind, groups, prefix) in [
        (Kind::NearDuplicate, near, "ND"),
        (Kind::Place, place, "PL"),
    ] {
        let mut groups: Vec<Vec<usize>> = groups
            .into_iter()
            .filter(|g| several_people(g.iter().map(|&i| items[i].petitioners.as_slice())))
            .map(|mut g| {
                g.sort_by(|&a, &b| items[a].id.cmp(&items[b].id));
                g
            })
            .collect();
        groups.sort_by(|a, b| items[a[0]].id.cmp(&items[b[0]].id));
        for (n, members) in groups.into_iter().enumerate() {
            out.push(Cluster {
                id: format!("{prefix}-{:04}", n + 1),
                kind,
                members,
            });
        }
    }
    (out, work)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn masking_hides_what_copies_change() {
        let a: String = masked("我叫张三，身份证43012319800101123X，电话13800138000，2026年3月5日")
            .into_iter()
            .collect();
        let b: String =
            masked("我叫李小四，身份证43012319900202456X，电话13900139000，2026年4月15日")
                .into_iter()
                .collect();
        assert_eq!(a, b);
        let c: String = masked("一直没有解决").into_iter().collect();
        assert_eq!(c, "一直没有解决");
    }

    #[test]
    fn every_name_cue_passes_the_first_character_test() {
        for cue in NAME_CUES {
            let text: Vec<char> = cue.iter().copied().chain("张三".chars()).collect();
            assert_eq!(
                cue_at(&text, 0),
                Some(cue),
                "{}",
                cue.iter().collect::<String>()
            );
        }
    }

    #[test]
    fn several_people_counts_distinct_keys_and_unknown_petitioners() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let people = |cases: &[&[[u8; 32]]]| several_people(cases.iter().copied());
        assert!(!people(&[&[a], &[a], &[a]]), "one person's copies");
        assert!(people(&[&[a], &[a], &[b]]));
        assert!(
            people(&[&[a], &[]]),
            "an unknown petitioner beside a known one"
        );
        assert!(
            people(&[&[], &[]]),
            "two unknown petitioners may be two people"
        );
        assert!(people(&[&[a, b], &[a]]), "a joint letter's second signer");
        assert!(!people(&[&[a]]));
        assert!(!people(&[]));
    }

    #[test]
    fn jaccard_counts_the_shared_values() {
        assert_eq!(jaccard(&[1, 2, 3, 4], &[3, 4, 5]), 2.0 / 5.0);
        assert_eq!(jaccard(&[3, 4, 5], &[1, 2, 3, 4]), 2.0 / 5.0);
        assert_eq!(jaccard(&[1, 5, 9], &[1, 5, 9]), 1.0);
        assert_eq!(jaccard(&[1, 2], &[3, 4]), 0.0);
        assert_eq!(jaccard(&[7], &[]), 0.0);
        assert_eq!(jaccard(&[0, u32::MAX], &[u32::MAX]), 0.5);
    }

    #[test]
    fn jaccard_and_estimate_agree_roughly() {
        let h = Hasher::new(7, 5);
        let a = h.shingles("我们小区的房子去年被强拆，补偿款到现在还没有到位，开发商说钱已经交给了街道办，街道办说没收到");
        let b = h.shingles("我们小区的房子去年被强拆，补偿款到现在还没有到位，开发商说钱已经交给了街道办，街道办说没有收到");
        let j = jaccard(&a, &b);
        let e = estimate(&h.signature(&a), &h.signature(&b));
        assert!(j > 0.7 && (j - e).abs() < 0.2, "{j} {e}");
    }

    #[test]
    fn the_simd_signature_is_the_portable_one() {
        let h = Hasher::new(99, 5);
        let mut x = 7u64;
        let shingles: Vec<u32> = (0..300).map(|_| (splitmix(&mut x) >> 32) as u32).collect();
        let mut portable = [u32::MAX; PERMUTATIONS];
        minima(&h.a, &h.b, &shingles, &mut portable);
        let portable: Vec<u32> = portable.iter().map(|m| m >> 16).collect();
        assert_eq!(h.signature(&shingles), portable);
        assert_eq!(h.signature(&[]), vec![u32::MAX >> 16; PERMUTATIONS]);
    }
}
