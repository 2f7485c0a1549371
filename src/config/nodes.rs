//! Where a node of a YAML config file sits in the text. The file is read a second time, by saphyr,
//! into a tree whose nodes carry their positions, and a node is looked up by its path
//! (`rollout.steps[1].weight`). Only used to point at what a whole-file rule rejected; the
//! values themselves come from serde_yaml_ng.

use std::fmt;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

/// One step from a node to a child: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A node named by its path from the root, such as `rollout.steps[1].weight`. It stands for
/// the value at that path, or, after [`NodePath::key_itself`], for the last key (`warn:`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodePath {
    steps: Vec<Step>,
    key_itself: bool,
}

impl NodePath {
    pub fn root() -> Self {
        Self::default()
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.steps.push(Step::Key(key.into()));
        self
    }

    pub fn index(mut self, index: usize) -> Self {
        self.steps.push(Step::Index(index));
        self
    }

    /// Points at the last key rather than at its value: for a rule about a whole mapping,
    /// such as an objective's `warn`.
    pub fn key_itself(mut self) -> Self {
        self.key_itself = true;
        self
    }
}

impl fmt::Display for NodePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                Step::Key(k) if i == 0 => write!(f, "{k}")?,
                Step::Key(k) => write!(f, ".{k}")?,
                Step::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// The first document of a YAML text, as a tree with positions; empty when saphyr cannot
/// read it. serde_yaml_ng has read it by then, but libyaml lets through some text the YAML
/// spec does not (a flow mapping continued less indented than its key), which saphyr refuses.
pub struct Positions<'a> {
    root: Option<MarkedYaml<'a>>,
    text: &'a str,
}

impl<'a> Positions<'a> {
    pub fn parse(text: &'a str) -> Self {
        let root = MarkedYaml::load_from_str(text)
            .ok()
            .and_then(|docs| docs.into_iter().next());
        Self { root, text }
    }

    /// 1-based line and column of the node at `path`. A path that goes further than the
    /// file (a value left to its default) gives the deepest node that exists. Without a tree,
    /// the line where the path's top-level key is written, or else the start of the file.
    pub fn find(&self, path: &NodePath) -> Option<(usize, usize)> {
        let Some(root) = self.root.as_ref() else {
            return Some(self.top_level_key(path));
        };
        let mut node = untagged(root);
        let mut at = node;
        for (i, step) in path.steps.iter().enumerate() {
            let last = i + 1 == path.steps.len();
            let Some((key, value)) = child(node, step) else {
                break;
            };
            at = if last && path.key_itself {
                key.unwrap_or(value)
            } else {
                value
            };
            node = untagged(value);
        }
        let start = at.span.start;
        Some((start.line(), start.col() + 1))
    }

    fn top_level_key(&self, path: &NodePath) -> (usize, usize) {
        let Some(Step::Key(key)) = path.steps.first() else {
            return (1, 1);
        };
        self.text
            .lines()
            .position(|line| {
                line.strip_prefix(key.as_str())
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
            .map_or((1, 1), |i| (i + 1, 1))
    }
}

/// The child of `node` reached by `step`: the key node (for a mapping) and the value node.
fn child<'n, 'a>(
    node: &'n MarkedYaml<'a>,
    step: &Step,
) -> Option<(Option<&'n MarkedYaml<'a>>, &'n MarkedYaml<'a>)> {
    match (&node.data, step) {
        (YamlData::Mapping(map), Step::Key(name)) => map
            .iter()
            .find(|(k, _)| key_text(k).as_deref() == Some(name.as_str()))
            .map(|(k, v)| (Some(k), v)),
        (YamlData::Sequence(items), Step::Index(n)) => items.get(*n).map(|v| (None, v)),
        _ => None,
    }
}

/// A mapping key as serde reads it into a `String`: `error_rate`, `5`, `true`.
fn key_text(key: &MarkedYaml<'_>) -> Option<String> {
    match &untagged(key).data {
        YamlData::Representation(text, _, _) => Some(text.to_string()),
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(Scalar::Integer(n)) => Some(n.to_string()),
        YamlData::Value(Scalar::FloatingPoint(x)) => Some(x.to_string()),
        YamlData::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        _ => None,
    }
}

fn untagged<'n, 'a>(node: &'n MarkedYaml<'a>) -> &'n MarkedYaml<'a> {
    match &node.data {
        YamlData::Tagged(_, inner) => untagged(inner),
        _ => node,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "rollout:\n  steps:\n    - {weight: 5, observe: 10m}\n    - weight: 50\n      observe: 10m\nscore: {pass: 90, warn: 95}\n";

    fn at(path: NodePath) -> Option<(usize, usize)> {
        Positions::parse(TEXT).find(&path)
    }

    #[test]
    fn finds_values_in_flow_and_block_mappings() {
        let steps = NodePath::root().key("rollout").key("steps");
        assert_eq!(at(steps.clone().index(0).key("weight")), Some((3, 16)));
        assert_eq!(at(steps.index(1).key("weight")), Some((4, 15)));
    }

    #[test]
    fn points_at_the_key_itself_when_asked() {
        assert_eq!(at(NodePath::root().key("score").key_itself()), Some((6, 1)));
        assert_eq!(
            at(NodePath::root().key("score").key("warn").key_itself()),
            Some((6, 19))
        );
    }

    #[test]
    fn a_path_beyond_the_file_gives_the_deepest_node_that_exists() {
        let path = NodePath::root().key("rollout").key("steps").index(7);
        assert_eq!(at(path), Some((3, 5)));
    }

    #[test]
    fn text_saphyr_refuses_gives_the_line_of_the_top_level_key() {
        let text = "slis:\n  a: {query:\n 'x'}\nscore: {pass: .nan}\n";
        let positions = Positions::parse(text);
        assert!(positions.root.is_none(), "saphyr reads the text after all");
        let path = NodePath::root().key("score").key("pass");
        assert_eq!(positions.find(&path), Some((4, 1)));
        assert_eq!(
            positions.find(&NodePath::root().key("burn_rate")),
            Some((1, 1))
        );
    }

    #[test]
    fn paths_print_as_yq_writes_them() {
        let path = NodePath::root()
            .key("rollout")
            .key("steps")
            .index(1)
            .key("weight");
        assert_eq!(path.to_string(), "rollout.steps[1].weight");
    }
}
