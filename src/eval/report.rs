//! The evaluation report in Markdown and the threshold sweep as SVG.

use super::*;

pub(super) fn pct(x: f64) -> String {
    format!("{:.1}", x * 100.0)
}

/// The report as Markdown, in Chinese. At most `max_errors` errors of each
/// kind are listed (all are in the JSON report).
pub fn markdown(r: &Report, max_errors: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# 评估报告：{}\n", r.corpus);
    let _ = writeln!(
        s,
        "评估 {} 件；按标签映射跳过 {} 件；无法读取 {} 件。\n",
        r.cases, r.skipped, r.rejected
    );
    let _ = writeln!(
        s,
        "## 类别\n\n| 类别 | 标注数 | 预测数 | 正确 | 精确率% | 召回率% | F1% |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for c in &r.classes {
        let mark = if c.support == 0 {
            "（无标注，不计入平均）"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "| {}{mark} | {} | {} | {} | {} | {} | {} |",
            c.class,
            c.support,
            c.predicted,
            c.correct,
            pct(c.precision),
            pct(c.recall),
            pct(c.f1)
        );
    }
    let _ = writeln!(
        s,
        "\n宏平均：精确率 {}%，召回率 {}%，F1 {}%。微平均（六类，不含其他）：精确率 {}%，召回率 {}%，F1 {}%。主类别准确率 {}%。",
        pct(r.macro_precision),
        pct(r.macro_recall),
        pct(r.macro_f1),
        pct(r.micro_precision),
        pct(r.micro_recall),
        pct(r.micro_f1),
        pct(r.accuracy)
    );
    if !r.excluded_classes.is_empty() {
        let _ = writeln!(
            s,
            "\n这些类别在语料中没有标注，不计入平均：{}。",
            r.excluded_classes.join("、")
        );
    }
    if let Some(c) = &r.crisis {
        let _ = writeln!(
            s,
            "\n## 危机标记\n\n标注为危机 {} 件，标记 {} 件，其中正确 {} 件：精确率 {}%，召回率 {}%；标注为危机且被标记并列为红色的 {} 件。",
            c.gold,
            c.predicted,
            c.correct,
            pct(c.precision),
            pct(c.recall),
            c.red
        );
    }
    if let Some(n) = r.calm_above_yellow {
        let _ = writeln!(s, "\n标注为蓝或无、却列为橙或红的案件：{n} 件。");
    }
    if !r.sources.is_empty() {
        let _ = writeln!(
            s,
            "\n## 源头\n\n| 源头 | 标注数 | 预测数 | 正确 | 精确率% | 召回率% | F1% |\n|---|---:|---:|---:|---:|---:|---:|"
        );
        for c in &r.sources {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                c.class,
                c.support,
                c.predicted,
                c.correct,
                pct(c.precision),
                pct(c.recall),
                pct(c.f1)
            );
        }
    }
    let _ = writeln!(s, "\n## 混淆矩阵（行：标注，列：预测）\n");
    let _ = writeln!(s, "| 标注＼预测 | {} |", r.labels.join(" | "));
    let _ = writeln!(s, "|---|{}", "---:|".repeat(r.labels.len()));
    for (i, row) in r.confusion.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(ToString::to_string).collect();
        let _ = writeln!(s, "| {} | {} |", r.labels[i], cells.join(" | "));
    }
    if r.tiers.is_empty() {
        let _ = writeln!(s, "\n语料没有预警标注，不计算预警指标和阈值扫描。");
    } else {
        let _ = writeln!(
            s,
            "\n## 预警（该等级及以上）\n\n| 等级 | 标注数 | 预测数 | 正确 | 精确率% | 召回率% |\n|---|---:|---:|---:|---:|---:|"
        );
        for t in &r.tiers {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                t.tier,
                t.gold,
                t.predicted,
                t.correct,
                pct(t.precision),
                pct(t.recall)
            );
        }
        let _ = writeln!(
            s,
            "\n## 阈值扫描（风险分 ≥ 阈值即预警）\n\n| 阈值 | 预警数 | 精确率% | 召回率% |\n|---:|---:|---:|---:|"
        );
        for p in &r.sweep {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                p.threshold,
                p.warned,
                pct(p.precision),
                pct(p.recall)
            );
        }
    }
    let _ = writeln!(
        s,
        "\n## 规则\n\n| 规则 | 目标 | 命中件数 | 命中在正确类别的比例% |\n|---|---|---:|---:|"
    );
    for rule in &r.rules {
        let share = rule.right_class_share.map_or("—".to_string(), pct);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            rule.rule, rule.target, rule.hits, share
        );
    }
    if !r.never_fired.is_empty() {
        let _ = writeln!(s, "\n从未命中的规则：{}。", r.never_fired.join("、"));
    }
    if !r.mostly_wrong.is_empty() {
        let _ = writeln!(
            s,
            "\n多数命中在其他类别的规则：{}。",
            r.mostly_wrong.join("、")
        );
    }
    let _ = writeln!(s, "\n## 错误案例\n");
    for (kind, title) in [
        ("class", "类别错误"),
        ("missed_warning", "漏报（应预警未预警）"),
        ("false_warning", "误报（不应预警却预警）"),
        ("missed_crisis", "漏标危机"),
        ("false_crisis", "误标危机"),
    ] {
        let of: Vec<&ErrorCase> = r.errors.iter().filter(|e| e.kind == kind).collect();
        if of.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "### {title}：{} 件\n\n| 编号 | 行 | 标注 | 预测 | 风险分 | 命中规则 |\n|---|---:|---|---|---:|---|",
            of.len()
        );
        for e in of.iter().take(max_errors) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                e.id,
                e.line,
                e.gold,
                e.predicted,
                e.risk,
                e.rules.join(" ")
            );
        }
        if of.len() > max_errors {
            let _ = writeln!(s, "\n……另有 {} 件，见 JSON 报告。", of.len() - max_errors);
        }
        let _ = writeln!(s);
    }
    s
}

/// An SVG line chart of warning precision and recall against the risk
/// threshold (no fonts or libraries needed to view it).
pub fn sweep_svg(sweep: &[SweepPoint]) -> String {
    let (w, h, left, top, pw, ph) = (640.0, 400.0, 60.0, 30.0, 540.0, 300.0);
    let x = |t: f64| left + t / 100.0 * pw;
    let y = |v: f64| top + (1.0 - v) * ph;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    for i in 0..=10 {
        let v = f64::from(i) / 10.0;
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"#ddd\"/><text x=\"{2:.1}\" y=\"{3:.1}\" text-anchor=\"end\">{4}%</text>",
            y(v),
            left + pw,
            left - 6.0,
            y(v) + 4.0,
            i * 10
        );
        let t = f64::from(i) * 10.0;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(t),
            top + ph + 18.0,
            i * 10
        );
    }
    for (name, color, get) in [
        (
            "精确率",
            "#c0392b",
            (|p: &SweepPoint| p.precision) as fn(&SweepPoint) -> f64,
        ),
        ("召回率", "#2471a3", |p: &SweepPoint| p.recall),
    ] {
        let pts: Vec<String> = sweep
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(f64::from(p.threshold)), y(get(p))))
            .collect();
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"><title>{name}</title></polyline>",
            pts.join(" ")
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">风险分阈值</text>\n<text x=\"{:.1}\" y=\"20\" fill=\"#c0392b\">— 精确率</text><text x=\"{:.1}\" y=\"20\" fill=\"#2471a3\">— 召回率</text>\n</svg>",
        left + pw / 2.0,
        h - 8.0,
        left + pw - 150.0,
        left + pw - 70.0
    );
    s
}
