//! Helpers shared by the integration tests: small rule sets written
//! inline next to the default `scoring.toml`, `language.toml` and
//! dictionary.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod bin;
pub mod browser;

use petition_triage::{Diagnostic, Engine, RuleSet, RuleSource};

/// The default scoring, language and dictionary files plus `files`
/// (a file named `scoring.toml` replaces the default one).
pub fn source_with(origin: &str, files: &[(&str, &str)]) -> RuleSource {
    let mut all: Vec<(String, String)> = RuleSource::builtin()
        .files
        .into_iter()
        .filter(|(p, _)| p == "scoring.toml" || p == "language.toml" || p.ends_with(".dict"))
        .filter(|(p, _)| !files.iter().any(|(f, _)| f == p))
        .collect();
    all.extend(
        files
            .iter()
            .map(|(p, t)| ((*p).to_string(), (*t).to_string())),
    );
    all.sort();
    RuleSource {
        origin: origin.into(),
        files: all,
    }
}

fn render(d: &[Diagnostic]) -> String {
    d.iter().map(Diagnostic::render).collect()
}

/// An engine over the default support files and one rule file.
pub fn engine_with(rules_toml: &str) -> Engine {
    let rules = RuleSet::load(source_with("t", &[("t.toml", rules_toml)]))
        .unwrap_or_else(|d| panic!("{}", render(&d)));
    Engine::new(rules).unwrap_or_else(|d| panic!("{}", render(&d)))
}
