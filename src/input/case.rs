//! The petition case record, the field aliases accepted on input, and the
//! parsing of field values (dates, levels, person counts, petitioner ids).
//!
//! Readers (`input`) turn each line or row into a list of `(key, value)`
//! pairs; [`Case::from_fields`] maps the keys through [`canonical_field`]
//! and validates the values. Every refusal is a [`FieldError`] with a
//! Chinese reason for the rejects file.

use chrono::NaiveDate;
use serde::Serialize;

/// Largest accepted `text` field, in bytes (after decoding to UTF-8).
pub const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Largest accepted value of any other field, in bytes.
pub const MAX_FIELD_BYTES: usize = 4 * 1024;

/// One petition case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    /// Case number as registered (编号).
    pub id: String,
    /// Registration date (登记日期).
    pub received: NaiveDate,
    /// Channel: 来信, 来访, 网上, 电话 … (free text, kept as given).
    pub channel: Option<String>,
    /// Petitioner ids (one or several).
    pub petitioner_ids: Vec<String>,
    /// Number of people who brought the case, when recorded.
    pub persons: Option<u32>,
    /// Level of office the case was brought to.
    pub target_level: Option<Level>,
    /// Place the matter concerns.
    pub location: Option<String>,
    /// Short title or summary line.
    pub title: Option<String>,
    /// Free text of the letter, visit record, call or message.
    pub text: String,
}

/// Administrative level of the office a case was brought to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Level {
    /// 乡镇 (township / street office).
    #[serde(rename = "乡镇")]
    Township,
    /// 县 (county / district).
    #[serde(rename = "县")]
    County,
    /// 市 (prefecture / city).
    #[serde(rename = "市")]
    City,
    /// 省 (province).
    #[serde(rename = "省")]
    Province,
    /// 国家 (national bodies, Beijing).
    #[serde(rename = "国家")]
    National,
}

impl Level {
    /// Parse the ways staff write a level: 乡镇/乡/镇/街道, 县/区/县级, 市/地市,
    /// 省/省级, 国家/中央/京/国家级, and the ASCII names.
    pub fn parse(s: &str) -> Option<Level> {
        let s = s.trim().trim_end_matches('级');
        Some(match s {
            "乡镇" | "乡" | "镇" | "街道" | "乡镇街道" | "township" => Level::Township,
            "县" | "区" | "县区" | "县市区" | "county" => Level::County,
            "市" | "地市" | "州" | "地区" | "city" => Level::City,
            "省" | "自治区" | "province" => Level::Province,
            "国家" | "中央" | "京" | "全国" | "national" => Level::National,
            _ => return None,
        })
    }

    /// The Chinese name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Level::Township => "乡镇",
            Level::County => "县",
            Level::City => "市",
            Level::Province => "省",
            Level::National => "国家",
        }
    }
}

/// Canonical field names, as used in JSON and in the documentation.
pub const FIELDS: [&str; 9] = [
    "id",
    "received",
    "channel",
    "petitioner_ids",
    "persons",
    "target_level",
    "location",
    "title",
    "text",
];

/// Map an input header or JSON key to its canonical field name.
///
/// Accepts the ASCII names in [`FIELDS`] and the Chinese headers that
/// petition systems export. Unknown names return `None` and are ignored.
pub fn canonical_field(name: &str) -> Option<&'static str> {
    let n = name.trim().trim_start_matches('\u{feff}');
    let lower = n.to_ascii_lowercase();
    Some(match lower.as_str() {
        "id" | "case_id" | "编号" | "案件编号" | "信访编号" | "登记编号" | "信访件编号"
        | "序号" => "id",
        "received" | "date" | "登记日期" | "登记时间" | "信访日期" | "来信日期" | "来访日期"
        | "受理日期" | "日期" | "收件日期" => "received",
        "channel" | "渠道" | "信访形式" | "信访方式" | "来源" | "形式" => "channel",
        "petitioner_ids"
        | "petitioner_id"
        | "petitioners"
        | "信访人"
        | "信访人编号"
        | "信访人证件号"
        | "身份证号"
        | "信访人身份证号"
        | "反映人" => "petitioner_ids",
        "persons" | "人数" | "信访人数" | "来访人数" | "涉及人数" => "persons",
        "target_level" | "level" | "信访层级" | "诉求层级" | "来访层级" | "到访层级"
        | "受理层级" | "去向层级" => "target_level",
        "location" | "地点" | "问题属地" | "属地" | "地址" | "问题发生地" | "所属地区" => {
            "location"
        }
        "title" | "标题" | "主题" | "事由" | "摘要" | "留言主题" => "title",
        "text" | "内容" | "信访内容" | "反映内容" | "正文" | "诉求" | "主要诉求" | "留言详情"
        | "来信内容" => "text",
        _ => return None,
    })
}

/// Why a record could not be turned into a [`Case`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError(pub String);

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Case {
    /// Build a case from `(key, value)` pairs. Keys go through
    /// [`canonical_field`]; unknown keys are ignored; a field given twice
    /// (e.g. both `text` and `内容`) is refused.
    pub fn from_fields<'a, I>(fields: I) -> Result<Case, FieldError>
    where
        I: IntoIterator<Item = (&'a str, FieldValue)>,
    {
        let mut slots: [Option<FieldValue>; 9] = Default::default();
        for (key, value) in fields {
            let Some(canon) = canonical_field(key) else {
                continue;
            };
            let idx = FIELDS.iter().position(|f| *f == canon).unwrap_or(0);
            let limit = if canon == "text" {
                MAX_TEXT_BYTES
            } else {
                MAX_FIELD_BYTES
            };
            if value.byte_len() > limit {
                return Err(FieldError(format!(
                    "字段 {canon}（{key}）过长：{} 字节，上限 {limit} 字节",
                    value.byte_len()
                )));
            }
            if value.is_empty() {
                continue;
            }
            if slots[idx].is_some() {
                return Err(FieldError(format!(
                    "字段 {canon} 出现了两次（{key} 与另一个同义列），请只保留一列"
                )));
            }
            slots[idx] = Some(value);
        }
        let [
            id,
            received,
            channel,
            petitioner_ids,
            persons,
            target_level,
            location,
            title,
            text,
        ] = slots;
        let id = id
            .map(FieldValue::into_scalar)
            .ok_or_else(|| FieldError("缺少必填字段 id（编号）".into()))?;
        let received = received
            .map(FieldValue::into_scalar)
            .ok_or_else(|| FieldError("缺少必填字段 received（登记日期）".into()))?;
        let received = parse_date(&received).ok_or_else(|| {
            FieldError(format!(
                "登记日期无法识别：“{}”，应为 2024-03-05、2024/3/5 或 2024年3月5日",
                truncate(&received, 40)
            ))
        })?;
        let text = text
            .map(FieldValue::into_scalar)
            .ok_or_else(|| FieldError("缺少必填字段 text（内容），或内容为空".into()))?;
        let persons = match persons.map(FieldValue::into_scalar) {
            None => None,
            Some(p) => Some(parse_persons(&p).ok_or_else(|| {
                FieldError(format!(
                    "人数无法识别：“{}”，应为非负整数",
                    truncate(&p, 20)
                ))
            })?),
        };
        let target_level = match target_level.map(FieldValue::into_scalar) {
            None => None,
            Some(l) => Some(Level::parse(&l).ok_or_else(|| {
                FieldError(format!(
                    "信访层级无法识别：“{}”，应为 乡镇/县/市/省/国家 之一",
                    truncate(&l, 20)
                ))
            })?),
        };
        Ok(Case {
            id: id.trim().to_string(),
            received,
            channel: channel.map(FieldValue::into_scalar),
            petitioner_ids: petitioner_ids
                .map(FieldValue::into_list)
                .unwrap_or_default(),
            persons,
            target_level,
            location: location.map(FieldValue::into_scalar),
            title: title.map(FieldValue::into_scalar),
            text,
        })
    }
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
    fn byte_len(&self) -> usize {
        match self {
            FieldValue::Scalar(s) => s.len(),
            FieldValue::List(v) => v.iter().map(String::len).sum(),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            FieldValue::Scalar(s) => s.trim().is_empty(),
            FieldValue::List(v) => v.iter().all(|s| s.trim().is_empty()),
        }
    }

    fn into_scalar(self) -> String {
        match self {
            FieldValue::Scalar(s) => s.trim().to_string(),
            FieldValue::List(v) => v.join("、"),
        }
    }

    /// Split into ids: lists stay as they are; a string is split on the
    /// separators staff use (、，,;；/ and whitespace).
    fn into_list(self) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_forms_staff_write() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 5);
        for s in [
            "2024-03-05",
            "2024/3/5",
            "2024.3.5",
            "2024年3月5日",
            "2024年03月05日 09:30",
            "2024-03-05 14:00:00",
            "20240305",
        ] {
            assert_eq!(parse_date(s), d, "{s}");
        }
        for s in ["2024-13-01", "昨天", "", "2024-02-30", "12/03"] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }

    #[test]
    fn chinese_headers_map_to_fields() {
        assert_eq!(canonical_field("编号"), Some("id"));
        assert_eq!(canonical_field("\u{feff}编号"), Some("id"));
        assert_eq!(canonical_field("登记日期"), Some("received"));
        assert_eq!(canonical_field("信访人"), Some("petitioner_ids"));
        assert_eq!(canonical_field("人数"), Some("persons"));
        assert_eq!(canonical_field("内容"), Some("text"));
        assert_eq!(canonical_field("Text"), Some("text"));
        assert_eq!(canonical_field("备注"), None);
    }

    #[test]
    fn petitioner_ids_split_on_common_separators() {
        let v = FieldValue::Scalar("P001、P002，P003; P004".into()).into_list();
        assert_eq!(v, ["P001", "P002", "P003", "P004"]);
    }

    #[test]
    fn persons_and_levels() {
        assert_eq!(parse_persons("12"), Some(12));
        assert_eq!(parse_persons("12人"), Some(12));
        assert_eq!(parse_persons("12.0"), Some(12));
        assert_eq!(parse_persons("-3"), None);
        assert_eq!(parse_persons("很多"), None);
        assert_eq!(Level::parse("省级"), Some(Level::Province));
        assert_eq!(Level::parse("国家"), Some(Level::National));
        assert_eq!(Level::parse("区"), Some(Level::County));
        assert_eq!(Level::parse("火星"), None);
    }

    #[test]
    fn missing_and_duplicate_fields_are_refused() {
        let s = |v: &str| FieldValue::Scalar(v.into());
        let err = Case::from_fields([("id", s("A1")), ("text", s("内容"))]).unwrap_err();
        assert!(err.0.contains("登记日期"), "{err}");
        let err = Case::from_fields([
            ("id", s("A1")),
            ("received", s("2024-01-01")),
            ("text", s("甲")),
            ("内容", s("乙")),
        ])
        .unwrap_err();
        assert!(err.0.contains("两次"), "{err}");
        let big = "字".repeat(MAX_TEXT_BYTES);
        let err = Case::from_fields([
            ("id", s("A1")),
            ("received", s("2024-01-01")),
            ("text", s(&big)),
        ])
        .unwrap_err();
        assert!(err.0.contains("过长"), "{err}");
    }
}
