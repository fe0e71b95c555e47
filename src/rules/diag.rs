//! Diagnostics for rule files: a stable code, a Chinese message, the
//! file:line:column (columns counted in characters), the offending source
//! line with a caret underline, and a hint saying what to do.

use std::fmt::Write as _;

use serde::Serialize;
use unicode_width::UnicodeWidthStr;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The rule set is refused.
    Error,
    /// Reported; the rule set still loads.
    Warning,
}

/// One problem found in a rule set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Stable code: `E001`… for errors, `W001`… for warnings.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// File, as given (relative to the rule directory's parent when possible).
    pub file: String,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    /// The source line, for display.
    #[serde(skip)]
    pub source_line: String,
    /// Width of the underline, in characters.
    #[serde(skip)]
    pub span_chars: usize,
    /// What to do about it.
    pub hint: Option<String>,
}

/// A source file with a line index, to turn byte spans into positions.
#[derive(Debug)]
pub struct Source<'a> {
    /// Display name.
    pub name: &'a str,
    /// Full text.
    pub text: &'a str,
}

impl Source<'_> {
    /// Build a diagnostic for the byte range `span` of this source.
    pub fn diag(
        &self,
        code: &'static str,
        severity: Severity,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        let start = floor_char_boundary(self.text, span.start.min(self.text.len()));
        let end = floor_char_boundary(self.text, span.end.min(self.text.len())).max(start);
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let line = self.text[..start].matches('\n').count() + 1;
        let column = self.text[line_start..start].chars().count() + 1;
        let span_end = end.min(line_end);
        Diagnostic {
            code,
            severity,
            message: message.into(),
            file: self.name.to_string(),
            line,
            column,
            source_line: self.text[line_start..line_end]
                .trim_end_matches('\r')
                .to_string(),
            span_chars: self.text[start..span_end].chars().count().max(1),
            hint,
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The widest source line a message shows whole (terminal columns).
pub const EXCERPT_WIDTH: usize = 100;
/// Columns of context kept before the span when a line is cut.
const EXCERPT_CONTEXT: usize = 24;

impl Diagnostic {
    /// A diagnostic about a whole file (no position).
    pub fn file_level(
        code: &'static str,
        file: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            file: file.to_string(),
            line: 0,
            column: 0,
            source_line: String::new(),
            span_chars: 0,
            hint,
        }
    }

    /// Render like a compiler message (a long source line is cut to a
    /// window around the span):
    ///
    /// ```text
    /// 错误[E003]: 规则 id 重复：CJ-001
    ///   --> rules/classes/城建拆迁.toml:12:6
    ///    |
    /// 12 | id = "CJ-001"
    ///    |      ^^^^^^^^
    ///    = 提示：……
    /// ```
    pub fn render(&self) -> String {
        let mut out = String::new();
        let label = match self.severity {
            Severity::Error => "错误",
            Severity::Warning => "警告",
        };
        let _ = writeln!(out, "{label}[{}]: {}", self.code, self.message);
        if self.line == 0 {
            let _ = writeln!(out, "  --> {}", self.file);
        } else {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            let _ = writeln!(out, "{pad}--> {}:{}:{}", self.file, self.line, self.column);
            let _ = writeln!(out, "{pad} |");
            let (shown, before, under) = self.excerpt();
            let _ = writeln!(out, "{num} | {shown}");
            let _ = writeln!(
                out,
                "{pad} | {}{}",
                " ".repeat(before),
                "^".repeat(under.max(1))
            );
        }
        if let Some(h) = &self.hint {
            let num_len = if self.line == 0 {
                1
            } else {
                self.line.to_string().len()
            };
            let _ = writeln!(out, "{} = 提示：{h}", " ".repeat(num_len));
        }
        out
    }

    /// The source line as shown: a line wider than [`EXCERPT_WIDTH`]
    /// columns (a long regex, a keyword list on one line) is cut to a
    /// window around the span, with … where it was cut. Returns the text,
    /// the columns before the span and the columns of the span.
    fn excerpt(&self) -> (String, usize, usize) {
        let chars: Vec<char> = self.source_line.chars().collect();
        let at = (self.column.max(1) - 1).min(chars.len());
        let span_end = (at + self.span_chars).min(chars.len());
        let width = |cs: &[char]| cs.iter().collect::<String>().width();
        if width(&chars) <= EXCERPT_WIDTH {
            return (
                self.source_line.clone(),
                width(&chars[..at]),
                width(&chars[at..span_end]),
            );
        }
        // Some context before the span, then as much as fits.
        let mut start = at;
        while start > 0 && width(&chars[start - 1..at]) <= EXCERPT_CONTEXT {
            start -= 1;
        }
        let mut end = start;
        while end < chars.len() && width(&chars[start..=end]) <= EXCERPT_WIDTH {
            end += 1;
        }
        let lead = if start > 0 { "…" } else { "" };
        let tail = if end < chars.len() { "…" } else { "" };
        let shown = format!(
            "{lead}{}{tail}",
            chars[start..end].iter().collect::<String>()
        );
        let before = lead.width() + width(&chars[start..at]);
        let under = width(&chars[at..span_end.clamp(at, end)]);
        (shown, before, under)
    }

    /// `file:line:column` (or just the file for file-level problems).
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.clone()
        } else {
            format!("{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_and_carets_cover_wide_text() {
        let text = "[[rule]]\nid = \"拆迁\" # 你好\n";
        let src = Source {
            name: "a.toml",
            text,
        };
        let start = text.find("\"拆迁\"").unwrap();
        let d = src.diag(
            "E003",
            Severity::Error,
            start..start + "\"拆迁\"".len(),
            "规则 id 重复",
            Some("改一个".into()),
        );
        assert_eq!((d.line, d.column), (2, 6));
        let r = d.render();
        assert!(r.contains("--> a.toml:2:6"), "{r}");
        assert!(r.contains("  |      ^^^^^^\n"), "{r}");
        assert!(r.contains("= 提示：改一个"), "{r}");
    }

    #[test]
    fn a_long_line_is_cut_to_a_window_around_the_span() {
        let words: Vec<String> = (0..400).map(|i| format!("词{i}")).collect();
        let text = format!("pattern = ['({}|坏(']\n", words.join("|"));
        let src = Source {
            name: "a.toml",
            text: &text,
        };
        let start = text.find("坏(").unwrap();
        let d = src.diag(
            "E004",
            Severity::Error,
            start..start + "坏(".len(),
            "正则无效",
            None,
        );
        let r = d.render();
        let lines: Vec<&str> = r.lines().collect();
        let shown = lines.iter().find(|l| l.contains("坏(")).unwrap();
        let caret = lines.iter().find(|l| l.contains('^')).unwrap();
        assert!(shown.width() <= EXCERPT_WIDTH + 10, "{shown}");
        assert!(shown.contains('…'), "{shown}");
        // The caret is still under the span.
        let col = |l: &str, p: usize| l[..p].width();
        assert_eq!(
            col(caret, caret.find('^').unwrap()),
            col(shown, shown.find("坏(").unwrap())
        );
        assert!(r.len() < 1000, "{r}");
    }
}
