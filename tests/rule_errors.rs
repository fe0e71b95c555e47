//! Golden tests for rule-file diagnostics: each `tests/golden/rule_errors/NAME.toml`
//! is loaded next to the default `scoring.toml` and dictionary (a file
//! named `scoring_*.toml` replaces `scoring.toml` instead), and the rendered
//! diagnostics must equal `NAME.out`. `UPDATE_GOLDENFILES=1` rewrites them.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;

mod common;

use petition_triage::{Engine, RuleSet, RuleSource};

fn diagnostics_for(name: &str, text: &str) -> Vec<petition_triage::Diagnostic> {
    let file = if name.starts_with("scoring_") {
        "scoring.toml".to_string()
    } else {
        format!("{name}.toml")
    };
    let source = common::source_with("rules", &[(file.as_str(), text)]);
    match RuleSet::load(source) {
        Err(d) => d,
        Ok(rules) => match Engine::new(rules) {
            Err(d) => d,
            Ok(_) => Vec::new(),
        },
    }
}

#[test]
fn rule_error_goldens() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/rule_errors");
    let update = std::env::var_os("UPDATE_GOLDENFILES").is_some();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    assert!(names.len() >= 12, "golden cases missing: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let text = std::fs::read_to_string(dir.join(format!("{name}.toml"))).unwrap();
        let diags = diagnostics_for(name, &text);
        assert!(
            diags
                .iter()
                .any(|d| d.severity == petition_triage::rules::Severity::Error),
            "{name}: expected an error, got none"
        );
        let rendered: String = diags.iter().map(|d| d.render() + "\n").collect();
        let out = dir.join(format!("{name}.out"));
        if update {
            std::fs::write(&out, &rendered).unwrap();
        } else {
            let want = std::fs::read_to_string(&out).unwrap_or_default();
            if want != rendered {
                failures.push(format!(
                    "--- {name}.out (want)\n{want}\n+++ got\n{rendered}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each error kind names its file, line and column.
#[test]
fn errors_point_at_file_line_column() {
    let cases: &[(&str, &str, &str)] = &[
        ("unknown_key", "E002", "rules/unknown_key.toml:7:1"),
        ("duplicate_id", "E003", "rules/duplicate_id.toml:10:6"),
        ("invalid_regex", "E004", "rules/invalid_regex.toml:7:11"),
        ("oversized_regex", "E005", "rules/oversized_regex.toml:7:11"),
        ("empty_keyword", "E006", "rules/empty_keyword.toml:7:14"),
        ("unknown_target", "E007", "rules/unknown_target.toml:4:10"),
        ("weight_range", "E008", "rules/weight_range.toml:6:10"),
        ("syntax_error", "E001", "rules/syntax_error.toml:4:10"),
        ("missing_field", "E009", "rules/missing_field.toml:1:1"),
        ("bad_kind", "E010", "rules/bad_kind.toml:5:8"),
        ("example_fails", "E011", "rules/example_fails.toml:9:13"),
        ("example_fails", "E012", "rules/example_fails.toml:10:21"),
        ("scoring_tiers", "E013", "rules/scoring.toml:15:7"),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/rule_errors");
    for (name, code, location) in cases {
        let text = std::fs::read_to_string(dir.join(format!("{name}.toml"))).unwrap();
        let diags = diagnostics_for(name, &text);
        let found = diags.iter().find(|d| d.code == *code);
        let d = found.unwrap_or_else(|| panic!("{name}: no {code} in {diags:#?}"));
        assert_eq!(&d.location(), location, "{name} {code}");
        assert!(
            d.hint.as_deref().is_some_and(|h| !h.is_empty()),
            "{name}: no hint"
        );
        assert!(d.render().contains(&format!("--> {location}")), "{name}");
    }
}

/// A broken set is never half-loaded: one bad rule refuses the whole set.
#[test]
fn one_bad_rule_refuses_the_whole_set() {
    let mut source = RuleSource::builtin();
    source.files.push((
        "zz_bad.toml".into(),
        "[[rule]]\nid = \"Z-1\"\ndescription = \"x\"\ntarget = \"群体\"\nkind = \"regex\"\nweight = 5\npattern = '('\n".into(),
    ));
    source.files.sort();
    let err = RuleSet::load(source).unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].code, "E004");
}
