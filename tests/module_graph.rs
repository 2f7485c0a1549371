//! The modules of `src/` import one another without a loop (`docs/architecture.md`, "Module
//! map"): a loop means two files that can only be understood, and changed, together. Read
//! from the source text: every `crate::…`, `super::…` and `self::…` path outside a file's
//! tests names the module it reaches into. The test kit (`tests/testkit`) is held to the same
//! rule, and to not depending on captain (`docs/architecture.md`, "Testing").

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// `src/ops/operator/phases.rs` → `ops::operator::phases`; `mod.rs` names its directory.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("a file under src");
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        parts.clear();
    }
    parts.join("::")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable source tree") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The paths a file's code (its tests left out) names, as written: `crate::a::b`, `super::c`.
fn paths_in(text: &str) -> Vec<Vec<String>> {
    let code = text
        .find("#[cfg(test)]\nmod tests")
        .map_or(text, |i| &text[..i]);
    // Comments name modules without depending on them (`[`super::pages`]` in a doc).
    let code: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let code = code.as_str();
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            // Only where a path starts: not the tail of `foo_crate::` or `a::super::`.
            if at > 0 {
                let b = bytes[at - 1];
                if b.is_ascii_alphanumeric() || b == b'_' || b == b':' {
                    continue;
                }
            }
            let path: String = code[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            out.push(
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            );
        }
    }
    out
}

/// Which module each file's code reaches into, its own parents and children left out (a
/// parent declares its children; a child's `super::` is its own house).
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeMap<String, PathBuf> = files
        .iter()
        .map(|f| (module_of(src, f), f.clone()))
        .collect();
    let mut edges = BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).expect("a readable source file");
        let here: Vec<String> = module
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let mut deps = BTreeSet::new();
        for path in paths_in(&text) {
            let mut parts: Vec<String> = match path.first().map(String::as_str) {
                Some("crate") => path[1..].to_vec(),
                Some("self") => here.iter().chain(&path[1..]).cloned().collect(),
                _ => {
                    let ups = path.iter().take_while(|p| *p == "super").count();
                    let base = &here[..here.len().saturating_sub(ups)];
                    base.iter().chain(&path[ups..]).cloned().collect()
                }
            };
            // The longest prefix that is a module of its own is what the path reaches into.
            while !parts.is_empty() {
                let candidate = parts.join("::");
                if modules.contains_key(&candidate) {
                    let related = candidate == *module
                        || module.starts_with(&format!("{candidate}::"))
                        || candidate.starts_with(&format!("{module}::"));
                    if !related {
                        deps.insert(candidate);
                    }
                    break;
                }
                parts.pop();
            }
        }
        edges.insert(module.clone(), deps);
    }
    edges
}

/// A loop through `start`, if there is one: the modules along it.
fn loop_through(edges: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in edges.get(&at).into_iter().flatten() {
            if next == start {
                return Some(path.clone());
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

/// Every loop among `edges`' modules, each once, as "a → b → a".
fn loops_in(edges: &BTreeMap<String, BTreeSet<String>>) -> String {
    let loops: BTreeSet<Vec<String>> = edges
        .keys()
        .filter_map(|m| loop_through(edges, m))
        .map(|mut l| {
            // One loop, found from each of its modules, is reported once.
            let first = l
                .iter()
                .enumerate()
                .min_by_key(|(_, m)| *m)
                .map_or(0, |(i, _)| i);
            l.rotate_left(first);
            l
        })
        .collect();
    loops
        .iter()
        .map(|l| format!("  {} → {}", l.join(" → "), l[0]))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn no_module_imports_itself_round_a_loop() {
    let src: PathBuf = [env!("CARGO_MANIFEST_DIR"), "src"].iter().collect();
    let edges = graph(&src);
    assert!(
        edges.len() > 50,
        "the whole tree is read: {} modules",
        edges.len()
    );
    let loops = loops_in(&edges);
    assert!(loops.is_empty(), "import loops:\n{loops}");
}

#[test]
fn no_module_of_the_test_kit_imports_itself_round_a_loop() {
    let src: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "testkit", "src"]
        .iter()
        .collect();
    let edges = graph(&src);
    assert!(
        edges.contains_key("apiserver::routes") && edges.contains_key("prometheus"),
        "the whole kit is read: {:?}",
        edges.keys()
    );
    let loops = loops_in(&edges);
    assert!(loops.is_empty(), "import loops in the test kit:\n{loops}");
}

/// The kit is built once and reused: were it to depend on captain, every change to `src/`
/// would rebuild the API server too. What needs captain's types stays in `tests/`.
#[test]
fn the_test_kit_does_not_depend_on_captain() {
    let kit: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "testkit"]
        .iter()
        .collect();
    let manifest: toml::Table = std::fs::read_to_string(kit.join("Cargo.toml"))
        .expect("the kit's manifest")
        .parse()
        .expect("the kit's manifest is TOML");
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        let names = manifest.get(section).and_then(|d| d.as_table());
        assert!(
            !names.is_some_and(|d| d.contains_key("captain")),
            "tests/testkit/Cargo.toml [{section}] names captain"
        );
    }
    let mut files = Vec::new();
    rust_files(&kit.join("src"), &mut files);
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a readable source file");
        let code = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            !code.contains("captain::"),
            "{} reaches into captain",
            file.display()
        );
    }
}

#[test]
fn the_reader_sees_a_loop_where_there_is_one() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(src.join("a/mod.rs"), "pub mod x;\nuse crate::b::Thing;\n").unwrap();
    std::fs::write(src.join("a/x.rs"), "use super::super::b;\n").unwrap();
    std::fs::write(
        src.join("b.rs"),
        "use crate::a::x::Y;\n#[cfg(test)]\nmod tests { use crate::a; }\n",
    )
    .unwrap();
    let edges = graph(src);
    assert_eq!(edges["a"], BTreeSet::from(["b".to_string()]));
    assert_eq!(edges["a::x"], BTreeSet::from(["b".to_string()]));
    assert_eq!(edges["b"], BTreeSet::from(["a::x".to_string()]));
    assert_eq!(
        loop_through(&edges, "b"),
        Some(vec!["b".to_string(), "a::x".to_string()])
    );
}
