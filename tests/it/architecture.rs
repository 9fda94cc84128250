//! The architecture's invariants, checked on the source tree: the import
//! graph of `src/` has no cycle, the exact path (`exact/`) imports nothing
//! from the symbolic engine or the families, and only `symbolic/cas.rs`
//! names Symbolica.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`exact::eval`) → source text without comments and tests.
fn modules() -> BTreeMap<String, String> {
    let root = crate::common::root().join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&root).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            let name = if parts == ["lib"] || parts == ["main"] {
                "crate".to_string()
            } else {
                parts.join("::")
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.split("#[cfg(test)]").next().unwrap_or("");
            let code: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            out.insert(name, code);
        }
    }
    out
}

/// The modules each module imports (`crate::a::b` paths and `super::x`).
fn imports(mods: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges = BTreeMap::new();
    for (m, code) in mods {
        let mut deps = BTreeSet::new();
        let mut add_path = |path: Vec<&str>| {
            for i in (1..=path.len()).rev() {
                let cand = path[..i].join("::");
                if mods.contains_key(&cand) {
                    if &cand != m {
                        deps.insert(cand);
                    }
                    break;
                }
            }
        };
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + 7..];
            let path: Vec<&str> = rest
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .filter(|s| !s.is_empty())
                .collect();
            add_path(path);
        }
        let parent: Vec<&str> = m.split("::").collect();
        let parent = &parent[..parent.len().saturating_sub(1)];
        for (i, _) in code.match_indices("super::") {
            let rest = &code[i + 7..];
            let name = rest
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            let mut path: Vec<&str> = parent.to_vec();
            path.push(name);
            add_path(path);
        }
        edges.insert(m.clone(), deps);
    }
    edges
}

#[test]
fn the_import_graph_has_no_cycle() {
    let edges = imports(&modules());
    // Depth-first search for a back edge.
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(m) {
            Some(2) => return None,
            Some(1) => {
                let at = path.iter().position(|p| p == m).unwrap_or(0);
                let mut cycle = path[at..].to_vec();
                cycle.push(m.to_string());
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(m.to_string(), 1);
        path.push(m.to_string());
        for d in edges.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, edges, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(m.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in edges.keys() {
        if let Some(cycle) = visit(m, &edges, &mut state, &mut Vec::new()) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
    assert!(edges.len() > 30, "too few modules found: {}", edges.len());
}

#[test]
fn the_exact_path_never_imports_the_symbolic_engine() {
    let edges = imports(&modules());
    for (m, deps) in &edges {
        if m.starts_with("exact") {
            for d in deps {
                assert!(
                    !(d.starts_with("symbolic")
                        || d.starts_with("families")
                        || d.starts_with("check")),
                    "{m} imports {d}"
                );
            }
        }
    }
}

#[test]
fn only_the_cas_module_names_symbolica() {
    for (m, code) in modules() {
        if m != "symbolic::cas" {
            assert!(!code.contains("symbolica::"), "{m} names Symbolica");
        }
    }
    assert!(Path::new(&crate::common::root().join("src/symbolic/cas.rs")).exists());
}
