//! Masking of identity-card and mobile numbers, and short masked
//! excerpts of record values for error messages.

/// Mask identity-card and mobile numbers: `110101********1234`, `138****5678`.
pub fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == 'X' || **c == 'x')
            .count();
        let digits_only = chars[i..i + run].iter().all(char::is_ascii_digit);
        let prev_digit = i > 0 && chars[i - 1].is_ascii_alphanumeric();
        if run == 18 && !prev_digit && chars[i..i + 17].iter().all(char::is_ascii_digit) {
            out.extend(&chars[i..i + 6]);
            out.push_str("********");
            out.extend(&chars[i + 14..i + 18]);
            i += 18;
        } else if run == 11 && digits_only && !prev_digit && chars[i] == '1' {
            out.extend(&chars[i..i + 3]);
            out.push_str("****");
            out.extend(&chars[i + 7..i + 11]);
            i += 11;
        } else if run > 0 {
            out.extend(&chars[i..i + run]);
            i += run;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Characters of a value shown at most in an error message.
pub const EXCERPT_CHARS: usize = 12;

/// A short excerpt of a record value for an error message: identity-card
/// and mobile numbers masked as [`mask`] does, every other run of nine or
/// more digits (full-width too) cut to its first three, control
/// characters shown as spaces, and at most [`EXCERPT_CHARS`] characters.
pub fn excerpt(s: &str) -> String {
    let masked = mask(s.trim());
    let chars: Vec<char> = masked.chars().collect();
    let digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
    let mut out = String::new();
    let mut i = 0;
    let mut shown = 0;
    while i < chars.len() && shown < EXCERPT_CHARS {
        let run = chars[i..].iter().take_while(|c| digit(**c)).count();
        if run >= 9 {
            out.extend(&chars[i..i + 3]);
            out.push_str("***");
            shown += 6;
            i += run;
            continue;
        }
        let c = chars[i];
        out.push(if c.is_control() { ' ' } else { c });
        shown += 1;
        i += 1;
    }
    if i < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_id_and_phone_numbers_only() {
        assert_eq!(
            mask("身份证110101199001011234号"),
            "身份证110101********1234号"
        );
        assert_eq!(mask("11010119900101123X"), "110101********123X");
        assert_eq!(mask("电话13812345678"), "电话138****5678");
        assert_eq!(mask("编号2024001"), "编号2024001");
        assert_eq!(mask("138123456789"), "138123456789");
    }

    #[test]
    fn excerpts_are_short_and_masked() {
        assert_eq!(excerpt("110101199001011234"), "110101******…");
        assert_eq!(excerpt("13812345678"), "138****5678");
        assert_eq!(excerpt("6222021234567890123"), "622***");
        assert_eq!(excerpt("昨天"), "昨天");
        assert_eq!(excerpt("2024年13月45日下午三点钟"), "2024年13月45日下…");
        assert_eq!(excerpt("a\nb"), "a b");
    }
}
