//! Word segmentation with jieba-rs and the domain user dictionary.
//!
//! A [`Segmenter`] is built once per rule set (the jieba dictionary load
//! costs about 100 ms) and shared by all threads. Matching asks it only
//! for the token boundaries of the clauses where a rule needs them.

use std::io::BufReader;

use jieba_rs::Jieba;

/// The jieba segmenter with the default dictionary plus a user dictionary.
pub struct Segmenter {
    jieba: Jieba,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter").finish_non_exhaustive()
    }
}

/// A bad line in a user dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong, in Chinese.
    pub message: String,
}

impl Segmenter {
    /// Check a user dictionary (one entry a line: `词语 [词频] [词性]`,
    /// `#` comments) without building anything.
    pub fn check_dict(user_dict: &str) -> Result<(), DictError> {
        for (i, raw) in user_dict.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let word = parts.next().unwrap_or_default();
            if let Some(freq) = parts.next()
                && freq.parse::<usize>().is_err()
            {
                return Err(DictError {
                    line: i + 1,
                    message: format!(
                        "词频“{freq}”不是正整数；格式为：词语 词频 词性，例如 买断工龄 2000 n"
                    ),
                });
            }
            if word.chars().any(crate::text::is_clause_break) {
                return Err(DictError {
                    line: i + 1,
                    message: format!("词语“{word}”含有标点，分词时不会成词"),
                });
            }
        }
        Ok(())
    }

    /// Build from jieba's default dictionary and a user dictionary.
    pub fn new(user_dict: &str) -> Result<Segmenter, DictError> {
        Segmenter::check_dict(user_dict)?;
        let entries: String = user_dict
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .flat_map(|l| [l, "\n"])
            .collect();
        let mut jieba = Jieba::new();
        jieba
            .load_dict(&mut BufReader::new(entries.as_bytes()))
            .map_err(|e| DictError {
                line: 0,
                message: format!("用户词典无法加载：{e}"),
            })?;
        Ok(Segmenter { jieba })
    }

    /// Tokens of `text` as byte ranges (jieba with HMM).
    pub fn tokens(&self, text: &str) -> Vec<(usize, usize)> {
        self.jieba
            .cut(text, true)
            .into_iter()
            .map(|t| (t.byte_start, t.byte_end))
            .collect()
    }

    /// The user-dictionary frequency that makes jieba keep `word` whole.
    pub fn suggest_freq(&self, word: &str) -> usize {
        self.jieba.suggest_freq(word)
    }

    /// Token words of `text`.
    pub fn words<'a>(&self, text: &'a str) -> Vec<&'a str> {
        self.jieba
            .cut(text, true)
            .into_iter()
            .map(|t| t.word)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_dictionary_terms_come_out_whole() {
        let s = Segmenter::new("买断工龄 3000 n\n# 注释\n库区移民 3000 n\n").unwrap();
        let w = s.words("厂里让我们买断工龄，库区移民的补助没发");
        assert!(w.contains(&"买断工龄"), "{w:?}");
        assert!(w.contains(&"库区移民"), "{w:?}");
    }

    #[test]
    fn bad_dictionary_lines_are_located() {
        let e = Segmenter::new("好词 10 n\n坏词 很多 n\n").unwrap_err();
        assert_eq!(e.line, 2);
    }
}
