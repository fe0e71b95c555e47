//! Masking of identity-card and mobile numbers, and short masked
//! excerpts of record values for error messages.

/// Mask identity-card and mobile numbers: `110101********1234`,
/// `138****5678`, also when written in full-width digits or in groups
/// with spaces or hyphens (`139 1234 5678` → `139 **** 5678`); the
/// separators stay where they were.
pub fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        // Part of a code like A13812345678: left alone.
        let prev_alnum = i > 0 && chars[i - 1].is_ascii_alphabetic();
        let prev_digit = i > 0 && (is_digit(chars[i - 1]) || is_x(chars[i - 1]));
        if !is_digit(chars[i]) || prev_alnum || prev_digit {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let (end, digits) = number_at(&chars, i);
        let hidden = if is_id(&chars, &digits) {
            6..14
        } else if is_mobile(&chars, &digits) {
            3..7
        } else {
            // Not one: the first group as it is, and the rest is read
            // again from its end.
            let group = chars[i..]
                .iter()
                .take_while(|c| is_digit(**c) || is_x(**c))
                .count();
            out.extend(&chars[i..i + group]);
            i += group;
            continue;
        };
        for (n, &at) in digits.iter().enumerate() {
            if hidden.contains(&n) {
                out.push('*');
            } else {
                out.push(chars[at]);
            }
            if let Some(&next) = digits.get(n + 1) {
                out.extend(&chars[at + 1..next]);
            }
        }
        i = end;
    }
    out
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

fn is_x(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

/// The number that starts at `chars[i]`: its end and the positions of
/// its digits (and of a final X). Groups may be joined by one space,
/// hyphen or full-width space; at most 18 digits are taken.
fn number_at(chars: &[char], i: usize) -> (usize, Vec<usize>) {
    let mut digits = Vec::new();
    let mut j = i;
    loop {
        while j < chars.len() && (is_digit(chars[j]) || is_x(chars[j])) && digits.len() < 19 {
            digits.push(j);
            j += 1;
        }
        let joined = j + 1 < chars.len()
            && matches!(chars[j], ' ' | '-' | '\u{3000}')
            && is_digit(chars[j + 1])
            && digits.len() < 18;
        if !joined {
            return (j, digits);
        }
        j += 1;
    }
}

fn is_id(chars: &[char], digits: &[usize]) -> bool {
    digits.len() == 18
        && digits[..17].iter().all(|&d| is_digit(chars[d]))
        && (is_digit(chars[digits[17]]) || is_x(chars[digits[17]]))
}

fn is_mobile(chars: &[char], digits: &[usize]) -> bool {
    digits.len() == 11
        && digits.iter().all(|&d| is_digit(chars[d]))
        && matches!(chars[digits[0]], '1' | '１')
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
    fn numbers_in_groups_or_full_width_are_masked_too() {
        assert_eq!(mask("电话139 1234 5679。"), "电话139 **** 5679。");
        assert_eq!(mask("手机：139-1234-5679"), "手机：139-****-5679");
        assert_eq!(mask("１３９１２３４５６７９"), "１３９****５６７９");
        assert_eq!(
            mask("身份证 110101 19900101 123X"),
            "身份证 110101 ******** 123X"
        );
        assert_eq!(mask("共 3 户 12 人"), "共 3 户 12 人");
        assert_eq!(mask("2026-03-05"), "2026-03-05");
        assert_eq!(mask("1234 13912345678"), "1234 139****5678");
        assert_eq!(mask("A13812345678"), "A13812345678");
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
