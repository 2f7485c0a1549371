//! The server's storage, kept the way etcd keeps it for a real API server: one global,
//! monotonically increasing revision (the `resourceVersion`), every object's revisions since
//! the last compaction (so a list can be read at an older revision, which is what makes
//! `continue` pages consistent), and the event log watches replay. Compaction drops the
//! history: a watch, an exact read or a continue token from before it is answered 410.
//! Knows nothing of HTTP or of what the kinds mean.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;

use serde_json::{Value, json};

use super::resources::ResourceType;

/// Where an object is stored: resource (`namespaces`, `leases.coordination.k8s.io`),
/// namespace (`""` for cluster-scoped), name. Ordered as etcd orders its keys.
pub type Key = (&'static str, String, String);

/// Where an object of `t` is stored; plurals are unique among the served types.
pub fn key(t: &'static ResourceType, namespace: Option<&str>, name: &str) -> Key {
    let namespace = if t.namespaced {
        namespace.unwrap_or("")
    } else {
        ""
    };
    (t.plural, namespace.to_string(), name.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as a watch replays it. `previous` is the object before the change, so a
/// watch with a selector can turn "stopped matching" into DELETED and "started" into ADDED.
#[derive(Debug, Clone)]
pub struct Event {
    pub rv: u64,
    pub key: Key,
    pub kind: EventType,
    pub object: Value,
    pub previous: Option<Value>,
}

#[derive(Debug, Clone)]
struct Revision {
    rv: u64,
    /// `None`: deleted at `rv`.
    object: Option<Value>,
}

#[derive(Debug)]
pub struct Store {
    /// The last revision written (the store starts at 1: "0" means "any" on the wire).
    rv: u64,
    /// The oldest revision still readable and watchable from.
    compacted: u64,
    /// The newest revision whose event a compaction dropped: an open watch behind it
    /// missed events.
    dropped_through: u64,
    objects: BTreeMap<Key, Vec<Revision>>,
    events: VecDeque<Event>,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            rv: 1,
            compacted: 1,
            dropped_through: 0,
            objects: BTreeMap::new(),
            events: VecDeque::new(),
        }
    }
}

impl Store {
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// The oldest revision a watch may start from or a list may be read at.
    pub fn compacted(&self) -> u64 {
        self.compacted
    }

    /// Has a watch that saw everything up to `cursor` missed events to compaction? (A
    /// watch that was caught up survives a compaction, as it does on a real server.)
    pub fn missed(&self, cursor: u64) -> bool {
        cursor < self.dropped_through
    }

    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.objects.get(key)?.last()?.object.as_ref()
    }

    /// Write a new revision of `key`, stamping the revision into `metadata.resourceVersion`.
    pub fn write(&mut self, key: Key, mut object: Value) -> Value {
        self.rv += 1;
        let rv = self.rv;
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let revisions = self.objects.entry(key.clone()).or_default();
        let previous = revisions.last().and_then(|r| r.object.clone());
        revisions.push(Revision {
            rv,
            object: Some(object.clone()),
        });
        let kind = if previous.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.events.push_back(Event {
            rv,
            key,
            kind,
            object: object.clone(),
            previous,
        });
        object
    }

    /// Delete `key`; the last state, stamped with the deletion's revision, or `None`.
    pub fn remove(&mut self, key: &Key) -> Option<Value> {
        let mut object = self.get(key)?.clone();
        self.rv += 1;
        let rv = self.rv;
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let revisions = self.objects.entry(key.clone()).or_default();
        let previous = revisions.last().and_then(|r| r.object.clone());
        revisions.push(Revision { rv, object: None });
        self.events.push_back(Event {
            rv,
            key: key.clone(),
            kind: EventType::Deleted,
            object: object.clone(),
            previous,
        });
        Some(object)
    }

    /// The objects of `resource` (in `namespace`, when given) as they were at revision `at`,
    /// in key order, starting after `after` (a namespace and name).
    pub fn scan<'a>(
        &'a self,
        resource: &'static str,
        namespace: Option<&'a str>,
        after: Option<(String, String)>,
        at: u64,
    ) -> impl Iterator<Item = (&'a Key, &'a Value)> + 'a {
        let start = match after {
            Some((ns, name)) => Bound::Excluded((resource, ns, name)),
            None => Bound::Included((resource, namespace.unwrap_or("").to_string(), String::new())),
        };
        self.objects
            .range((start, Bound::Unbounded))
            .take_while(move |(key, _)| key.0 == resource && namespace.is_none_or(|ns| key.1 == ns))
            .filter_map(move |(key, revisions)| {
                let revision = revisions.iter().rev().find(|r| r.rv <= at)?;
                Some((key, revision.object.as_ref()?))
            })
    }

    /// The events after revision `rv`, oldest first.
    pub fn events_after(&self, rv: u64) -> impl Iterator<Item = &Event> {
        let start = self.events.partition_point(|e| e.rv <= rv);
        self.events.range(start..)
    }

    /// Compact away all history: the revision moves on by one and becomes the oldest
    /// readable, so every resourceVersion a client holds is now too old.
    pub fn compact(&mut self) {
        self.dropped_through = self.rv;
        self.rv += 1;
        self.compacted = self.rv;
        self.events.clear();
        self.objects.retain(|_, revisions| {
            let last = revisions.pop();
            revisions.clear();
            match last {
                Some(Revision {
                    object: Some(object),
                    rv,
                }) => {
                    revisions.push(Revision {
                        rv,
                        object: Some(object),
                    });
                    true
                }
                _ => false,
            }
        });
    }

    /// Keys of every live object stored in `namespace` (any namespaced resource).
    pub fn keys_in_namespace(&self, namespace: &str) -> Vec<Key> {
        self.objects
            .iter()
            .filter(|(key, revisions)| {
                key.1 == namespace && revisions.last().is_some_and(|r| r.object.is_some())
            })
            .map(|(key, _)| key.clone())
            .collect()
    }
}
