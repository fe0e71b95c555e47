//! The report's charts as inline SVG, drawn here: cases per class per day
//! over thirty days (one labelled strip per class, so it reads without
//! colour) and the spread of tiers (bars with a fill pattern and a label
//! each, so they read when printed in grey).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;

/// Days shown by the daily chart.
pub const DAYS: i64 = 30;

/// Classes drawn one by one; the rest share the last strip.
const MAX_CLASSES: usize = 12;

/// Text escaped for SVG/HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '/' => out.push_str("&#47;"),
            c => out.push(c),
        }
    }
    out
}

/// The fill patterns of the tiers, defined once on the page.
pub fn tier_patterns() -> String {
    concat!(
        r##"<svg class="defs" width="0" height="0" aria-hidden="true"><defs>"##,
        r##"<pattern id="pat-red" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#b71c1c"/></pattern>"##,
        r##"<pattern id="pat-orange" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4a259"/><rect width="3" height="6" fill="#c25e00"/></pattern>"##,
        r##"<pattern id="pat-yellow" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#f7e07a"/><circle cx="3" cy="3" r="1.4" fill="#6b5800"/></pattern>"##,
        r##"<pattern id="pat-blue" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#bcd4f0"/><path d="M0 3H6M3 0V6" stroke="#1f4e8c" stroke-width="1"/></pattern>"##,
        r##"<pattern id="pat-none" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#eeeeee"/></pattern>"##,
        "</defs></svg>"
    )
    .to_string()
}

/// The pattern id of a tier name.
pub fn tier_pattern(tier: &str) -> &'static str {
    match tier {
        "红" => "pat-red",
        "橙" => "pat-orange",
        "黄" => "pat-yellow",
        "蓝" => "pat-blue",
        _ => "pat-none",
    }
}

/// Horizontal bars, one per tier: `(name, label, count)`.
pub fn tier_chart(tiers: &[(String, String, u64)]) -> String {
    let total: u64 = tiers.iter().map(|t| t.2).sum();
    let max = tiers.iter().map(|t| t.2).max().unwrap_or(0).max(1);
    let (label_w, bar_w, row_h) = (92.0, 300.0, 26.0);
    let height = row_h * tiers.len() as f64 + 8.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {height}" width="{w}" height="{height}" role="img" aria-label="各预警等级案件数">"#,
        w = label_w + bar_w + 110.0
    );
    for (i, (name, label, n)) in tiers.iter().enumerate() {
        let y = 4.0 + row_h * i as f64;
        let w = bar_w * *n as f64 / max as f64;
        let pct = if total > 0 {
            100.0 * *n as f64 / total as f64
        } else {
            0.0
        };
        let _ = write!(
            s,
            r##"<text x="0" y="{ty}" class="lbl">{label}</text><rect x="{label_w}" y="{y}" width="{w:.1}" height="18" fill="url(#{pat})" stroke="#222" stroke-width="0.8"><title>{name} {n}</title></rect><text x="{tx:.1}" y="{ty}" class="num">{n} 件（{pct:.1}%）</text>"##,
            ty = y + 14.0,
            label = esc(label),
            name = esc(name),
            pat = tier_pattern(name),
            tx = label_w + w + 6.0,
        );
    }
    s.push_str("</svg>");
    s
}

/// Cases per class per day for the `DAYS` days ending at `last`: one
/// strip of bars per class, its name and total at the side, the days
/// along the bottom. `cases` are (received, class).
pub fn daily_chart(cases: &[(NaiveDate, String)], last: NaiveDate) -> String {
    let first = last - chrono::Duration::days(DAYS - 1);
    let mut per: BTreeMap<&str, [u32; DAYS as usize]> = BTreeMap::new();
    for (d, class) in cases {
        if *d < first || *d > last {
            continue;
        }
        let day = (*d - first).num_days() as usize;
        per.entry(class.as_str()).or_insert([0; DAYS as usize])[day] += 1;
    }
    let mut rows: Vec<(String, [u32; DAYS as usize])> =
        per.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    rows.sort_by(|a, b| {
        let (ta, tb): (u32, u32) = (a.1.iter().sum(), b.1.iter().sum());
        tb.cmp(&ta).then_with(|| a.0.cmp(&b.0))
    });
    if rows.len() > MAX_CLASSES {
        let mut rest = [0u32; DAYS as usize];
        for (_, v) in rows.drain(MAX_CLASSES - 1..) {
            for (r, x) in rest.iter_mut().zip(v) {
                *r += x;
            }
        }
        rows.push(("其余类别".to_string(), rest));
    }
    let (label_w, col_w, row_h, right_w) = (96.0, 16.0, 24.0, 60.0);
    let width = label_w + col_w * DAYS as f64 + right_w;
    let top = 6.0;
    let height = top + row_h * rows.len().max(1) as f64 + 34.0;
    let max = rows
        .iter()
        .flat_map(|r| r.1.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="近 {DAYS} 天各类别每日案件数">"#
    );
    if rows.is_empty() {
        let _ = write!(
            s,
            r#"<text x="{label_w}" y="{}" class="lbl">{first} 至 {last} 没有案件</text>"#,
            top + 16.0
        );
    }
    for (i, (class, days)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let base = y + row_h - 4.0;
        let total: u32 = days.iter().sum();
        let _ = write!(
            s,
            r##"<line x1="{label_w}" y1="{base}" x2="{x2}" y2="{base}" stroke="#999" stroke-width="0.5"/><text x="0" y="{ty}" class="lbl">{name}</text><text x="{tx}" y="{ty}" class="num">{total} 件</text>"##,
            x2 = label_w + col_w * DAYS as f64,
            ty = base - 4.0,
            name = esc(class),
            tx = label_w + col_w * DAYS as f64 + 6.0,
        );
        for (d, n) in days.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let h = (row_h - 6.0) * f64::from(*n) / f64::from(max);
            let day = first + chrono::Duration::days(d as i64);
            let _ = write!(
                s,
                r##"<rect x="{x:.1}" y="{ry:.1}" width="{w}" height="{h:.1}" fill="#444"><title>{name} {day}：{n} 件</title></rect>"##,
                x = label_w + col_w * d as f64 + 2.0,
                ry = base - h,
                w = col_w - 4.0,
                name = esc(class),
            );
        }
    }
    let axis = top + row_h * rows.len().max(1) as f64 + 14.0;
    for d in (0..DAYS).step_by(5).chain(std::iter::once(DAYS - 1)) {
        let day = first + chrono::Duration::days(d);
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{axis}" class="tick">{md}</text>"#,
            x = label_w + col_w * d as f64,
            md = day.format("%m-%d"),
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_chart_labels_each_class_with_its_total() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
        let cases = vec![
            (d("2026-09-28"), "城建拆迁".to_string()),
            (d("2026-09-27"), "城建拆迁".to_string()),
            (d("2026-08-01"), "城建拆迁".to_string()),
            (d("2026-09-20"), "劳动社保".to_string()),
        ];
        let svg = daily_chart(&cases, d("2026-09-28"));
        assert!(svg.contains("城建拆迁</text>"));
        assert!(svg.contains(">2 件<"));
        assert!(svg.contains(">1 件<"));
        assert!(!svg.contains("//"));
    }

    #[test]
    fn tier_bars_carry_labels_and_patterns() {
        let svg = tier_chart(&[
            ("红".into(), "红色预警".into(), 3),
            ("蓝".into(), "蓝色预警".into(), 1),
        ]);
        assert!(svg.contains("url(#pat-red)") && svg.contains("3 件（75.0%）"));
    }
}
