//! Masking for the report: identity-card and mobile numbers (as
//! [`crate::util::mask`] does) and petitioners' names, in the case text and
//! the record fields the page shows. Every mask keeps the number of
//! characters, so the evidence spans (in characters) still cover the words
//! they matched. The list files are never changed.

use std::sync::LazyLock;

use regex::Regex;

/// A name after the words that introduce one: 我叫张三, 姓名：李四,
/// 联系人王五 …
static NAME_CUE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(我叫|名叫|我的名字是|姓名[:：]?\s*|信访人[:：]\s*|反映人[:：]?\s*|联系人[:：]?\s*|申请人[:：]\s*|举报人[:：]?\s*)(\p{Han}{2,3})",
    )
    .ok()
});

/// A name with its first character kept and the rest as 某: 张某某.
pub fn mask_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        out.push(if i == 0 { c } else { '某' });
    }
    out
}

/// Whether a petitioner id is a personal name (Chinese characters only,
/// two to four of them) rather than a code.
fn is_name(s: &str) -> bool {
    let n = s.chars().count();
    (2..=4).contains(&n) && s.chars().all(is_han)
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

/// A petitioner id as the report shows it when masking.
pub fn mask_petitioner(id: &str) -> String {
    if is_name(id) {
        mask_name(id)
    } else {
        crate::util::mask(id)
    }
}

/// Mask `text`: identity-card and mobile numbers, names after a cue word,
/// and every occurrence of the petitioners' names given in `names`.
pub fn mask_text(text: &str, names: &[String]) -> String {
    let mut out = crate::util::mask(text);
    if let Some(re) = NAME_CUE.as_ref() {
        out = re
            .replace_all(&out, |c: &regex::Captures<'_>| {
                format!("{}{}", &c[1], mask_name(&c[2]))
            })
            .into_owned();
    }
    for name in names.iter().filter(|n| is_name(n)) {
        if out.contains(name.as_str()) {
            out = out.replace(name.as_str(), &mask_name(name));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_the_length_in_characters() {
        let text =
            "我叫张三丰，电话13812345678，身份证110101199001011234，联系人：李四。王五也去了。";
        let masked = mask_text(text, &["王五".to_string()]);
        assert_eq!(masked.chars().count(), text.chars().count());
        assert_eq!(
            masked,
            "我叫张某某，电话138****5678，身份证110101********1234，联系人：李某。王某也去了。"
        );
    }

    #[test]
    fn codes_are_not_names() {
        assert_eq!(mask_petitioner("P46468"), "P46468");
        assert_eq!(mask_petitioner("赵六"), "赵某");
        assert_eq!(mask_petitioner("13812345678"), "138****5678");
    }
}
