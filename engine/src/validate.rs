//! Field validation of order requests, before anything is looked up: each failure names the
//! request field it is about.

use contract::model::{Offset, Side};
use contract::trading::v1 as pb;

use crate::refusal::Refusal;

/// A request whose fields are well-formed.
#[derive(Debug, Clone)]
pub struct ValidOrder {
    pub client_order_id: String,
    pub account_id: String,
    pub instrument_id: String,
    pub side: Side,
    pub offset: Offset,
    pub limit_price: f64,
    pub volume: i32,
}

fn id_field(field: &'static str, v: &str, max: usize) -> Result<String, Refusal> {
    if v.is_empty() {
        return Err(Refusal::invalid(field, "must not be empty"));
    }
    if v.len() > max {
        return Err(Refusal::invalid(field, format!("longer than {max} bytes")));
    }
    if !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Refusal::invalid(
            field,
            "must be printable ASCII without spaces",
        ));
    }
    Ok(v.to_owned())
}

pub fn order(r: &pb::SubmitOrderRequest) -> Result<ValidOrder, Refusal> {
    let client_order_id = id_field("client_order_id", &r.client_order_id, 64)?;
    let account_id = id_field("account_id", &r.account_id, 32)?;
    let instrument_id = id_field("instrument_id", &r.instrument_id, 32)?;
    let side =
        Side::from_proto(r.side).ok_or_else(|| Refusal::invalid("side", "must be BUY or SELL"))?;
    let offset = Offset::from_proto(r.offset).ok_or_else(|| {
        Refusal::invalid(
            "offset",
            "must be OPEN, CLOSE, CLOSE_TODAY or CLOSE_YESTERDAY",
        )
    })?;
    if !r.limit_price.is_finite() || r.limit_price <= 0.0 {
        return Err(Refusal::invalid(
            "limit_price",
            "must be a positive finite number",
        ));
    }
    if r.volume <= 0 {
        return Err(Refusal::invalid("volume", "must be positive"));
    }
    Ok(ValidOrder {
        client_order_id,
        account_id,
        instrument_id,
        side,
        offset,
        limit_price: r.limit_price,
        volume: r.volume,
    })
}

/// Whether `price` lies on the instrument's tick grid.
pub fn on_tick(price: f64, tick: f64) -> bool {
    let steps = price / tick;
    (steps - steps.round()).abs() < 1e-6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> pb::SubmitOrderRequest {
        pb::SubmitOrderRequest {
            client_order_id: "c-1".into(),
            account_id: "000003".into(),
            instrument_id: "rb2410".into(),
            side: pb::Side::Buy as i32,
            offset: pb::Offset::Open as i32,
            limit_price: 3600.0,
            volume: 1,
        }
    }

    #[test]
    fn a_good_request_passes() {
        assert!(order(&good()).is_ok());
    }

    #[test]
    fn each_bad_field_is_named() {
        type Breaker = Box<dyn Fn(&mut pb::SubmitOrderRequest)>;
        let cases: Vec<(&str, Breaker)> = vec![
            ("client_order_id", Box::new(|r| r.client_order_id.clear())),
            (
                "client_order_id",
                Box::new(|r| r.client_order_id = "a b".into()),
            ),
            ("account_id", Box::new(|r| r.account_id.clear())),
            (
                "instrument_id",
                Box::new(|r| r.instrument_id = "x".repeat(40)),
            ),
            ("side", Box::new(|r| r.side = 0)),
            ("offset", Box::new(|r| r.offset = 17)),
            ("limit_price", Box::new(|r| r.limit_price = f64::NAN)),
            ("limit_price", Box::new(|r| r.limit_price = -1.0)),
            ("volume", Box::new(|r| r.volume = 0)),
        ];
        for (field, break_it) in cases {
            let mut r = good();
            break_it(&mut r);
            match order(&r) {
                Err(Refusal::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn tick_grid() {
        assert!(on_tick(550.02, 0.02));
        assert!(!on_tick(550.01, 0.02));
        assert!(on_tick(3500.2, 0.2));
    }
}
