//! Why the engine refuses a request, and the gRPC status each reason maps to (the contract's
//! "Bad input" rules): InvalidArgument names the field, NotFound the unknown account,
//! instrument or order, FailedPrecondition the risk limit or the state, Unavailable an
//! engine that cannot take orders now.

use tonic::{Code, Status};

use crate::risk::Breach;

#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    Invalid { field: &'static str, reason: String },
    NotFound { what: &'static str, id: String },
    Risk(Breach),
    State(String),
    Unavailable(String),
    Internal(String),
}

impl Refusal {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid { field, reason } => write!(f, "invalid {field}: {reason}"),
            Self::NotFound { what, id } => write!(f, "{what} {id:?} not found"),
            Self::Risk(b) => b.fmt(f),
            Self::State(s) | Self::Unavailable(s) | Self::Internal(s) => f.write_str(s),
        }
    }
}

impl From<Refusal> for Status {
    fn from(r: Refusal) -> Status {
        let code = match &r {
            Refusal::Invalid { .. } => Code::InvalidArgument,
            Refusal::NotFound { .. } => Code::NotFound,
            Refusal::Risk(_) | Refusal::State(_) => Code::FailedPrecondition,
            Refusal::Unavailable(_) => Code::Unavailable,
            Refusal::Internal(_) => Code::Internal,
        };
        let mut status = Status::new(code, r.to_string());
        let detail = match &r {
            Refusal::Invalid { field, .. } => Some(("x-field", *field)),
            Refusal::Risk(b) => Some(("x-risk-limit", b.limit())),
            _ => None,
        };
        if let Some((k, v)) = detail {
            if let Ok(v) = v.parse() {
                status.metadata_mut().insert(k, v);
            }
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_names_the_field() {
        let s = Status::from(Refusal::invalid("volume", "must be positive"));
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(s.message().contains("volume"));
        assert_eq!(s.metadata().get("x-field").unwrap(), "volume");
    }

    #[test]
    fn risk_breach_is_failed_precondition_naming_the_limit() {
        let s = Status::from(Refusal::Risk(Breach::MaxOrderVolume { volume: 9, max: 5 }));
        assert_eq!(s.code(), Code::FailedPrecondition);
        assert!(s.message().contains("max_order_volume"), "{}", s.message());
        assert_eq!(
            s.metadata().get("x-risk-limit").unwrap(),
            "max_order_volume"
        );
    }

    #[test]
    fn unknown_things_are_not_found_and_standby_is_unavailable() {
        let s = Status::from(Refusal::NotFound {
            what: "instrument",
            id: "zz9999".into(),
        });
        assert_eq!(s.code(), Code::NotFound);
        assert!(s.message().contains("zz9999"));
        let s = Status::from(Refusal::Unavailable("standby".into()));
        assert_eq!(s.code(), Code::Unavailable);
    }
}
