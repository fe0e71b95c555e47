//! Normalisation before matching, with offsets kept.
//!
//! A [`View`] is the text as the matcher sees it: traditional characters
//! turned simplified, full-width forms half-width, ASCII letters lower
//! case, evasion noise inside Chinese words dropped (拆*迁, 补 偿 款, 强-拆,
//! zero-width characters), and runs of three or more identical Chinese
//! characters collapsed. Every byte of the view knows the span of the
//! original text it came from and which steps changed it, so a match on
//! the view is reported on the original text and says which
//! normalisation made it.

/// Traditional → simplified characters.
pub const T2S: u8 = 1;
/// Full-width → half-width forms.
pub const WIDTH: u8 = 2;
/// ASCII letter case.
pub const CASE: u8 = 4;
/// Symbols and spaces inserted inside Chinese words.
pub const NOISE: u8 = 8;
/// Runs of three or more identical Chinese characters.
pub const REPEAT: u8 = 16;
/// Every step.
pub const ALL: u8 = T2S | WIDTH | CASE | NOISE | REPEAT;

/// Names of the steps as written in rule files, with their bits.
pub const STEP_NAMES: [(&str, u8); 5] = [
    ("traditional", T2S),
    ("width", WIDTH),
    ("case", CASE),
    ("noise", NOISE),
    ("repeat", REPEAT),
];

/// Chinese names of the steps that are set in `mask`, for reports.
pub fn describe(mask: u8) -> Vec<&'static str> {
    [
        (T2S, "繁简转换"),
        (WIDTH, "全角转半角"),
        (CASE, "大小写"),
        (NOISE, "去除夹杂符号"),
        (REPEAT, "叠字合并"),
    ]
    .iter()
    .filter(|(b, _)| mask & b != 0)
    .map(|(_, n)| *n)
    .collect()
}

/// Whether `c` is a Chinese character.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}')
}

/// The half-width form of a full-width letter, digit or symbol. Chinese
/// punctuation (，。：；！？（）) keeps its form: it is what splits clauses.
fn half_width(c: char) -> Option<char> {
    match c {
        '\u{FF10}'..='\u{FF19}'
        | '\u{FF21}'..='\u{FF3A}'
        | '\u{FF41}'..='\u{FF5A}'
        | '＊'
        | '－'
        | '＿'
        | '～'
        | '．'
        | '／'
        | '＃'
        | '＠'
        | '＋'
        | '＝'
        | '％'
        | '＆' => char::from_u32(c as u32 - 0xFEE0),
        '\u{3000}' => Some(' '),
        _ => None,
    }
}

const BMP_CJK_START: u32 = 0x3400;
const BMP_CJK_END: u32 = 0xFAFF;

/// Characters that fast2s converts only inside certain words (看著 → 看着)
/// or keeps inside certain words (乾隆): their conversion depends on the
/// neighbours, so only the general path converts them.
const CONTEXT_T2S: [char; 15] = [
    '藉', '著', '苧', '闔', '鍾', '讎', '畫', '兒', '覆', '夥', '瞭', '麽', '幺', '於', '乾',
];

/// Every other traditional character of the Basic Multilingual Plane and
/// the simplified character fast2s turns it into on its own, sorted.
fn t2s_map() -> &'static [(char, char)] {
    static MAP: std::sync::OnceLock<Vec<(char, char)>> = std::sync::OnceLock::new();
    MAP.get_or_init(|| {
        let mut buf = [0u8; 4];
        (BMP_CJK_START..=BMP_CJK_END)
            .filter_map(char::from_u32)
            .filter(|c| is_cjk(*c) && !CONTEXT_T2S.contains(c))
            .filter_map(|c| {
                let out = fast2s::convert(c.encode_utf8(&mut buf));
                let mut out = out.chars();
                match (out.next(), out.next()) {
                    (Some(s), None) if s != c => Some((c, s)),
                    _ => None,
                }
            })
            .collect()
    })
}

/// The conversion of the character at `original[b..b + len]`, which
/// depends on the characters right before and after it: fast2s converts
/// the three of them and the middle one is taken, as converting the whole
/// text would give it.
fn t2s_in_context(original: &str, b: usize, len: usize) -> char {
    let start = original[..b]
        .char_indices()
        .next_back()
        .map_or(b, |(i, _)| i);
    let end = original[b + len..]
        .chars()
        .next()
        .map_or(b + len, |n| b + len + n.len_utf8());
    let at = usize::from(start < b);
    let window = fast2s::convert(&original[start..end]);
    window
        .chars()
        .nth(at)
        .unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The simplified form of a traditional character whose conversion does
/// not depend on its neighbours.
fn t2s_alone(c: char) -> Option<char> {
    let map = t2s_map();
    map.binary_search_by_key(&c, |&(t, _)| t)
        .ok()
        .map(|i| map[i].1)
}

/// Bitset of the characters the traditional → simplified step may change,
/// built once per process.
fn t2s_chars() -> &'static [u64] {
    static SET: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        let len = (BMP_CJK_END - BMP_CJK_START + 1) as usize;
        let mut bits = vec![0u64; len.div_ceil(64)];
        let mut set = |c: char| {
            let i = (c as u32 - BMP_CJK_START) as usize;
            bits[i / 64] |= 1 << (i % 64);
        };
        let mut buf = [0u8; 4];
        for u in BMP_CJK_START..=BMP_CJK_END {
            if let Some(c) = char::from_u32(u)
                && is_cjk(c)
            {
                let s: &str = c.encode_utf8(&mut buf);
                if fast2s::convert(s) != s {
                    set(c);
                }
            }
        }
        CONTEXT_T2S.iter().copied().for_each(set);
        bits
    })
}

/// Build the per-process tables now rather than on the first case.
pub fn warm() {
    let _ = special_bmp();
    let _ = t2s_map();
}

fn maybe_traditional(c: char) -> bool {
    let u = c as u32;
    if (BMP_CJK_START..=BMP_CJK_END).contains(&u) {
        let i = (u - BMP_CJK_START) as usize;
        t2s_chars()[i / 64] & (1 << (i % 64)) != 0
    } else {
        u > 0xFFFF && is_cjk(c)
    }
}

/// Non-ASCII characters of the Basic Multilingual Plane that some step
/// may change (traditional, full-width, invisible, noise symbols), as a
/// 64K-bit table built once per process.
fn special_bmp() -> &'static [u64] {
    static SET: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        let mut bits = vec![0u64; 1 << 10];
        for u in 0x80u32..=0xFFFF {
            if let Some(c) = char::from_u32(u)
                && (maybe_traditional(c)
                    || half_width(c).is_some()
                    || is_invisible(c)
                    || is_noise(c))
            {
                bits[(u / 64) as usize] |= 1 << (u % 64);
            }
        }
        bits
    })
}

/// The steps of `mask` that building a view of `text` needs: none for
/// clean text, and no traditional → simplified conversion (the costly
/// step) when no character could be traditional. The view built with the
/// returned steps is the same as the one built with `mask`.
pub fn view_steps(text: &str, mask: u8) -> u8 {
    let table = special_bmp();
    let mut prev: Option<char> = None;
    let mut run = 0usize;
    let mut other = false;
    let mut traditional = false;
    for c in text.chars() {
        let u = c as u32;
        if c.is_ascii() {
            if (mask & CASE != 0 && c.is_ascii_uppercase())
                || (mask & NOISE != 0 && is_noise(c) && prev.is_some_and(is_cjk))
            {
                other = true;
            }
        } else if u > 0xFFFF || table[(u / 64) as usize] & (1 << (u % 64)) != 0 {
            if mask & T2S != 0 && maybe_traditional(c) {
                traditional = true;
            }
            if (mask & WIDTH != 0 && half_width(c).is_some())
                || (mask & NOISE != 0
                    && (is_invisible(c) || (is_noise(c) && prev.is_some_and(is_cjk))))
            {
                other = true;
            }
        }
        if mask & REPEAT != 0 && !other {
            run = if prev == Some(c) { run + 1 } else { 1 };
            if run >= 3 && is_cjk(c) {
                other = true;
            }
        }
        if traditional && other {
            return mask;
        }
        prev = Some(c);
    }
    match (traditional, other) {
        (true, _) => mask,
        (false, true) => mask & !T2S,
        (false, false) => 0,
    }
}

/// Characters dropped when they stand between two Chinese characters.
fn is_noise(c: char) -> bool {
    matches!(
        c,
        '*' | '-'
            | '_'
            | '.'
            | '~'
            | '^'
            | '#'
            | '@'
            | '/'
            | '\\'
            | '|'
            | '+'
            | '='
            | '`'
            | '\''
            | ' '
            | '\t'
            | '·'
            | '•'
            | '●'
            | '○'
            | '★'
            | '☆'
            | '※'
            | '×'
            | '♥'
            | '◆'
            | '■'
            | '□'
            | '▲'
            | '△'
            | '＿'
    )
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// The text seen by the matcher, mapped back to the original.
///
/// Only the changed characters are recorded; between them the view is a
/// byte-for-byte copy of the original at a constant offset.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// Normalised text.
    pub text: String,
    /// The changed characters, in text order.
    edits: Vec<Edit>,
}

/// One changed character: its bytes in the view, the original bytes it
/// came from, and the steps that changed it.
#[derive(Debug, Clone, Copy)]
struct Edit {
    view: (u32, u32),
    orig: (u32, u32),
    flags: u8,
}

#[derive(Clone, Copy)]
struct Unit {
    c: char,
    start: u32,
    end: u32,
    flags: u8,
}

/// What the one-pass scan of [`View::simple`] found.
enum Simple {
    /// Nothing to change: the text is its own view.
    Unchanged,
    /// Every change was one character for one character.
    View(View),
    /// The text needs the general path (traditional characters, noise to
    /// drop, repeats to collapse).
    Needs,
}

impl View {
    /// The view of `original` under `mask`, or `None` when normalising
    /// would change nothing (the text can then be matched as it is).
    pub fn build(original: &str, mask: u8) -> Option<View> {
        match View::simple(original, mask) {
            Simple::Unchanged => None,
            Simple::View(v) => Some(v),
            Simple::Needs => match view_steps(original, mask) {
                0 => None,
                steps => Some(View::general(original, steps)),
            },
        }
    }

    /// Build the view of `original` under the steps in `mask`.
    pub fn new(original: &str, mask: u8) -> View {
        match View::simple(original, mask) {
            Simple::Unchanged => View {
                text: original.to_string(),
                edits: Vec::new(),
            },
            Simple::View(v) => v,
            Simple::Needs => View::general(original, mask),
        }
    }

    /// One pass over the text that builds the view when every change is
    /// one character for one character (traditional characters whose
    /// conversion does not depend on their neighbours, case, full width,
    /// noise dropped before a Chinese character): nothing collapsed, no
    /// invisible characters. Unchanged stretches are copied whole; nothing
    /// is allocated for clean text.
    fn simple(original: &str, mask: u8) -> Simple {
        let table = special_bmp();
        let bytes = original.as_bytes();
        let mut text = String::new();
        let mut edits: Vec<Edit> = Vec::new();
        // Bytes of the original before `copied` are in `text`.
        let mut copied = 0usize;
        let (mut prev, mut prev2) = ('\0', '\0');
        let mut b = 0usize;
        while b < bytes.len() {
            let (c0, len) = crate::text::char_at(bytes, b);
            let u = c0 as u32;
            let mut c = c0;
            let mut flags = 0u8;
            let mut end = b + len;
            let special =
                !c0.is_ascii() && (u > 0xFFFF || table[(u / 64) as usize] & (1 << (u % 64)) != 0);
            if special {
                if mask & NOISE != 0 && is_invisible(c0) {
                    return Simple::Needs;
                }
                if mask & T2S != 0 && maybe_traditional(c0) {
                    // Converted here when its neighbours do not matter.
                    match t2s_alone(c0) {
                        Some(s) => {
                            c = s;
                            flags = T2S;
                        }
                        None if CONTEXT_T2S.contains(&c0) => {
                            c = t2s_in_context(original, b, len);
                            if c != c0 {
                                flags = T2S;
                            }
                        }
                        None => return Simple::Needs,
                    }
                } else if mask & WIDTH != 0
                    && let Some(h) = half_width(c0)
                {
                    c = h;
                    flags = WIDTH;
                }
            }
            if mask & CASE != 0 && c.is_ascii_uppercase() {
                c = c.to_ascii_lowercase();
                flags |= CASE;
            }
            if mask & NOISE != 0 && (special || c.is_ascii()) && is_noise(c) && is_cjk(prev) {
                // Dropped noise goes; the Chinese character after it stands
                // for the whole run.
                match noise_run(&original[b..], mask) {
                    NoiseRun::Kept => {}
                    NoiseRun::Dropped(n, used) if !(mask & T2S != 0 && maybe_traditional(n)) => {
                        c = n;
                        flags = NOISE;
                        end = b + used;
                    }
                    _ => return Simple::Needs,
                }
            }
            if mask & REPEAT != 0 && c == prev && c == prev2 && is_cjk(c) {
                return Simple::Needs;
            }
            if flags != 0 {
                if text.capacity() == 0 {
                    text.reserve(original.len());
                }
                text.push_str(&original[copied..b]);
                let at = text.len() as u32;
                text.push(c);
                copied = end;
                edits.push(Edit {
                    view: (at, text.len() as u32),
                    orig: (b as u32, end as u32),
                    flags,
                });
            }
            (prev2, prev) = (prev, c);
            b = end;
        }
        if edits.is_empty() {
            return Simple::Unchanged;
        }
        text.push_str(&original[copied..]);
        Simple::View(View { text, edits })
    }

    /// The view built character by character, with noise dropped and
    /// repeats collapsed.
    fn general(original: &str, mask: u8) -> View {
        let simplified = (mask & T2S != 0).then(|| fast2s::convert(original));
        let t2s_chars: Option<std::str::Chars<'_>> = match simplified.as_deref() {
            Some(s) if s.chars().count() == original.chars().count() => Some(s.chars()),
            _ => None,
        };
        let mut t2s_chars = t2s_chars;
        let mut units: Vec<Unit> = Vec::with_capacity(original.len() / 2);
        let mut pending = 0u8;
        for (b, c0) in original.char_indices() {
            let start = b as u32;
            let end = (b + c0.len_utf8()) as u32;
            let mut c = c0;
            let mut flags = 0u8;
            if let Some(it) = t2s_chars.as_mut()
                && let Some(s) = it.next()
                && s != c
            {
                c = s;
                flags |= T2S;
            }
            if mask & WIDTH != 0
                && let Some(h) = half_width(c)
            {
                c = h;
                flags |= WIDTH;
            }
            if mask & CASE != 0 && c.is_ascii_uppercase() {
                c = c.to_ascii_lowercase();
                flags |= CASE;
            }
            if mask & NOISE != 0 && is_invisible(c) {
                pending = NOISE;
                continue;
            }
            units.push(Unit {
                c,
                start,
                end,
                flags: flags | std::mem::take(&mut pending),
            });
        }
        if mask & NOISE != 0 && units.iter().any(|u| is_noise(u.c)) {
            units = drop_noise(units);
        }
        if mask & REPEAT != 0
            && units
                .windows(3)
                .any(|w| w[0].c == w[1].c && w[1].c == w[2].c)
        {
            units = collapse_repeats(units);
        }
        let mut v = View {
            text: String::with_capacity(original.len()),
            edits: Vec::new(),
        };
        for u in units {
            let at = v.text.len() as u32;
            v.text.push(u.c);
            if u.flags != 0 {
                v.edits.push(Edit {
                    view: (at, v.text.len() as u32),
                    orig: (u.start, u.end),
                    flags: u.flags,
                });
            }
        }
        v
    }

    /// The original byte offset of view byte `b`: `Err` with the edit
    /// that contains it, or `Ok` with the offset in an unchanged stretch.
    fn locate(&self, b: usize) -> Result<usize, &Edit> {
        let b = b as u32;
        let k = self.edits.partition_point(|e| e.view.0 <= b);
        match k.checked_sub(1).map(|k| &self.edits[k]) {
            Some(e) if b < e.view.1 => Err(e),
            Some(e) => Ok((b - e.view.1 + e.orig.1) as usize),
            None => Ok(b as usize),
        }
    }

    /// The original byte span of the view span `start..end` (non-empty).
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        if self.text.is_empty() {
            return (0, 0);
        }
        let s = match self.locate(start) {
            Ok(s) => s,
            Err(e) => e.orig.0 as usize,
        };
        let e = match self.locate(end.saturating_sub(1)) {
            Ok(last) => last + end - end.saturating_sub(1),
            Err(e) => e.orig.1 as usize,
        };
        (s, e.max(s))
    }

    /// The steps that changed anything inside `start..end`.
    pub fn changes(&self, start: usize, end: usize) -> u8 {
        if end <= start {
            return 0;
        }
        let k = self.edits.partition_point(|e| e.view.1 as usize <= start);
        self.edits[k..]
            .iter()
            .take_while(|e| (e.view.0 as usize) < end)
            .fold(0, |x, e| x | e.flags)
    }
}

/// What becomes of the noise run at the start of `rest` (right after a
/// Chinese character).
enum NoiseRun {
    /// Kept: longer than three characters, or not followed by a Chinese one.
    Kept,
    /// Dropped by [`drop_noise`]: the Chinese character after it, and the
    /// bytes up to that character's end.
    Dropped(char, usize),
    /// An invisible character on the way: those are removed before noise
    /// is looked at, so only the general path can tell.
    Invisible,
}

fn noise_run(rest: &str, mask: u8) -> NoiseRun {
    for (run, (i, c)) in rest.char_indices().enumerate() {
        if is_invisible(c) {
            return NoiseRun::Invisible;
        }
        let h = if mask & WIDTH != 0 {
            half_width(c).unwrap_or(c)
        } else {
            c
        };
        if !is_noise(h) {
            return if is_cjk(h) {
                NoiseRun::Dropped(h, i + c.len_utf8())
            } else {
                NoiseRun::Kept
            };
        }
        if run >= 3 {
            return NoiseRun::Kept;
        }
    }
    NoiseRun::Kept
}

/// Drop runs of at most three noise characters between two Chinese
/// characters; the following character is flagged and its span starts
/// where the noise started, so a match across it covers the noise.
fn drop_noise(units: Vec<Unit>) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::with_capacity(units.len());
    let mut i = 0;
    while i < units.len() {
        let prev_cjk = out.last().is_some_and(|u| is_cjk(u.c));
        if prev_cjk && is_noise(units[i].c) {
            let run = units[i..].iter().take_while(|u| is_noise(u.c)).count();
            if run <= 3 && units.get(i + run).is_some_and(|u| is_cjk(u.c)) {
                let next = Unit {
                    c: units[i + run].c,
                    start: units[i].start,
                    end: units[i + run].end,
                    flags: units[i + run].flags | NOISE,
                };
                out.push(next);
                i += run + 1;
                continue;
            }
        }
        out.push(units[i]);
        i += 1;
    }
    out
}

/// Collapse runs of three or more identical Chinese characters into one.
fn collapse_repeats(units: Vec<Unit>) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::with_capacity(units.len());
    let mut i = 0;
    while i < units.len() {
        let c = units[i].c;
        let run = units[i..].iter().take_while(|u| u.c == c).count();
        if run >= 3 && is_cjk(c) {
            let last = &units[i + run - 1];
            out.push(Unit {
                c,
                start: units[i].start,
                end: last.end,
                flags: units[i..i + run].iter().fold(REPEAT, |a, u| a | u.flags),
            });
            i += run;
        } else {
            out.push(units[i]);
            i += 1;
        }
    }
    out
}

/// Normalise a keyword the way the text is normalised.
pub fn normalize_term(term: &str, mask: u8) -> String {
    View::new(term, mask).text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orig<'a>(text: &'a str, v: &View, needle: &str) -> &'a str {
        let s = v.text.find(needle).unwrap();
        let (a, b) = v.original_span(s, s + needle.len());
        &text[a..b]
    }

    #[test]
    fn traditional_width_and_case() {
        let t = "我們的房屋被強拆，補償款ＡＢＣ１２３沒到位";
        let v = View::new(t, ALL);
        assert_eq!(v.text, "我们的房屋被强拆，补偿款abc123没到位");
        assert_eq!(orig(t, &v, "强拆"), "強拆");
        let s = v.text.find("强拆").unwrap();
        assert_eq!(v.changes(s, s + "强拆".len()), T2S);
        assert_eq!(orig(t, &v, "abc123"), "ＡＢＣ１２３");
    }

    #[test]
    fn evasion_noise_inside_words_is_dropped_with_spans_on_the_original() {
        for (t, word, raw) in [
            ("他们要拆*迁我家", "拆迁", "拆*迁"),
            ("补 偿 款至今没给", "补偿款", "补 偿 款"),
            ("半夜来强-拆", "强拆", "强-拆"),
            ("强\u{200B}拆", "强拆", "强\u{200B}拆"),
            ("拆★☆迁办", "拆迁", "拆★☆迁"),
        ] {
            let v = View::new(t, ALL);
            assert!(v.text.contains(word), "{t} → {}", v.text);
            assert_eq!(orig(t, &v, word), raw, "{t}");
            let s = v.text.find(word).unwrap();
            assert_ne!(v.changes(s, s + word.len()) & NOISE, 0);
        }
        // Not between Chinese characters: kept.
        let v = View::new("2024-03-05 上午", ALL);
        assert_eq!(v.text, "2024-03-05 上午");
        // Too long a run: kept.
        let v = View::new("拆****迁", ALL);
        assert_eq!(v.text, "拆****迁");
    }

    #[test]
    fn repeated_characters_collapse_only_from_three() {
        let t = "强强强拆，天天来人";
        let v = View::new(t, ALL);
        assert_eq!(v.text, "强拆，天天来人");
        assert_eq!(orig(t, &v, "强拆"), "强强强拆");
    }

    #[test]
    fn clean_text_needs_no_view() {
        assert!(View::build("我们村的房子被强拆了，补偿款没到位。2024-03-05", ALL).is_none());
        assert!(View::build("房子被強拆", ALL).is_some());
        assert!(View::build("强*拆", ALL).is_some());
        assert!(View::build("ＡＢＣ", ALL).is_some());
        assert!(View::build("强强强拆", ALL).is_some());
        assert!(View::build("强强强拆", T2S).is_none());
        // Converted only inside some words, so always looked at.
        assert_eq!(
            View::build("看著", ALL).map(|v| v.text),
            Some("看着".into())
        );
    }

    #[test]
    fn the_quick_path_builds_the_same_view() {
        let texts = [
            "ＡＢＣ１２３号楼的业主",
            "B5县A市的拆迁户 2024-03-05",
            "强 拆",
            "拆\u{3000}迁",
            "强强强拆",
            "哈哈哈，真的",
            "Ｗｉ－Ｆｉ 信号",
            "𠀀𠀀𠀀字",
            "",
            "abc——def",
            "上海市 2024年 3月",
            "市 ABC",
            "拆 ** 迁",
            "拆 **** 迁",
            "城建 -- 拆迁 —— 问题",
            "房　屋",
            "市 \u{200B}区",
            "拆 迁 办 的 人",
            "强 强 强拆",
            "拆・迁",
            "拆＊＿迁",
            "拆 ＡＢ 迁",
            "Ａ 拆 - 迁 Ｂ",
            "拆·迁★办",
            "拆 -- 迁 -- -- 办",
            "补 偿 款 至今 没给",
            "我們的房屋被強拆，補償款ＡＢＣ沒到位",
            "強 拆 補*償",
            "乾隆年間的乾貨",
            "看著他們",
            "強強強拆",
            "強强强拆",
            "國 國 國",
            "𠀀強",
            "著名",
            "看著",
            "看著著",
            "他看著，乾隆",
            "慰藉和藉口",
            "計畫與畫面",
            "答覆 覆蓋",
            "幺麽",
        ];
        for t in texts {
            for mask in [ALL, ALL & !T2S, WIDTH | CASE, NOISE, REPEAT, WIDTH | NOISE] {
                let full = View::general(t, mask);
                let quick = match View::simple(t, mask) {
                    Simple::View(v) => v,
                    Simple::Unchanged => View {
                        text: t.to_string(),
                        edits: Vec::new(),
                    },
                    Simple::Needs => continue,
                };
                assert_eq!(quick.text, full.text, "{t} {mask}");
                for (a, _) in full.text.char_indices() {
                    let ends = full.text[a..].char_indices().skip(1).map(|(b, _)| a + b);
                    for b in ends.chain([full.text.len()]) {
                        assert_eq!(quick.original_span(a, b), full.original_span(a, b), "{t}");
                        assert_eq!(quick.changes(a, b), full.changes(a, b), "{t}");
                    }
                }
            }
        }
        assert!(matches!(View::simple("强 拆", ALL & !T2S), Simple::View(_)));
        assert!(matches!(View::simple("强\u{200B}拆", ALL), Simple::Needs));
        assert!(matches!(View::simple("强强强拆", ALL), Simple::Needs));
        assert!(matches!(View::simple("房子被強拆", ALL), Simple::View(_)));
        assert!(matches!(View::simple("看著", ALL), Simple::View(_)));
        assert!(matches!(View::simple("显著", ALL), Simple::Unchanged));
        assert!(matches!(View::simple("𠀀", ALL), Simple::Needs));
        assert!(matches!(
            View::simple("ＡＢＣ", ALL & !T2S),
            Simple::View(_)
        ));
        assert!(matches!(View::simple("房子被强拆", ALL), Simple::Unchanged));
    }

    #[test]
    fn the_quick_path_agrees_on_random_mixtures() {
        // Traditional (some converted only in context), simplified, noise,
        // full width, case, invisible characters, breaks.
        let alphabet: Vec<char> = "強拆补償著看乾隆藉口於畫計覆答幺麽國国房屋被 *-·★＊＿ＡＢａb1１\u{200B}\u{3000}，。我们"
            .chars()
            .collect();
        let mut rng = crate::util::Rng::new(7);
        for _ in 0..20_000 {
            let n = 1 + rng.below(12);
            let t: String = (0..n)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect();
            for mask in [ALL, ALL & !T2S, T2S, T2S | NOISE, WIDTH | CASE | NOISE] {
                let full = View::general(&t, mask);
                let quick = match View::simple(&t, mask) {
                    Simple::View(v) => v,
                    Simple::Unchanged => View {
                        text: t.clone(),
                        edits: Vec::new(),
                    },
                    Simple::Needs => continue,
                };
                assert_eq!(quick.text, full.text, "{t:?} {mask}");
                for (a, _) in full.text.char_indices() {
                    for (b, _) in full.text[a..].char_indices().skip(1) {
                        let b = a + b;
                        assert_eq!(quick.original_span(a, b), full.original_span(a, b), "{t:?}");
                        assert_eq!(quick.changes(a, b), full.changes(a, b), "{t:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn steps_can_be_chosen() {
        let t = "北京路的強拆";
        assert_eq!(View::new(t, WIDTH).text, t);
        assert_eq!(View::new(t, T2S).text, "北京路的强拆");
        assert_eq!(normalize_term("強拆", ALL), "强拆");
        assert_eq!(describe(T2S | NOISE), ["繁简转换", "去除夹杂符号"]);
    }
}
