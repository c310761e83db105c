//! The import graphs of both crates, checked from their source: a top-level module may import
//! only modules declared before it in its `lib.rs` (so dependencies run one way: in the core from
//! `resources` up to `training`, in the extension from `pg` up to `api`), and files import each
//! other without a circle. Test code (`#[cfg(test)]` onwards in a file, `*_tests.rs` files and
//! the extension's `src/tests/`) may import anything.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The core's sources.
const CORE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
/// The extension's sources (the parent crate of this workspace).
const EXTENSION: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../src");

/// Every source file's module path under `root` (`data::preprocess`), with its non-test text.
fn modules(root: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![PathBuf::from(root)];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "tests") {
                    continue;
                }
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                if path.file_stem().unwrap().to_string_lossy().ends_with("_tests") {
                    continue;
                }
                let text = fs::read_to_string(&path).unwrap();
                let code = match text.find("#[cfg(test)]") {
                    Some(at) => text[..at].to_string(),
                    None => text,
                };
                out.insert(module_path(root, &path), code);
            }
        }
    }
    out
}

fn module_path(root: &str, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

/// The modules `code` (the text of module `from`) names through `crate::` or `super::` paths,
/// resolved to the longest known module path.
fn imports(from: &str, code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (prefix, base) in [("crate::", String::new()), ("super::", parent_of(from))] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let path: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            while !segments.is_empty() {
                let joined = segments.join("::");
                let candidate = if base.is_empty() { joined } else { format!("{base}::{joined}") };
                if known.contains(&candidate) {
                    if candidate != from && !from.starts_with(&format!("{candidate}::")) {
                        found.insert(candidate);
                    }
                    break;
                }
                segments.pop();
            }
        }
    }
    found
}

/// The module `super::` means at the top of `module`'s file (for a mod.rs, the directory's parent).
fn parent_of(module: &str) -> String {
    let mut parts: Vec<&str> = module.split("::").collect();
    parts.pop();
    parts.join("::")
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap()
}

/// Top-level modules in the order lib.rs declares them: the bottom of the graph first.
fn declared_order(root: &str) -> Vec<String> {
    let lib = fs::read_to_string(format!("{root}/lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").or_else(|| l.trim().strip_prefix("mod ")))
        .map(|l| l.trim_end_matches(';').to_string())
        .filter(|m| m != "tests")
        .collect()
}

/// Imports from a top-level module to one declared after it in lib.rs.
fn imports_going_up(root: &str) -> Vec<String> {
    let mods = modules(root);
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    let order = declared_order(root);
    let rank = |m: &str| order.iter().position(|o| o == m);
    let mut wrong = Vec::new();
    for (from, code) in &mods {
        if from.is_empty() {
            continue;
        }
        let from_rank = rank(top(from)).unwrap_or_else(|| panic!("{from} is not declared in lib.rs"));
        for to in imports(from, code, &known) {
            if to.is_empty() || top(&to) == top(from) {
                continue;
            }
            let to_rank = rank(top(&to)).unwrap();
            if to_rank > from_rank {
                wrong.push(format!("{from} imports {to}, which lib.rs declares after {}", top(from)));
            }
        }
    }
    wrong
}

/// The first circle of imports between files under `root`, as a path.
fn first_circle(root: &str) -> Option<Vec<String>> {
    let mods = modules(root);
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    let graph: BTreeMap<String, BTreeSet<String>> = mods
        .iter()
        .map(|(from, code)| (from.clone(), imports(from, code, &known).into_iter().filter(|t| !t.is_empty()).collect()))
        .collect();
    // Depth-first search, reporting the first circle found as a path.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|p| p == node).unwrap();
                let mut circle = path[start..].to_vec();
                circle.push(node.to_string());
                return Some(circle);
            }
            _ => {}
        }
        state.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    graph.keys().find_map(|node| visit(node, &graph, &mut state, &mut Vec::new()))
}

#[test]
fn core_modules_import_only_modules_declared_before_them() {
    let wrong = imports_going_up(CORE);
    assert!(wrong.is_empty(), "imports that go up the core's layers:\n{}", wrong.join("\n"));
}

#[test]
fn extension_layers_import_only_layers_declared_before_them() {
    let wrong = imports_going_up(EXTENSION);
    assert!(wrong.is_empty(), "imports that go up the extension's layers:\n{}", wrong.join("\n"));
}

#[test]
fn no_circle_between_core_files() {
    if let Some(circle) = first_circle(CORE) {
        panic!("the core's files import each other in a circle: {}", circle.join(" -> "));
    }
}

#[test]
fn no_circle_between_extension_files() {
    if let Some(circle) = first_circle(EXTENSION) {
        panic!("the extension's files import each other in a circle: {}", circle.join(" -> "));
    }
}

#[test]
fn the_checker_sees_imports() {
    // The checks above pass trivially if no import is recognised: pin a few known edges.
    let mods = modules(CORE);
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    let of = |m: &str| imports(m, &mods[m], &known);
    // Other stages are imported through their facade (the stage's mod.rs), siblings directly.
    assert!(of("training::pipeline").contains("data"));
    assert!(of("training::pipeline").contains("training::fit"));
    assert!(of("models::logistic::fit").contains("data"));
    let circle = "use crate::training::pipeline::X;";
    assert!(imports("data::values", circle, &known).contains("training::pipeline"));
    assert!(imports("data::values", "use super::split::Y;", &known).contains("data::split"));
    let ext = modules(EXTENSION);
    let ext_known: BTreeSet<String> = ext.keys().cloned().collect();
    assert!(imports("api::serving::score", &ext["api::serving::score"], &ext_known).contains("executor::cache"));
    assert_eq!(declared_order(EXTENSION).first().map(String::as_str), Some("errors"));
}

#[test]
fn only_the_catalog_layer_touches_the_catalog_tables() {
    // The extension's tables are read and written in one place, so their columns can change
    // with one file's edit (sql/*.sql holds their DDL).
    let tables = [
        "lead_scoring.models",
        "lead_scoring.model_events",
        "lead_scoring.monitoring",
        "lead_scoring.lead_feedback",
        "lead_scoring.experiments",
        "lead_scoring.experiment_assignments",
    ];
    let mut outside = Vec::new();
    for (module, code) in modules(EXTENSION) {
        if module == "catalog" || module.starts_with("catalog::") {
            continue;
        }
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            if let Some(t) = tables.iter().find(|t| line.contains(*t)) {
                outside.push(format!("{module}: {t}"));
            }
        }
    }
    assert!(outside.is_empty(), "catalog tables used outside src/catalog:\n{}", outside.join("\n"));
}

/// Every catalog function that runs SQL pins the search_path first (src/pg/catalog_settings.rs),
/// so a caller's path that lists `pg_catalog` late cannot replace an operator in its queries.
#[test]
fn every_catalog_query_runs_with_the_search_path_pinned() {
    let mut unpinned = Vec::new();
    for (module, code) in modules(EXTENSION) {
        if module != "catalog" && !module.starts_with("catalog::") {
            continue;
        }
        // A function runs from its `fn` line to the next top-level `}`.
        let lines: Vec<&str> = code.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let starts_fn = line.starts_with("fn ") || line.starts_with("pub fn ") || line.starts_with("pub(crate) fn ");
            if !starts_fn {
                i += 1;
                continue;
            }
            let end = (i + 1..lines.len()).find(|&j| lines[j] == "}").unwrap_or(lines.len());
            let body = &lines[i + 1..end];
            // Pinned before the first query.
            let first_sql = body.iter().position(|l| l.contains("Spi::"));
            let pin = body.iter().position(|l| l.contains("CatalogSettings::pin()"));
            if first_sql.is_some_and(|q| pin.is_none_or(|p| p > q)) {
                unpinned.push(format!("{module}: {}", line.trim()));
            }
            i = end + 1;
        }
    }
    assert!(unpinned.is_empty(), "catalog functions that run SQL without CatalogSettings::pin():\n{}", unpinned.join("\n"));
}

/// Every `unsafe` block of the extension says why it is sound (`// SAFETY:` in the lines just
/// above it, or on its line), and every `unsafe fn` says what its callers must uphold (a
/// `# Safety` section in its doc comment, or a `// SAFETY:` note for a callback Postgres calls).
#[test]
fn every_unsafe_in_the_extension_carries_a_safety_note() {
    let mut missing = Vec::new();
    for (module, code) in modules(EXTENSION) {
        let lines: Vec<&str> = code.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if t.starts_with("//") {
                continue;
            }
            let is_fn = t.contains("unsafe fn ") || t.contains("unsafe extern \"C");
            let is_block = t.contains("unsafe {");
            if !is_fn && !is_block {
                continue;
            }
            // The comment lines and attributes just above (and the line itself).
            let mut above = vec![*line];
            let mut j = i;
            while j > 0 {
                j -= 1;
                let l = lines[j].trim_start();
                if l.starts_with("//") || l.starts_with("#[") || (is_block && above.len() < 4) {
                    above.push(lines[j]);
                } else {
                    break;
                }
            }
            let noted = above.iter().any(|l| l.contains("SAFETY:") || l.contains("# Safety"));
            if !noted {
                missing.push(format!("{module}:{}: {}", i + 1, t));
            }
        }
    }
    assert!(missing.is_empty(), "{} unsafe without a safety note:\n{}", missing.len(), missing.join("\n"));
}
