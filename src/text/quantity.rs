//! Head counts written in text, as number ranges: 五十多人 → 50–59,
//! 数十名 → 20–99, 近百户 → 80–99, 上百人 → 100–199, 10余人 → 10–19,
//! 三四十个 → 30–40, 两百多户业主 → 200–299 households, （23人签名） → 23.
//!
//! [`parse_number`] reads the number part (Chinese numerals, digits,
//! approximations); [`find_counts`] finds every number followed by a
//! person or household unit, so that 几十年, 上百万元 or 五口人 are not
//! taken for group sizes.

/// What is being counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CountUnit {
    /// People (人, 名职工, 位老兵 …).
    Persons,
    /// Households (户, 户人家 …).
    Households,
}

impl CountUnit {
    /// Chinese name.
    pub fn name(self) -> &'static str {
        match self {
            CountUnit::Persons => "人",
            CountUnit::Households => "户",
        }
    }
}

/// A head count found in text. Offsets are bytes of the searched text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// Start of the expression.
    pub start: usize,
    /// End of the expression (after the unit).
    pub end: usize,
    /// Lowest value the expression allows.
    pub lo: u32,
    /// Highest value.
    pub hi: u32,
    /// People or households.
    pub unit: CountUnit,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Digit(u32, u32),
    Zero,
    Place(u32),
}

fn cn_digit(c: char) -> Option<u32> {
    Some(match c {
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

fn place(c: char) -> Option<u32> {
    Some(match c {
        '十' => 10,
        '百' => 100,
        '千' => 1000,
        '万' => 10000,
        _ => return None,
    })
}

fn eval(toks: &[Tok], hi: bool) -> u64 {
    let (mut total, mut section, mut num) = (0u64, 0u64, 0u64);
    let mut seen_digit = false;
    for t in toks {
        match *t {
            Tok::Digit(a, b) => {
                num = u64::from(if hi { b } else { a });
                seen_digit = true;
            }
            Tok::Zero => {}
            Tok::Place(10000) => {
                if !seen_digit && section == 0 {
                    num = 1;
                }
                section = (section + num) * 10000;
                total += section;
                section = 0;
                num = 0;
                seen_digit = false;
            }
            Tok::Place(p) => {
                if !seen_digit {
                    num = 1;
                }
                section += num * u64::from(p);
                num = 0;
                seen_digit = false;
            }
        }
    }
    total + section + num
}

/// Parse the number expression at the start of `s`. Returns the range and
/// the number of bytes used. Accepts digits (with a Chinese place after:
/// 3万), Chinese numerals, 几/数 as an unknown digit, two digits as a
/// range (三四十, 十七八), the prefixes 近/将近/上/好/约/大约 and the
/// suffixes 多/余/来/左右.
pub fn parse_number(s: &str) -> Option<(u32, u32, usize)> {
    let first = s.chars().next()?;
    let idioms = [
        ("成百上千", 100u32, 1999u32),
        ("成千上万", 1000, 99_999),
        ("上千上万", 1000, 99_999),
    ];
    for (word, lo, hi) in idioms.into_iter().filter(|_| matches!(first, '成' | '上')) {
        if s.starts_with(word) {
            return Some((lo, hi, word.len()));
        }
    }
    let mut rest = s;
    let mut near = false;
    let mut upward = false;
    let prefixes = [
        "将近",
        "接近",
        "大约",
        "大概",
        "差不多",
        "约",
        "近",
        "好",
        "上",
    ];
    let may_have_prefix = !first.is_ascii_digit() && !tables().has(NUMERAL, first);
    for p in prefixes.into_iter().filter(|_| may_have_prefix) {
        if let Some(r) = rest.strip_prefix(p) {
            match p {
                "将近" | "接近" | "近" => near = true,
                "上" => {
                    // 上百, 上千, 上万 only.
                    if !r.starts_with(['百', '千', '万']) {
                        return None;
                    }
                    upward = true;
                }
                _ => {}
            }
            rest = r;
            break;
        }
    }
    let digits: usize = rest.chars().take_while(char::is_ascii_digit).count();
    let (mut lo, mut hi, mut last_place);
    if digits > 0 {
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let tz = trailing_zeros(n);
        let mut mult = 1u64;
        if let Some(c) = rest.chars().next()
            && let Some(p) = place(c)
            && c != '十'
        {
            mult = u64::from(p);
            rest = &rest[c.len_utf8()..];
        }
        lo = n * mult;
        hi = lo;
        last_place = 10u64.pow(tz as u32) * mult;
        if tz == 0 && mult == 1 {
            last_place = 1;
        }
    } else {
        let mut toks: Vec<Tok> = Vec::with_capacity(8);
        let mut used = 0;
        let mut chars = rest.char_indices().peekable();
        let mut placeholder = false;
        while let Some(&(i, c)) = chars.peek() {
            let tok = if let Some(d) = cn_digit(c) {
                // Two digits in a row are a range: 三四十, 十七八, 一两百.
                if let Some(Tok::Digit(a, b)) = toks.last().copied()
                    && a == b
                    && d == a + 1
                {
                    toks.pop();
                    Tok::Digit(a, d)
                } else {
                    Tok::Digit(d, d)
                }
            } else if c == '几' || (c == '数' && toks.is_empty()) {
                placeholder = true;
                if matches!(toks.last(), Some(Tok::Place(_))) {
                    Tok::Digit(1, 9)
                } else {
                    Tok::Digit(2, 9)
                }
            } else if c == '零' || c == '〇' {
                Tok::Zero
            } else if let Some(p) = place(c) {
                Tok::Place(p)
            } else {
                break;
            };
            toks.push(tok);
            used = i + c.len_utf8();
            chars.next();
        }
        if toks.is_empty() || toks == [Tok::Zero] {
            return None;
        }
        rest = &rest[used..];
        lo = eval(&toks, false);
        hi = eval(&toks, true);
        last_place = match toks.last() {
            Some(Tok::Place(p)) => u64::from(*p),
            _ => 1,
        };
        if placeholder && last_place > 1 {
            // 几十 → 20–99: the unknown digit leaves the lower places open.
            hi += last_place - 1;
        }
    }
    let mut more = false;
    for suf in ["多", "余", "来"] {
        if let Some(r) = rest.strip_prefix(suf) {
            rest = r;
            more = true;
            break;
        }
    }
    if more && last_place > 1 {
        hi += last_place - 1;
    } else if more {
        hi += 1;
    }
    if let Some(r) = rest.strip_prefix("左右") {
        rest = r;
    }
    if upward {
        hi = lo * 2 - 1;
    }
    if near {
        hi = lo.saturating_sub(1).max(1);
        lo = lo * 4 / 5;
    }
    let lo = u32::try_from(lo).ok()?;
    let hi = u32::try_from(hi.max(lo as u64)).ok()?;
    Some((lo, hi, s.len() - rest.len()))
}

fn trailing_zeros(mut n: u64) -> usize {
    let mut tz = 0;
    while n >= 10 && n.is_multiple_of(10) {
        n /= 10;
        tz += 1;
    }
    tz
}

/// Nouns for people that may follow a number (with or without 个/名/位).
const PERSON_NOUNS: &[&str] = &[
    "死者家属",
    "受害人",
    "受害者",
    "同乡",
    "老乡",
    "乡亲",
    "亲属",
    "工友",
    "下岗职工",
    "退休职工",
    "老职工",
    "职工",
    "下岗工人",
    "工人",
    "员工",
    "农民工",
    "民工",
    "村民",
    "居民",
    "群众",
    "业主",
    "老兵",
    "战友",
    "退役军人",
    "退伍军人",
    "复员军人",
    "移民",
    "家属",
    "家长",
    "学生",
    "老人",
    "商户",
    "摊贩",
    "教师",
    "老师",
    "代课教师",
    "民办教师",
    "知青",
    "考生",
    "病人",
    "患者",
    "乘客",
    "司机",
    "农民",
    "渔民",
    "股民",
    "投资人",
    "债权人",
    "工友",
    "同事",
    "租户",
    "住户",
    "人",
];

/// Nouns for households that may follow 户/家.
const HOUSEHOLD_AFTER: &[&str] = &[
    "人家",
    "村民",
    "居民",
    "群众",
    "业主",
    "农户",
    "移民",
    "拆迁户",
    "住户",
    "商户",
];

/// Find every head count in `text`.
pub fn find_counts(text: &str) -> Vec<Count> {
    let table = tables();
    let numeral = |c: char| table.has(NUMERAL, c);
    let mut out = Vec::new();
    // Bytes before `skip_to` belong to an expression already read.
    let mut skip_to = 0usize;
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        // Most characters can start no number expression: one table look-up.
        if i < skip_to || !table.has(START, c) {
            prev = Some(c);
            continue;
        }
        let after = i + c.len_utf8();
        let candidate = if numeral(c) || matches!(c, '几' | '数') {
            true
        } else {
            // A prefix only counts when a number follows closely (差不多三十).
            text[after..]
                .chars()
                .take(3)
                .any(|n| numeral(n) || n == '几')
                // 附近/最近 are not 近 (nearly).
                && !(c == '近' && matches!(prev, Some('附' | '最' | '将' | '接')))
        };
        if candidate
            && !prev.is_some_and(numeral)
            && let Some((lo, hi, used)) = parse_number(&text[i..])
        {
            if let Some((unit, unit_len)) = unit_after(&text[i + used..]) {
                out.push(Count {
                    start: i,
                    end: i + used + unit_len,
                    lo,
                    hi,
                    unit,
                });
                skip_to = i + used + unit_len;
            } else {
                skip_to = i + used.max(c.len_utf8());
            }
        }
        prev = Some(c);
    }
    out
}

/// Table bit: the character may start a number expression.
const START: u8 = 1;
/// Table bit: a digit or a Chinese numeral or place.
const NUMERAL: u8 = 2;
/// Table bit: the character may start a unit after a number.
const UNIT_FIRST: u8 = 4;

/// Per-character flags for the Basic Multilingual Plane, built once.
struct Tables(Vec<u8>);

impl Tables {
    fn has(&self, bit: u8, c: char) -> bool {
        self.0.get(c as usize).is_some_and(|f| f & bit != 0)
    }
}

fn tables() -> &'static Tables {
    static T: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut t = vec![0u8; 0x10000];
        let mut set = |c: char, bit: u8| {
            if let Some(f) = t.get_mut(c as usize) {
                *f |= bit;
            }
        };
        for u in 0..0x10000u32 {
            if let Some(c) = char::from_u32(u)
                && (c.is_ascii_digit() || cn_digit(c).is_some() || place(c).is_some())
            {
                set(c, NUMERAL | START);
            }
        }
        for c in [
            '几', '数', '上', '近', '将', '接', '约', '大', '好', '成', '差',
        ] {
            set(c, START);
        }
        for w in PERSON_NOUNS.iter().chain(HOUSEHOLD_AFTER) {
            if let Some(c) = w.chars().next() {
                set(c, UNIT_FIRST);
            }
        }
        for c in ['个', '名', '位', '户', '家'] {
            set(c, UNIT_FIRST);
        }
        Tables(t)
    })
}

/// The unit after a number: optional 个/名/位, then a person noun; or 户
/// (optionally followed by 人家/村民 …). `五口人` (family size) and `人次`
/// (visits) are not head counts.
fn unit_after(s: &str) -> Option<(CountUnit, usize)> {
    if !tables().has(UNIT_FIRST, s.chars().next()?) {
        return None;
    }
    if let Some(r) = s.strip_prefix('户').or_else(|| s.strip_prefix('家')) {
        let household_noun = HOUSEHOLD_AFTER.iter().find(|n| r.starts_with(**n));
        return match household_noun {
            Some(n) => Some((CountUnit::Households, '户'.len_utf8() + n.len())),
            None if s.starts_with('户') => Some((CountUnit::Households, '户'.len_utf8())),
            None => None,
        };
    }
    let (skip, r) = match s.chars().next() {
        Some(c @ ('个' | '名' | '位')) => (c.len_utf8(), &s[c.len_utf8()..]),
        _ => (0, s),
    };
    let noun = PERSON_NOUNS.iter().find(|n| r.starts_with(**n))?;
    if *noun == "人" && r[noun.len()..].starts_with('次') {
        return None;
    }
    Some((CountUnit::Persons, skip + noun.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_expressions_parse_to_ranges() {
        let cases: &[(&str, u32, u32)] = &[
            ("五十多", 50, 59),
            ("数十", 20, 99),
            ("近百", 80, 99),
            ("上百", 100, 199),
            ("10余", 10, 19),
            ("三四十", 30, 40),
            ("两百多", 200, 299),
            ("一百多", 100, 199),
            ("23", 23, 23),
            ("几十", 20, 99),
            ("十几", 11, 19),
            ("几百", 200, 999),
            ("上千", 1000, 1999),
            ("成百上千", 100, 1999),
            ("三十", 30, 30),
            ("十五", 15, 15),
            ("一百零五", 105, 105),
            ("三万五千", 35000, 35000),
            ("二三十", 20, 30),
            ("十七八", 17, 18),
            ("200余", 200, 299),
            ("30多", 30, 39),
            ("3万多", 30000, 39999),
            ("好几十", 20, 99),
            ("几", 2, 9),
            ("近30", 24, 29),
            ("约50", 50, 50),
            ("一两百", 100, 200),
            ("十来", 10, 19),
            ("两千多", 2000, 2999),
        ];
        for &(s, lo, hi) in cases {
            let got = parse_number(s).map(|(a, b, n)| (a, b, n == s.len()));
            assert_eq!(got, Some((lo, hi, true)), "{s}");
        }
        assert!(cases.len() >= 25);
    }

    fn counts(text: &str) -> Vec<(&str, u32, u32, CountUnit)> {
        find_counts(text)
            .into_iter()
            .map(|c| (&text[c.start..c.end], c.lo, c.hi, c.unit))
            .collect()
    }

    #[test]
    fn counts_in_sentences_with_units() {
        use CountUnit::*;
        assert_eq!(
            counts("我们村五十多人联名"),
            [("五十多人", 50, 59, Persons)]
        );
        assert_eq!(counts("数十名群众聚集"), [("数十名群众", 20, 99, Persons)]);
        assert_eq!(
            counts("近百户村民的房子"),
            [("近百户村民", 80, 99, Households)]
        );
        assert_eq!(counts("上百人围在门口"), [("上百人", 100, 199, Persons)]);
        assert_eq!(counts("有10余人受伤"), [("10余人", 10, 19, Persons)]);
        assert_eq!(counts("三四十个人来了"), [("三四十个人", 30, 40, Persons)]);
        assert_eq!(
            counts("两百多户业主"),
            [("两百多户业主", 200, 299, Households)]
        );
        assert_eq!(
            counts("一百多名职工"),
            [("一百多名职工", 100, 199, Persons)]
        );
        assert_eq!(counts("联名信（23人签名）"), [("23人", 23, 23, Persons)]);
        assert_eq!(
            counts("四十多个农民工"),
            [("四十多个农民工", 40, 49, Persons)]
        );
        assert_eq!(counts("三十多户的房子"), [("三十多户", 30, 39, Households)]);
        assert_eq!(
            counts("200余名下岗职工"),
            [("200余名下岗职工", 200, 299, Persons)]
        );
        assert_eq!(counts("五户人家"), [("五户人家", 5, 5, Households)]);
        assert_eq!(counts("发起万人签名"), [("万人", 10000, 10000, Persons)]);
        assert_eq!(
            counts("附近的三十多户村民"),
            [("三十多户村民", 30, 39, Households)]
        );
    }

    #[test]
    fn numbers_without_a_person_unit_are_not_counts() {
        for t in [
            "几十年前的事",
            "上百万元的工程款",
            "每平方一千二",
            "家里五口人",
            "接待了三百人次",
            "走了十几公里",
            "这五家企业",
            "2024年3月",
            "一百多平方米",
            "附近100多米",
        ] {
            assert!(counts(t).is_empty(), "{t}: {:?}", counts(t));
        }
    }
}
