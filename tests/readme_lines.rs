//! README.md's "Use it with ..." table and the doctests that compile its
//! lines (src/use_it_with.rs) must show the same code: a line edited in
//! one and not the other would no longer be checked as shown.

use std::collections::BTreeSet;

const README: &str = include_str!("../README.md");
const DOCTESTS: &str = include_str!("../src/use_it_with.rs");

/// The code of each table row of the "Use it with ..." section (the
/// second column's code span), but the getrandom row, which is a build
/// setting and is examples/getrandom_backend.rs.
fn table_lines() -> BTreeSet<String> {
    let section = README
        .split("\n## ")
        .find(|s| s.starts_with("Use it with"))
        .expect("README.md has a \"Use it with ...\" section");
    section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.starts_with("| crate "))
        .filter_map(|row| {
            let cell = row.split(" | ").nth(1)?;
            let code = cell.strip_prefix('`')?.split('`').next()?;
            (code != "use kqseed as _;").then(|| code.to_string())
        })
        .collect()
}

/// The visible (not `# `-hidden) lines of the doctests.
fn doctest_lines() -> BTreeSet<String> {
    let mut lines = BTreeSet::new();
    let mut in_code = false;
    for l in DOCTESTS.lines() {
        let Some(doc) = l.strip_prefix("///") else {
            continue;
        };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        if doc.starts_with("```") {
            in_code = !in_code;
        } else if in_code && !doc.starts_with('#') {
            lines.insert(doc.to_string());
        }
    }
    lines
}

#[test]
fn every_table_line_is_a_doctest_and_every_doctest_a_table_line() {
    let (table, tests) = (table_lines(), doctest_lines());
    assert!(table.len() >= 15, "too few rows read: {table:#?}");
    let untested: Vec<_> = table.difference(&tests).collect();
    let unshown: Vec<_> = tests.difference(&table).collect();
    assert!(
        untested.is_empty() && unshown.is_empty(),
        "in README.md only: {untested:#?}\nin src/use_it_with.rs only: {unshown:#?}"
    );
}
