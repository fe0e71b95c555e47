//! Text helpers shared by matching and reporting: clause boundaries,
//! byte-to-character offset conversion, and excerpts.
//!
//! A clause ends at Chinese or ASCII sentence punctuation or a line break.
//! None of the separators is a character that jieba keeps inside a word,
//! so segmenting a clause on its own gives exactly the tokens that
//! segmenting the whole text gives for that clause.

/// The characters that end a clause.
pub const CLAUSE_BREAKS: [char; 35] = [
    '，', '。', '！', '？', '；', '：', '、', '…', '“', '”', '‘', '’', '（', '）', '《', '》',
    '【', '】', '「', '」', '『', '』', ',', '!', '?', ';', ':', '(', ')', '"', '\n', '\r', '\t',
    ' ', '\u{3000}',
];

/// Whether `c` ends a clause (one of [`CLAUSE_BREAKS`]).
pub fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '！'
            | '？'
            | '；'
            | '：'
            | '、'
            | '…'
            | '“'
            | '”'
            | '‘'
            | '’'
            | '（'
            | '）'
            | '《'
            | '》'
            | '【'
            | '】'
            | '「'
            | '」'
            | '『'
            | '』'
            | ','
            | '!'
            | '?'
            | ';'
            | ':'
            | '('
            | ')'
            | '"'
            | '\n'
            | '\r'
            | '\t'
            | ' '
            | '\u{3000}'
    )
}

/// The character that starts at byte `i` of valid UTF-8 text, and its
/// length in bytes. Scans that look at every character use this rather
/// than `char_indices`: the text is known to be valid, so no checks.
pub fn char_at(b: &[u8], i: usize) -> (char, usize) {
    let b0 = u32::from(b[i]);
    let cont = |k: usize| u32::from(b[i + k]) & 0x3F;
    let (u, len) = if b0 < 0x80 {
        (b0, 1)
    } else if b0 < 0xE0 {
        (((b0 & 0x1F) << 6) | cont(1), 2)
    } else if b0 < 0xF0 {
        (((b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2), 3)
    } else {
        (
            ((b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
            4,
        )
    };
    (
        char::from_u32(u).unwrap_or(char::REPLACEMENT_CHARACTER),
        len,
    )
}

/// Byte ranges of the clauses of `text` (separators excluded, empty
/// clauses dropped), in order.
pub fn clauses(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if is_clause_break(c) {
            if i > start {
                out.push((start, i));
            }
            start = i + c.len_utf8();
        }
    }
    if text.len() > start {
        out.push((start, text.len()));
    }
    out
}

/// The clause (as [`clauses`] gives it) that contains byte `pos`, found
/// by looking only at the characters around it; `None` at a separator.
pub fn clause_around(text: &str, pos: usize) -> Option<(usize, usize)> {
    let after = text.get(pos..)?;
    if after.chars().next().is_none_or(is_clause_break) {
        return None;
    }
    let start = text[..pos]
        .char_indices()
        .rev()
        .find(|&(_, c)| is_clause_break(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let end = after
        .char_indices()
        .find(|&(_, c)| is_clause_break(c))
        .map_or(text.len(), |(i, _)| pos + i);
    Some((start, end))
}

/// Whether `c` ends a sentence.
pub fn is_sentence_break(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '；' | '!' | '?' | ';' | '\n' | '\r')
}

/// Index of the clause (from [`clauses`]) that contains byte `pos`, if any.
pub fn clause_of(clauses: &[(usize, usize)], pos: usize) -> Option<usize> {
    let i = clauses.partition_point(|&(_, end)| end <= pos);
    clauses.get(i).filter(|&&(s, _)| s <= pos).map(|_| i)
}

/// Number of characters in `text[..byte]`.
pub fn char_offset(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |s| s.chars().count())
}

/// The text around a byte span, at most `ctx` characters on each side,
/// with the span marked by 【】.
pub fn highlight(text: &str, start: usize, end: usize, ctx: usize) -> String {
    let before: String = {
        let v: Vec<char> = text[..start].chars().rev().take(ctx).collect();
        v.into_iter().rev().collect()
    };
    let after: String = text[end..].chars().take(ctx).collect();
    let clean = |s: &str| s.replace(['\n', '\r'], " ");
    format!(
        "{}【{}】{}",
        clean(&before),
        clean(&text[start..end]),
        clean(&after)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_split_on_chinese_and_ascii_punctuation() {
        let t = "房子被拆了，补偿没给!\n我们去了三次";
        let c: Vec<&str> = clauses(t).iter().map(|&(s, e)| &t[s..e]).collect();
        assert_eq!(c, ["房子被拆了", "补偿没给", "我们去了三次"]);
        let cl = clauses(t);
        assert_eq!(clause_of(&cl, 0), Some(0));
        assert_eq!(clause_of(&cl, t.find('补').unwrap()), Some(1));
        assert_eq!(clause_of(&cl, t.find('，').unwrap()), None);
    }

    #[test]
    fn the_break_list_is_the_break_test() {
        for u in 0..0x11000u32 {
            if let Some(c) = char::from_u32(u) {
                assert_eq!(is_clause_break(c), CLAUSE_BREAKS.contains(&c), "{c:?}");
            }
        }
    }

    #[test]
    fn characters_are_read_as_std_reads_them() {
        let t = "a½中𠀀，\n";
        let b = t.as_bytes();
        let mine: Vec<(usize, char)> = {
            let mut v = Vec::new();
            let mut i = 0;
            while i < b.len() {
                let (c, len) = char_at(b, i);
                v.push((i, c));
                i += len;
            }
            v
        };
        assert_eq!(mine, t.char_indices().collect::<Vec<_>>());
    }

    #[test]
    fn the_clause_around_a_byte_is_the_clause_that_holds_it() {
        let t = "房子被拆了，补偿没给!\n\n我们去了三次 a，";
        let all = clauses(t);
        for (i, _) in t.char_indices() {
            assert_eq!(
                clause_around(t, i),
                clause_of(&all, i).map(|c| all[c]),
                "{i}"
            );
        }
        assert_eq!(clause_around(t, t.len()), None);
        assert_eq!(clause_around("", 0), None);
    }

    #[test]
    fn offsets_count_characters() {
        let t = "甲乙ab丙";
        assert_eq!(char_offset(t, t.find('丙').unwrap()), 4);
        assert_eq!(highlight(t, 3, 6, 1), "甲【乙】a");
    }
}
