//! Reading the values of record fields as petition systems write them:
//! dates in several forms, head counts in digits, Chinese numerals and
//! approximations (约30, 三十, ３０), and field values as read.

use chrono::NaiveDate;

/// How a `persons` value was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persons {
    /// A plain count (`12`, `12人`, `12.0`).
    Exact(u32),
    /// Read leniently, with how.
    Lenient(u32, &'static str),
    /// Not a head count, with why.
    Unknown(&'static str),
}

/// Read the `persons` field as staff write it: `12`, `12人`, `12.0`; and
/// leniently full-width digits (３０), Chinese numerals (三十, 一百二十,
/// 两百), and approximate counts (约30, 30余人, 三十多人, 近50, 50左右),
/// which are read as the number given.
pub fn read_persons(s: &str) -> Persons {
    if let Some(n) = parse_persons(s) {
        return Persons::Exact(n);
    }
    let mut how = "";
    let mut t: String = s
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => {
                how = "全角数字";
                char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c)
            }
            '．' => '.',
            _ => c,
        })
        .collect();
    for suffix in [
        "人左右",
        "人上下",
        "人以上",
        "左右",
        "上下",
        "以上",
        "来人",
        "余人",
        "多人",
        "余",
        "多",
        "来",
        "人",
        "名",
        "位",
        "个",
    ] {
        if let Some(rest) = t.strip_suffix(suffix) {
            if !matches!(suffix, "人" | "名" | "位" | "个") {
                how = "约数";
            }
            t = rest.to_string();
            break;
        }
    }
    for prefix in ["大约", "将近", "接近", "约", "近", "逾", "超过"] {
        if let Some(rest) = t.strip_prefix(prefix) {
            how = "约数";
            t = rest.to_string();
            break;
        }
    }
    if let Some(n) = parse_persons(&t) {
        return Persons::Lenient(
            n,
            if how.is_empty() {
                "写法不标准"
            } else {
                how
            },
        );
    }
    if let Some(n) = chinese_number(&t) {
        let how = if how == "约数" {
            "中文数字约数"
        } else {
            "中文数字"
        };
        return Persons::Lenient(n, how);
    }
    if t.parse::<f64>().is_ok_and(|f| f.is_finite()) {
        return Persons::Unknown("不是非负整数（小数或负数）");
    }
    Persons::Unknown("无法识别为人数")
}

/// A Chinese numeral below 100 000 000: 三十, 三十五, 一百零五, 两百,
/// 一千二百, 十二, 三万; `None` for anything else.
pub fn chinese_number(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let digit = |c: char| -> Option<u32> {
        Some(match c {
            '〇' | '零' => 0,
            '一' | '壹' | '幺' => 1,
            '二' | '两' | '贰' | '兩' => 2,
            '三' | '叁' => 3,
            '四' | '肆' => 4,
            '五' | '伍' => 5,
            '六' | '陆' | '陸' => 6,
            '七' | '柒' => 7,
            '八' | '捌' => 8,
            '九' | '玖' => 9,
            _ => return None,
        })
    };
    let unit = |c: char| -> Option<u32> {
        Some(match c {
            '十' | '拾' => 10,
            '百' | '佰' => 100,
            '千' | '仟' => 1000,
            _ => return None,
        })
    };
    let mut total: u32 = 0;
    let mut section: u32 = 0;
    let mut pending: Option<u32> = None;
    let mut last_unit = u32::MAX;
    for c in s.chars() {
        if let Some(d) = digit(c) {
            if pending.is_some() {
                return None;
            }
            pending = (d != 0).then_some(d);
        } else if let Some(u) = unit(c) {
            if u >= last_unit {
                return None;
            }
            last_unit = u;
            let d = match pending.take() {
                Some(d) => d,
                None if u == 10 && section == 0 => 1,
                None => return None,
            };
            section = section.checked_add(d.checked_mul(u)?)?;
        } else if c == '万' || c == '萬' {
            let sec = section.checked_add(pending.take().unwrap_or(0))?;
            if sec == 0 || total != 0 {
                return None;
            }
            total = sec.checked_mul(10_000)?;
            section = 0;
            last_unit = u32::MAX;
        } else {
            return None;
        }
    }
    total
        .checked_add(section)?
        .checked_add(pending.unwrap_or(0))
}

/// A raw field value: a string, or a list (JSON arrays of petitioner ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// A single value.
    Scalar(String),
    /// Several values.
    List(Vec<String>),
}

impl FieldValue {
    pub(crate) fn byte_len(&self) -> usize {
        match self {
            FieldValue::Scalar(s) => s.len(),
            FieldValue::List(v) => v.iter().map(String::len).sum(),
        }
    }

    pub(crate) fn truncate(&mut self, limit: usize) {
        let cut = |s: &mut String, limit: usize| {
            let mut end = limit.min(s.len());
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
        };
        match self {
            FieldValue::Scalar(s) => cut(s, limit),
            FieldValue::List(v) => {
                let mut left = limit;
                v.retain_mut(|s| {
                    let keep = left > 0;
                    cut(s, left);
                    left -= s.len();
                    keep
                });
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            FieldValue::Scalar(s) => s.trim().is_empty(),
            FieldValue::List(v) => v.iter().all(|s| s.trim().is_empty()),
        }
    }

    pub(crate) fn into_scalar(self) -> String {
        match self {
            FieldValue::Scalar(s) => s.trim().to_string(),
            FieldValue::List(v) => v.join("、"),
        }
    }

    /// Split into ids: lists stay as they are; a string is split on the
    /// separators staff use (、，,;；/ and whitespace).
    pub(crate) fn into_list(self) -> Vec<String> {
        let parts: Vec<String> = match self {
            FieldValue::List(v) => v,
            FieldValue::Scalar(s) => s
                .split(['、', '，', ',', ';', '；', '/', ' ', '\t', '\n'])
                .map(str::to_string)
                .collect(),
        };
        parts
            .into_iter()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()
    }
}

/// Parse a registration date: `2024-03-05`, `2024/3/5`, `2024.3.5`,
/// `2024年3月5日`, `20240305`, each optionally followed by a time.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let digits: String = s.chars().take(8).collect();
    if digits.len() == 8 && digits.chars().all(|c| c.is_ascii_digit()) && s.len() == 8 {
        let y = digits[0..4].parse().ok()?;
        let m = digits[4..6].parse().ok()?;
        let d = digits[6..8].parse().ok()?;
        return NaiveDate::from_ymd_opt(y, m, d);
    }
    let mut nums = [0u32; 3];
    let mut count = 0;
    let mut cur: Option<u32> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            let v = cur.unwrap_or(0).checked_mul(10)?.checked_add(d)?;
            cur = Some(v);
        } else {
            if let Some(v) = cur.take() {
                if count == 3 {
                    break;
                }
                nums[count] = v;
                count += 1;
            }
            let is_sep = matches!(c, '-' | '/' | '.' | '年' | '月');
            if count == 3 || !is_sep {
                break;
            }
        }
    }
    if let Some(v) = cur
        && count < 3
    {
        nums[count] = v;
        count += 1;
    }
    if count != 3 || nums[0] < 1900 {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(nums[0]).ok()?, nums[1], nums[2])
}

/// Parse the `persons` field: a non-negative integer, optionally followed
/// by 人 (e.g. `12`, `12人`, `12.0` from spreadsheets).
pub fn parse_persons(s: &str) -> Option<u32> {
    let s = s.trim().trim_end_matches('人').trim();
    if let Ok(n) = s.parse::<u32>() {
        return Some(n);
    }
    let f: f64 = s.parse().ok()?;
    if f >= 0.0 && f.fract() == 0.0 && f <= f64::from(u32::MAX) {
        Some(f as u32)
    } else {
        None
    }
}

/// Shorten a string to at most `n` characters, adding … when cut.
pub fn truncate(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().nth(n).is_some() {
        out.push('…');
    }
    out
}
