//! JSON Lines records read straight into the case fields, with borrowed
//! strings and no value tree; error messages give the kind and the
//! column in characters, never the values.

use super::*;

/// Parse one JSON object into a case.
pub fn parse_json_case(line: &str) -> Result<Case, FieldError> {
    let record: JsonRecord<'_> = serde_json::from_str(line).map_err(|e| json_error(line, &e))?;
    let JsonRecord::Object(mut entries) = record else {
        return Err(FieldError("每行应是一个 JSON 对象 {…}".into()));
    };
    // Keys in sorted order, the last of repeated keys winning, as a JSON
    // object map would have them.
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut unique: Vec<(std::borrow::Cow<'_, str>, JsonValue<'_>)> =
        Vec::with_capacity(entries.len());
    for e in entries {
        if unique.last().is_some_and(|last| last.0 == e.0) {
            unique.pop();
        }
        unique.push(e);
    }
    let mut fields = Vec::with_capacity(unique.len());
    let mut bad_types: Vec<&'static str> = Vec::new();
    for (k, v) in &mut unique {
        let k: &str = k;
        let value = match std::mem::replace(v, JsonValue::Null) {
            JsonValue::Null => {
                fields.push((k, None));
                continue;
            }
            JsonValue::Scalar(s) => FieldValue::Scalar(s.into_owned()),
            JsonValue::List(items) => FieldValue::List(items),
            JsonValue::BadList | JsonValue::Other => {
                match crate::input::case::canonical_field(k) {
                    None => {}
                    Some(canon) if crate::input::case::REQUIRED.contains(&canon) => {
                        return Err(FieldError(format!(
                            "字段 {canon}（{}）的类型不对：应为文字或数字",
                            crate::input::case::field_label(canon)
                        )));
                    }
                    Some(canon) => bad_types.push(canon),
                }
                fields.push((k, None));
                continue;
            }
        };
        fields.push((k, Some(value)));
    }
    let mut case = Case::from_fields(fields.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))))?;
    for field in bad_types {
        case.notes.push(crate::input::case::FieldNote {
            field,
            action: crate::input::case::NoteAction::Unknown,
            reason: "类型不对（应为文字或数字），按未知处理".into(),
        });
    }
    Ok(case)
}

/// A JSON syntax error without the value: what kind of error and the
/// column, counted in characters.
fn json_error(line: &str, e: &serde_json::Error) -> FieldError {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "JSON 不完整（行在对象结束前就结束了）",
        serde_json::error::Category::Syntax => "不是有效的 JSON",
        serde_json::error::Category::Data => "JSON 的值类型不对",
        serde_json::error::Category::Io => "JSON 读取出错",
    };
    // serde_json counts columns in bytes, from 1.
    let byte = e.column().saturating_sub(1);
    let col = line.char_indices().take_while(|(i, _)| *i < byte).count() + 1;
    FieldError(format!("{what}（第 {col} 个字符处）"))
}

/// A JSON line as the reader needs it: the object's entries, with string
/// values borrowed from the line where they need no unescaping.
enum JsonRecord<'a> {
    Object(Vec<(std::borrow::Cow<'a, str>, JsonValue<'a>)>),
    NotObject,
}

/// One value of a record.
enum JsonValue<'a> {
    Null,
    Scalar(std::borrow::Cow<'a, str>),
    List(Vec<String>),
    /// A list with something other than text or numbers in it.
    BadList,
    /// `true`/`false` or an object.
    Other,
}

/// A string that borrows from the input when it can.
struct Text<'a>(std::borrow::Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> serde::Deserialize<'de> for JsonValue<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = JsonValue<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Null)
            }
            fn visit_none<E>(self) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Other)
            }
            fn visit_u64<E>(self, v: u64) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Scalar(
                    serde_json::Number::from(v).to_string().into(),
                ))
            }
            fn visit_i64<E>(self, v: i64) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Scalar(
                    serde_json::Number::from(v).to_string().into(),
                ))
            }
            fn visit_f64<E>(self, v: f64) -> Result<JsonValue<'de>, E> {
                Ok(match serde_json::Number::from_f64(v) {
                    Some(n) => JsonValue::Scalar(n.to_string().into()),
                    None => JsonValue::Other,
                })
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Scalar(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Scalar(std::borrow::Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<JsonValue<'de>, E> {
                Ok(JsonValue::Scalar(std::borrow::Cow::Owned(v)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<JsonValue<'de>, A::Error> {
                let mut out = Vec::new();
                let mut bad = false;
                while let Some(item) = seq.next_element::<JsonValue<'de>>()? {
                    match item {
                        JsonValue::Scalar(s) => out.push(s.into_owned()),
                        _ => bad = true,
                    }
                }
                Ok(if bad {
                    JsonValue::BadList
                } else {
                    JsonValue::List(out)
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonValue<'de>, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(JsonValue::Other)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> serde::Deserialize<'de> for JsonRecord<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = JsonRecord<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonRecord<'de>, A::Error> {
                let mut entries = Vec::with_capacity(12);
                while let Some(Text(k)) = map.next_key::<Text<'de>>()? {
                    let v = map.next_value::<JsonValue<'de>>()?;
                    entries.push((k, v));
                }
                Ok(JsonRecord::Object(entries))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<JsonRecord<'de>, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(JsonRecord::NotObject)
            }
            fn visit_unit<E>(self) -> Result<JsonRecord<'de>, E> {
                Ok(JsonRecord::NotObject)
            }
            fn visit_bool<E>(self, _: bool) -> Result<JsonRecord<'de>, E> {
                Ok(JsonRecord::NotObject)
            }
            fn visit_u64<E>(self, _: u64) -> Result<JsonRecord<'de>, E> {
                Ok(JsonRecord::NotObject)
            }
            fn visit_i64<E>(self, _: i64) -> Result<JsonRecord<'de>, E> {
                Ok(JsonRecord::NotObject)
            }
            fn visit_f64<E>(self, _: f64) -> Result<JsonRecord<'de>, E> {
                Ok(JsonRecord::NotObject)
            }
            fn visit_str<E>(self, _: &str) -> Result<JsonRecord<'de>, E> {
                Ok(JsonRecord::NotObject)
            }
        }
        d.deserialize_any(V)
    }
}
