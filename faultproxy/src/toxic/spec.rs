//! What a toxic is, as the API sees it: its name, type, stream, toxicity and attributes, and
//! how they are read from and written to Toxiproxy's JSON. Attributes are integers, as in
//! Toxiproxy (clients such as `toxiproxy_rust` decode them as `u32`); a missing attribute is
//! zero on create and unchanged on update, as Go's decoding into the existing struct does.

use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::error::Error;

/// The direction of a toxic: `upstream` is client to server, `downstream` server to client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Upstream,
    Downstream,
}

impl Stream {
    pub fn parse(text: &str) -> Result<Stream, Error> {
        match text {
            "upstream" => Ok(Stream::Upstream),
            "downstream" => Ok(Stream::Downstream),
            other => Err(Error::InvalidStream(other.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Upstream => "upstream",
            Stream::Downstream => "downstream",
        }
    }
}

/// A toxic type with its attributes, in Toxiproxy's units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToxicKind {
    Latency {
        latency_ms: u64,
        jitter_ms: u64,
    },
    Bandwidth {
        rate_kb_s: u64,
    },
    SlowClose {
        delay_ms: u64,
    },
    Timeout {
        timeout_ms: u64,
    },
    ResetPeer {
        timeout_ms: u64,
    },
    Slicer {
        average_size: u64,
        size_variation: u64,
        delay_us: u64,
    },
    LimitData {
        bytes: u64,
    },
}

/// One toxic on a proxy.
#[derive(Clone, Debug, PartialEq)]
pub struct Toxic {
    pub name: String,
    pub kind: ToxicKind,
    pub stream: Stream,
    pub toxicity: f32,
}

impl ToxicKind {
    /// Toxiproxy's name of the type.
    pub fn type_name(&self) -> &'static str {
        match self {
            ToxicKind::Latency { .. } => "latency",
            ToxicKind::Bandwidth { .. } => "bandwidth",
            ToxicKind::SlowClose { .. } => "slow_close",
            ToxicKind::Timeout { .. } => "timeout",
            ToxicKind::ResetPeer { .. } => "reset_peer",
            ToxicKind::Slicer { .. } => "slicer",
            ToxicKind::LimitData { .. } => "limit_data",
        }
    }

    /// A toxic of the named type with every attribute zero, as Toxiproxy creates one.
    pub fn zeroed(type_name: &str) -> Result<ToxicKind, Error> {
        Ok(match type_name {
            "latency" => ToxicKind::Latency {
                latency_ms: 0,
                jitter_ms: 0,
            },
            "bandwidth" => ToxicKind::Bandwidth { rate_kb_s: 0 },
            "slow_close" => ToxicKind::SlowClose { delay_ms: 0 },
            "timeout" => ToxicKind::Timeout { timeout_ms: 0 },
            "reset_peer" => ToxicKind::ResetPeer { timeout_ms: 0 },
            "slicer" => ToxicKind::Slicer {
                average_size: 0,
                size_variation: 0,
                delay_us: 0,
            },
            "limit_data" => ToxicKind::LimitData { bytes: 0 },
            other => return Err(Error::UnknownToxicType(other.to_owned())),
        })
    }

    /// Overwrites the attributes present in `attributes`, keeping the others, then checks
    /// the result.
    pub fn apply(&mut self, attributes: &Map<String, Value>) -> Result<(), Error> {
        let set = |field: &'static str, slot: &mut u64| -> Result<(), Error> {
            if let Some(value) = attributes.get(field) {
                *slot = value.as_u64().ok_or(Error::InvalidAttribute {
                    field,
                    reason: "must be a non-negative integer",
                })?;
            }
            Ok(())
        };
        match self {
            ToxicKind::Latency {
                latency_ms,
                jitter_ms,
            } => {
                set("latency", latency_ms)?;
                set("jitter", jitter_ms)?;
            }
            ToxicKind::Bandwidth { rate_kb_s } => set("rate", rate_kb_s)?,
            ToxicKind::SlowClose { delay_ms } => set("delay", delay_ms)?,
            ToxicKind::Timeout { timeout_ms } | ToxicKind::ResetPeer { timeout_ms } => {
                set("timeout", timeout_ms)?
            }
            ToxicKind::Slicer {
                average_size,
                size_variation,
                delay_us,
            } => {
                set("average_size", average_size)?;
                set("size_variation", size_variation)?;
                set("delay", delay_us)?;
            }
            ToxicKind::LimitData { bytes } => set("bytes", bytes)?,
        }
        self.validate()
    }

    fn validate(&self) -> Result<(), Error> {
        if let ToxicKind::Slicer {
            average_size,
            size_variation,
            ..
        } = *self
        {
            // Toxiproxy recurses forever on these; refuse them instead.
            if average_size == 0 {
                return Err(Error::InvalidAttribute {
                    field: "average_size",
                    reason: "must be at least 1",
                });
            }
            if size_variation >= average_size {
                return Err(Error::InvalidAttribute {
                    field: "size_variation",
                    reason: "must be less than average_size",
                });
            }
        }
        Ok(())
    }

    /// The attributes under Toxiproxy's names.
    pub fn attributes(&self) -> BTreeMap<&'static str, u64> {
        let pairs: Vec<(&'static str, u64)> = match *self {
            ToxicKind::Latency {
                latency_ms,
                jitter_ms,
            } => {
                vec![("latency", latency_ms), ("jitter", jitter_ms)]
            }
            ToxicKind::Bandwidth { rate_kb_s } => vec![("rate", rate_kb_s)],
            ToxicKind::SlowClose { delay_ms } => vec![("delay", delay_ms)],
            ToxicKind::Timeout { timeout_ms } | ToxicKind::ResetPeer { timeout_ms } => {
                vec![("timeout", timeout_ms)]
            }
            ToxicKind::Slicer {
                average_size,
                size_variation,
                delay_us,
            } => vec![
                ("average_size", average_size),
                ("size_variation", size_variation),
                ("delay", delay_us),
            ],
            ToxicKind::LimitData { bytes } => vec![("bytes", bytes)],
        };
        pairs.into_iter().collect()
    }
}

/// The JSON form of a toxic, exactly as Toxiproxy writes it.
#[derive(Debug, Serialize)]
pub struct ToxicView {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub stream: Stream,
    pub toxicity: f32,
    pub attributes: BTreeMap<&'static str, u64>,
}

impl Toxic {
    /// Reads a toxic from a create request. `direction` is accepted as a synonym of `stream`
    /// because `noxious-client` sends that name.
    pub fn from_request(body: &Map<String, Value>) -> Result<Toxic, Error> {
        let type_name = body
            .get("type")
            .and_then(Value::as_str)
            .ok_or(Error::MissingField("type"))?;
        let mut kind = ToxicKind::zeroed(type_name)?;
        kind.apply(&attributes_of(body)?)?;
        let stream = match body.get("stream").or_else(|| body.get("direction")) {
            None | Some(Value::Null) => Stream::Downstream,
            Some(Value::String(text)) if text.is_empty() => Stream::Downstream,
            Some(Value::String(text)) => Stream::parse(text)?,
            Some(other) => return Err(Error::InvalidStream(other.to_string())),
        };
        let name = match body.get("name").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => name.to_owned(),
            _ => format!("{}_{}", type_name, stream.as_str()),
        };
        let toxicity = toxicity_of(body)?.unwrap_or(1.0);
        Ok(Toxic {
            name,
            kind,
            stream,
            toxicity,
        })
    }

    /// Applies a partial update: toxicity and attributes change, name, type and stream stay.
    pub fn update(&mut self, body: &Map<String, Value>) -> Result<(), Error> {
        let mut kind = self.kind.clone();
        kind.apply(&attributes_of(body)?)?;
        if let Some(toxicity) = toxicity_of(body)? {
            self.toxicity = toxicity;
        }
        self.kind = kind;
        Ok(())
    }

    pub fn view(&self) -> ToxicView {
        ToxicView {
            name: self.name.clone(),
            kind: self.kind.type_name(),
            stream: self.stream,
            toxicity: self.toxicity,
            attributes: self.kind.attributes(),
        }
    }
}

fn attributes_of(body: &Map<String, Value>) -> Result<Map<String, Value>, Error> {
    match body.get("attributes") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(_) => Err(Error::InvalidAttribute {
            field: "attributes",
            reason: "must be an object",
        }),
    }
}

fn toxicity_of(body: &Map<String, Value>) -> Result<Option<f32>, Error> {
    match body.get("toxicity") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => match value.as_f64() {
            Some(t) if (0.0..=1.0).contains(&t) => Ok(Some(t as f32)),
            _ => Err(Error::InvalidToxicity),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn create_defaults_as_toxiproxy() {
        let toxic = Toxic::from_request(&object(json!({
            "type": "latency", "attributes": {"latency": 100}
        })))
        .unwrap();
        assert_eq!(toxic.name, "latency_downstream");
        assert_eq!(toxic.stream, Stream::Downstream);
        assert_eq!(toxic.toxicity, 1.0);
        assert_eq!(
            toxic.kind,
            ToxicKind::Latency {
                latency_ms: 100,
                jitter_ms: 0
            }
        );
    }

    #[test]
    fn direction_is_a_synonym_of_stream() {
        let toxic = Toxic::from_request(&object(json!({
            "type": "timeout", "direction": "upstream", "attributes": {"timeout": 5}
        })))
        .unwrap();
        assert_eq!(toxic.stream, Stream::Upstream);
        assert_eq!(toxic.name, "timeout_upstream");
    }

    #[test]
    fn invalid_requests_name_what_is_wrong() {
        let err = |body: Value| Toxic::from_request(&object(body)).unwrap_err().to_string();
        assert!(err(json!({"type": "nope"})).contains("nope"));
        assert!(err(json!({"type": "latency", "attributes": {"latency": -1}})).contains("latency"));
        assert!(err(json!({"type": "latency", "attributes": {"jitter": 1.5}})).contains("jitter"));
        assert!(err(json!({"type": "latency", "stream": "sideways"})).contains("sideways"));
        assert!(err(json!({"type": "latency", "toxicity": 1.5})).contains("toxicity"));
        assert!(
            err(json!({"type": "slicer", "attributes": {"average_size": 0}}))
                .contains("average_size")
        );
        assert!(err(json!({"attributes": {}})).contains("type"));
    }

    #[test]
    fn partial_update_keeps_other_attributes() {
        let mut toxic = Toxic::from_request(&object(json!({
            "type": "latency", "attributes": {"latency": 100, "jitter": 10}
        })))
        .unwrap();
        toxic
            .update(&object(json!({"attributes": {"jitter": 0}})))
            .unwrap();
        assert_eq!(
            toxic.kind,
            ToxicKind::Latency {
                latency_ms: 100,
                jitter_ms: 0
            }
        );
        toxic.update(&object(json!({"toxicity": 0.5}))).unwrap();
        assert_eq!(toxic.toxicity, 0.5);
        assert!(toxic
            .update(&object(json!({"attributes": {"latency": -5}})))
            .is_err());
        assert_eq!(
            toxic.kind,
            ToxicKind::Latency {
                latency_ms: 100,
                jitter_ms: 0
            }
        );
    }

    #[test]
    fn view_uses_toxiproxy_names() {
        let toxic = Toxic::from_request(&object(json!({
            "name": "s", "type": "slicer", "attributes": {"average_size": 10, "delay": 5}
        })))
        .unwrap();
        let json = serde_json::to_value(toxic.view()).unwrap();
        assert_eq!(
            json,
            json!({"name": "s", "type": "slicer", "stream": "downstream", "toxicity": 1.0,
                   "attributes": {"average_size": 10, "size_variation": 0, "delay": 5}})
        );
    }
}
