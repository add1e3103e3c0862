//! The enumerations shared by the schema (as text), the events (as JSON strings) and the gRPC
//! types (as proto enums), with the conversions between them, so that every side spells a
//! side, an offset and a status the same way.

use serde::{Deserialize, Serialize};

use crate::error::ContractError;
use crate::trading::v1 as pb;

macro_rules! text_enum {
    ($name:ident, $kind:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// The text the schema and the events use.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Parses the schema's text.
            pub fn parse(s: &str) -> Result<Self, ContractError> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(ContractError::UnknownValue { kind: $kind, value: s.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(Side, "side", { Buy => "buy", Sell => "sell" });
text_enum!(Offset, "offset", {
    Open => "open",
    Close => "close",
    CloseToday => "close_today",
    CloseYesterday => "close_yesterday",
});
text_enum!(OrderStatus, "order status", {
    New => "new",
    Accepted => "accepted",
    PartiallyFilled => "partially_filled",
    Filled => "filled",
    Canceled => "canceled",
    Rejected => "rejected",
});

impl OrderStatus {
    /// Whether no further change can happen.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Filled | Self::Canceled | Self::Rejected)
    }
}

impl Side {
    pub fn from_proto(v: i32) -> Option<Self> {
        match pb::Side::try_from(v).ok()? {
            pb::Side::Buy => Some(Self::Buy),
            pb::Side::Sell => Some(Self::Sell),
            pb::Side::Unspecified => None,
        }
    }
    pub fn to_proto(self) -> pb::Side {
        match self {
            Self::Buy => pb::Side::Buy,
            Self::Sell => pb::Side::Sell,
        }
    }
}

impl Offset {
    pub fn from_proto(v: i32) -> Option<Self> {
        match pb::Offset::try_from(v).ok()? {
            pb::Offset::Open => Some(Self::Open),
            pb::Offset::Close => Some(Self::Close),
            pb::Offset::CloseToday => Some(Self::CloseToday),
            pb::Offset::CloseYesterday => Some(Self::CloseYesterday),
            pb::Offset::Unspecified => None,
        }
    }
    pub fn to_proto(self) -> pb::Offset {
        match self {
            Self::Open => pb::Offset::Open,
            Self::Close => pb::Offset::Close,
            Self::CloseToday => pb::Offset::CloseToday,
            Self::CloseYesterday => pb::Offset::CloseYesterday,
        }
    }
}

impl OrderStatus {
    pub fn from_proto(v: i32) -> Option<Self> {
        match pb::OrderStatus::try_from(v).ok()? {
            pb::OrderStatus::New => Some(Self::New),
            pb::OrderStatus::Accepted => Some(Self::Accepted),
            pb::OrderStatus::PartiallyFilled => Some(Self::PartiallyFilled),
            pb::OrderStatus::Filled => Some(Self::Filled),
            pb::OrderStatus::Canceled => Some(Self::Canceled),
            pb::OrderStatus::Rejected => Some(Self::Rejected),
            pb::OrderStatus::Unspecified => None,
        }
    }
    pub fn to_proto(self) -> pb::OrderStatus {
        match self {
            Self::New => pb::OrderStatus::New,
            Self::Accepted => pb::OrderStatus::Accepted,
            Self::PartiallyFilled => pb::OrderStatus::PartiallyFilled,
            Self::Filled => pb::OrderStatus::Filled,
            Self::Canceled => pb::OrderStatus::Canceled,
            Self::Rejected => pb::OrderStatus::Rejected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_unknown_text_is_an_error() {
        for s in [
            OrderStatus::New,
            OrderStatus::PartiallyFilled,
            OrderStatus::Rejected,
        ] {
            assert_eq!(OrderStatus::parse(s.as_str()).unwrap(), s);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        assert!(Offset::parse("close_today").is_ok());
        assert!(Side::parse("BUY").is_err());
    }

    #[test]
    fn unspecified_proto_values_are_none() {
        assert_eq!(Side::from_proto(0), None);
        assert_eq!(Side::from_proto(2), Some(Side::Sell));
        assert_eq!(Offset::from_proto(99), None);
    }
}
