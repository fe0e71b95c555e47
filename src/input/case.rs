//! The petition case record, the field aliases accepted on input, and the
//! parsing of field values (dates, levels, person counts, petitioner ids).
//!
//! Readers (`input`) turn each line or row into a list of `(key, value)`
//! pairs; [`Case::from_fields`] maps the keys through [`canonical_field`]
//! and validates the values. Every refusal is a [`FieldError`] with a
//! Chinese reason for the rejects file.

use chrono::NaiveDate;
use serde::Serialize;

pub use super::values::{
    FieldValue, Persons, chinese_number, parse_date, parse_persons, read_persons, truncate,
};

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
    /// Optional fields that were read leniently or could not be read (the
    /// case is kept; see [`FieldNote`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<FieldNote>,
    /// Where the case stands in its handling (受理, 办理状态, 办结, 答复),
    /// when the record says: the statutory deadline clocks read these.
    #[serde(skip_serializing_if = "Handling::is_empty")]
    pub handling: Handling,
}

/// The handling fields of a record (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Handling {
    /// 受理日期.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<NaiveDate>,
    /// 办理状态 as written (待受理 / 办理中 / 已延期 / 已办结 …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// 办结日期.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<NaiveDate>,
    /// 答复日期.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replied: Option<NaiveDate>,
}

impl Handling {
    /// Whether the record said nothing about its handling.
    pub fn is_empty(&self) -> bool {
        self == &Handling::default()
    }
}

/// What happened to an optional field that was not in the expected form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteAction {
    /// Read leniently (约30 → 30, 三十 → 30, 縣 → 县).
    Lenient,
    /// Could not be read: the field is treated as unknown.
    Unknown,
    /// Too long: cut to the field limit.
    Truncated,
    /// Given in two columns: the first one is used.
    Repeated,
}

/// A note on one optional field of a case that was kept: which field,
/// what was done and why (never the value itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldNote {
    /// Canonical field name (`persons`, `target_level`, …).
    pub field: &'static str,
    /// What was done.
    pub action: NoteAction,
    /// Why, in Chinese.
    pub reason: String,
}

impl FieldNote {
    fn new(field: &'static str, action: NoteAction, reason: impl Into<String>) -> FieldNote {
        FieldNote {
            field,
            action,
            reason: reason.into(),
        }
    }
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
        Level::parse_exact(s.trim().trim_end_matches('级'))
    }

    fn parse_exact(s: &str) -> Option<Level> {
        Some(match s {
            "乡镇" | "乡" | "镇" | "街道" | "乡镇街道" | "township" => Level::Township,
            "县" | "区" | "县区" | "县市区" | "county" => Level::County,
            "市" | "地市" | "州" | "地区" | "city" => Level::City,
            "省" | "自治区" | "province" => Level::Province,
            "国家" | "中央" | "京" | "全国" | "national" => Level::National,
            _ => return None,
        })
    }

    /// Parse leniently: traditional characters (縣, 鄉鎮, 國家), full-width
    /// letters, spaces, and office names that start with a level
    /// (省信访局, 县人民政府, 国家信访局). `Some((level, true))` when the
    /// value needed one of these readings.
    pub fn parse_lenient(s: &str) -> Option<(Level, bool)> {
        if let Some(l) = Level::parse(s) {
            return Some((l, false));
        }
        let cleaned: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                _ => c,
            })
            .collect::<String>()
            .to_ascii_lowercase();
        let simple = fast2s::convert(&cleaned);
        if let Some(l) = Level::parse(&simple) {
            return Some((l, true));
        }
        let base = [
            "信访局",
            "信访办",
            "信访室",
            "人民政府",
            "政府",
            "党委",
            "委员会",
            "级",
        ]
        .iter()
        .fold(simple.as_str(), |s, suffix| s.trim_end_matches(suffix));
        Level::parse(base).map(|l| (l, true))
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
pub const FIELDS: [&str; 13] = [
    "id",
    "received",
    "channel",
    "petitioner_ids",
    "persons",
    "target_level",
    "location",
    "title",
    "text",
    "accepted",
    "status",
    "closed",
    "replied",
];

/// Fields every record must have.
pub const REQUIRED: [&str; 3] = ["id", "received", "text"];

/// The names accepted for a canonical field (ASCII first, then the
/// Chinese headers), as [`canonical_field`] maps them.
pub fn accepted_names(field: &str) -> &'static [&'static str] {
    match field {
        "id" => &[
            "id",
            "case_id",
            "编号",
            "案件编号",
            "信访编号",
            "登记编号",
            "信访件编号",
            "序号",
        ],
        "received" => &[
            "received",
            "date",
            "登记日期",
            "登记时间",
            "信访日期",
            "来信日期",
            "来访日期",
            "日期",
            "收件日期",
        ],
        "accepted" => &["accepted", "受理日期", "受理时间"],
        "status" => &["status", "办理状态", "处理状态", "状态", "办理情况"],
        "closed" => &["closed", "办结日期", "办结时间", "结案日期"],
        "replied" => &["replied", "答复日期", "答复时间", "回复日期", "告知日期"],
        "channel" => &["channel", "渠道", "信访形式", "信访方式", "来源", "形式"],
        "petitioner_ids" => &[
            "petitioner_ids",
            "petitioner_id",
            "petitioners",
            "信访人",
            "信访人编号",
            "信访人证件号",
            "身份证号",
            "信访人身份证号",
            "反映人",
        ],
        "persons" => &["persons", "人数", "信访人数", "来访人数", "涉及人数"],
        "target_level" => &[
            "target_level",
            "level",
            "信访层级",
            "诉求层级",
            "来访层级",
            "到访层级",
            "受理层级",
            "去向层级",
        ],
        "location" => &[
            "location",
            "地点",
            "问题属地",
            "属地",
            "地址",
            "问题发生地",
            "所属地区",
        ],
        "title" => &["title", "标题", "主题", "事由", "摘要", "留言主题"],
        "text" => &[
            "text",
            "内容",
            "信访内容",
            "反映内容",
            "正文",
            "诉求",
            "主要诉求",
            "留言详情",
            "来信内容",
        ],
        _ => &[],
    }
}

/// Chinese label of a canonical field, for messages.
pub fn field_label(field: &str) -> &'static str {
    match field {
        "id" => "编号",
        "received" => "登记日期",
        "channel" => "渠道",
        "petitioner_ids" => "信访人",
        "persons" => "人数",
        "target_level" => "信访层级",
        "location" => "地点",
        "title" => "标题",
        "text" => "内容",
        "accepted" => "受理日期",
        "status" => "办理状态",
        "closed" => "办结日期",
        "replied" => "答复日期",
        _ => "未知字段",
    }
}

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
        | "日期" | "收件日期" => "received",
        "accepted" | "受理日期" | "受理时间" => "accepted",
        "status" | "办理状态" | "处理状态" | "状态" | "办理情况" => "status",
        "closed" | "办结日期" | "办结时间" | "结案日期" => "closed",
        "replied" | "答复日期" | "答复时间" | "回复日期" | "告知日期" => "replied",
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
    /// [`canonical_field`]; unknown keys are ignored.
    ///
    /// Only the required fields can refuse a record: a missing or
    /// over-long id, date or text, an unreadable date, or a required field
    /// given twice with different values. An optional field that is not in
    /// the expected form never drops the case: it is read leniently
    /// (约30, 三十, ３０ → 30; 縣 → 县) or treated as unknown, and each
    /// such field gets a [`FieldNote`]. Messages name the field and the
    /// reason, with at most a short masked excerpt of the value.
    pub fn from_fields<'a, I>(fields: I) -> Result<Case, FieldError>
    where
        I: IntoIterator<Item = (&'a str, FieldValue)>,
    {
        let mut slots: [Option<FieldValue>; 13] = Default::default();
        let mut notes = Vec::new();
        for (key, value) in fields {
            let Some(canon) = canonical_field(key) else {
                continue;
            };
            let idx = FIELDS.iter().position(|f| *f == canon).unwrap_or(0);
            let required = REQUIRED.contains(&canon);
            let limit = if canon == "text" {
                MAX_TEXT_BYTES
            } else {
                MAX_FIELD_BYTES
            };
            let mut value = value;
            if value.byte_len() > limit {
                if required {
                    return Err(FieldError(format!(
                        "字段 {canon}（{}）过长：{} 字节，上限 {limit} 字节",
                        field_label(canon),
                        value.byte_len()
                    )));
                }
                value.truncate(limit);
                notes.push(FieldNote::new(
                    canon,
                    NoteAction::Truncated,
                    format!("过长，截取前 {limit} 字节"),
                ));
            }
            if value.is_empty() {
                continue;
            }
            if let Some(first) = &slots[idx] {
                if required && *first != value {
                    return Err(FieldError(format!(
                        "字段 {canon}（{}）出现了两次且内容不同，请只保留一列",
                        field_label(canon)
                    )));
                }
                if *first != value {
                    notes.push(FieldNote::new(
                        canon,
                        NoteAction::Repeated,
                        "出现在两个同义列中，用了第一列",
                    ));
                }
                continue;
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
            accepted,
            status,
            closed,
            replied,
        ] = slots;
        let id = id
            .map(FieldValue::into_scalar)
            .ok_or_else(|| FieldError("缺少必填字段 id（编号）".into()))?;
        // An optional date that cannot be read is unknown, with a note.
        let mut optional_date = |field: &'static str, v: Option<FieldValue>| {
            let v = v.map(FieldValue::into_scalar)?;
            let d = parse_date(&v);
            if d.is_none() {
                notes.push(FieldNote::new(
                    field,
                    NoteAction::Unknown,
                    format!("{}无法识别，按未知处理", field_label(field)),
                ));
            }
            d
        };
        let handling = Handling {
            accepted: optional_date("accepted", accepted),
            status: status
                .map(FieldValue::into_scalar)
                .map(|s| s.trim().to_string()),
            closed: optional_date("closed", closed),
            replied: optional_date("replied", replied),
        };
        // A record with only a 受理日期 is dated by it.
        let received = match received {
            Some(r) => Some(r),
            None => handling.accepted.map(|d| FieldValue::Scalar(d.to_string())),
        };
        let received = received
            .map(FieldValue::into_scalar)
            .ok_or_else(|| FieldError("缺少必填字段 received（登记日期）".into()))?;
        let received = parse_date(&received).ok_or_else(|| {
            FieldError(format!(
                "登记日期无法识别（“{}”），应为 2024-03-05、2024/3/5 或 2024年3月5日",
                crate::util::excerpt(&received)
            ))
        })?;
        let text = text
            .map(FieldValue::into_scalar)
            .ok_or_else(|| FieldError("缺少必填字段 text（内容），或内容为空".into()))?;
        let persons = match persons.map(FieldValue::into_scalar) {
            None => None,
            Some(p) => match read_persons(&p) {
                Persons::Exact(n) => Some(n),
                Persons::Lenient(n, how) => {
                    notes.push(FieldNote::new(
                        "persons",
                        NoteAction::Lenient,
                        format!("{how}，按 {n} 人读入"),
                    ));
                    Some(n)
                }
                Persons::Unknown(why) => {
                    notes.push(FieldNote::new(
                        "persons",
                        NoteAction::Unknown,
                        format!("{why}，按人数未知处理"),
                    ));
                    None
                }
            },
        };
        let target_level = match target_level.map(FieldValue::into_scalar) {
            None => None,
            Some(l) => match Level::parse_lenient(&l) {
                Some((level, false)) => Some(level),
                Some((level, true)) => {
                    notes.push(FieldNote::new(
                        "target_level",
                        NoteAction::Lenient,
                        format!(
                            "写法不标准（繁体、全角或机关名称），按“{}”读入",
                            level.name()
                        ),
                    ));
                    Some(level)
                }
                None => {
                    notes.push(FieldNote::new(
                        "target_level",
                        NoteAction::Unknown,
                        "不是 乡镇/县/市/省/国家 之一，按层级未知处理",
                    ));
                    None
                }
            },
        };
        notes.sort_by_key(|n| FIELDS.iter().position(|f| *f == n.field));
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
            notes,
            handling,
        })
    }

    /// A case with only the required fields (the others empty).
    pub fn new(id: impl Into<String>, received: NaiveDate, text: impl Into<String>) -> Case {
        Case {
            id: id.into(),
            received,
            channel: None,
            petitioner_ids: Vec::new(),
            persons: None,
            target_level: None,
            location: None,
            title: None,
            text: text.into(),
            notes: Vec::new(),
            handling: Default::default(),
        }
    }
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
    fn persons_read_leniently() {
        for (s, n) in [
            ("约30", 30),
            ("三十", 30),
            ("３０", 30),
            ("30余人", 30),
            ("三十多人", 30),
            ("一百二十", 120),
            ("两百", 200),
            ("十二", 12),
            ("一千零五", 1005),
            ("三万", 30000),
            ("近50", 50),
            ("50人左右", 50),
        ] {
            assert!(
                matches!(read_persons(s), Persons::Lenient(m, _) if m == n),
                "{s}: {:?}",
                read_persons(s)
            );
        }
        for s in ["3.7", "-3", "很多", "三十五万亿", "十十", "人"] {
            assert!(matches!(read_persons(s), Persons::Unknown(_)), "{s}");
        }
        assert_eq!(Level::parse_lenient("縣"), Some((Level::County, true)));
        assert_eq!(Level::parse_lenient("鄉鎮"), Some((Level::Township, true)));
        assert_eq!(
            Level::parse_lenient("省信访局"),
            Some((Level::Province, true))
        );
        assert_eq!(
            Level::parse_lenient("国家信访局"),
            Some((Level::National, true))
        );
        assert_eq!(Level::parse_lenient("县"), Some((Level::County, false)));
        assert_eq!(Level::parse_lenient("火星"), None);
    }

    #[test]
    fn bad_optional_fields_keep_the_case_with_notes() {
        let s = |v: &str| FieldValue::Scalar(v.into());
        let c = Case::from_fields([
            ("编号", s("R1")),
            ("登记日期", s("2026-01-01")),
            ("人数", s("3.7")),
            ("信访层级", s("火星")),
            ("标题", s(&"长".repeat(MAX_FIELD_BYTES))),
            ("内容", s("喝农药死给你们看")),
        ])
        .unwrap();
        assert_eq!(c.persons, None);
        assert_eq!(c.target_level, None);
        assert!(c.title.as_ref().unwrap().len() <= MAX_FIELD_BYTES);
        let fields: Vec<_> = c.notes.iter().map(|n| (n.field, n.action)).collect();
        assert_eq!(
            fields,
            [
                ("persons", NoteAction::Unknown),
                ("target_level", NoteAction::Unknown),
                ("title", NoteAction::Truncated)
            ]
        );
        assert!(c.notes.iter().all(|n| !n.reason.contains("火星")));
    }

    #[test]
    fn date_errors_show_a_short_masked_excerpt_only() {
        let s = |v: &str| FieldValue::Scalar(v.into());
        let err = Case::from_fields([
            ("id", s("A1")),
            ("received", s("110101199001011234")),
            ("text", s("甲")),
        ])
        .unwrap_err();
        assert!(!err.0.contains("19900101"), "{err}");
        assert!(err.0.contains("110101*"), "{err}");
    }

    #[test]
    fn accepted_names_match_canonical_fields() {
        for f in FIELDS {
            for n in accepted_names(f) {
                assert_eq!(canonical_field(n), Some(f), "{n}");
            }
        }
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
        assert!(!err.0.contains("甲") && !err.0.contains("乙"), "{err}");
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
