//! Pre-trade risk: max order volume, max position per instrument, a price band around the
//! last tick, the exchange's daily limits, closable position and margin against available
//! funds. Pure functions of the book's values, so every limit is unit-tested without a
//! database; the caller reserves what a passing order freezes under the same lock.
//!
//! Known gaps: no order-rate or self-trade checks; margin ignores the exchange's
//! large-side-margin rule (the mock does not model it either).

use contract::model::{Offset, Side};

use crate::book::{Account, Instrument, Limit, Position};

/// Why an order breaches a limit; `limit()` is the name the gRPC status carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Breach {
    MaxOrderVolume { volume: i32, max: i32 },
    MaxPosition { after: i32, max: i32 },
    PriceBand { price: f64, low: f64, high: f64 },
    DailyPriceLimit { price: f64, low: f64, high: f64 },
    ClosePosition { volume: i32, closable: i32 },
    Margin { required: f64, available: f64 },
}

impl Breach {
    /// The limit's name, as ENGINE_CONTRACT.md lists it.
    pub fn limit(&self) -> &'static str {
        match self {
            Self::MaxOrderVolume { .. } => "max_order_volume",
            Self::MaxPosition { .. } => "max_position",
            Self::PriceBand { .. } => "price_band",
            Self::DailyPriceLimit { .. } => "daily_price_limit",
            Self::ClosePosition { .. } => "close_position",
            Self::Margin { .. } => "margin",
        }
    }
}

impl std::fmt::Display for Breach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = self.limit();
        match self {
            Self::MaxOrderVolume { volume, max } => {
                write!(f, "risk limit {name}: volume {volume} above {max}")
            }
            Self::MaxPosition { after, max } => {
                write!(
                    f,
                    "risk limit {name}: position would reach {after}, above {max}"
                )
            }
            Self::PriceBand { price, low, high } | Self::DailyPriceLimit { price, low, high } => {
                write!(
                    f,
                    "risk limit {name}: price {price} outside [{low}, {high}]"
                )
            }
            Self::ClosePosition { volume, closable } => {
                write!(
                    f,
                    "risk limit {name}: close volume {volume} above closable {closable}"
                )
            }
            Self::Margin {
                required,
                available,
            } => write!(
                f,
                "risk limit {name}: margin {required:.2} above available {available:.2}"
            ),
        }
    }
}

/// One order as risk sees it.
#[derive(Debug, Clone, Copy)]
pub struct OrderAsk {
    pub side: Side,
    pub offset: Offset,
    pub price: f64,
    pub volume: i32,
}

/// Checks `ask` against the limits; `position` is the one the order opens or closes. On
/// success returns the margin the order freezes (0 for a close).
pub fn check(
    ask: &OrderAsk,
    instrument: &Instrument,
    limit: &Limit,
    account: &Account,
    position: &Position,
    last_price: Option<f64>,
) -> Result<f64, Breach> {
    let max_volume = limit.max_order_volume.min(instrument.max_order_volume);
    if ask.volume > max_volume {
        return Err(Breach::MaxOrderVolume {
            volume: ask.volume,
            max: max_volume,
        });
    }
    let (low, high) = (instrument.lower_limit_price, instrument.upper_limit_price);
    if ask.price < low || ask.price > high {
        return Err(Breach::DailyPriceLimit {
            price: ask.price,
            low,
            high,
        });
    }
    let reference = last_price.unwrap_or(instrument.pre_settlement_price);
    let (low, high) = (
        reference * (1.0 - limit.price_band_ratio),
        reference * (1.0 + limit.price_band_ratio),
    );
    if ask.price < low - 1e-9 || ask.price > high + 1e-9 {
        return Err(Breach::PriceBand {
            price: ask.price,
            low,
            high,
        });
    }
    if ask.offset != Offset::Open {
        let held = match ask.offset {
            Offset::CloseToday => position.today,
            Offset::CloseYesterday => position.yd,
            _ if instrument.splits_today() => position.yd,
            _ => position.total(),
        };
        let closable = held - position.close_pending;
        if ask.volume > closable {
            return Err(Breach::ClosePosition {
                volume: ask.volume,
                closable: closable.max(0),
            });
        }
        return Ok(0.0);
    }
    let after = position.total() + position.open_pending + ask.volume;
    if after > limit.max_position {
        return Err(Breach::MaxPosition {
            after,
            max: limit.max_position,
        });
    }
    let required = instrument.margin(ask.price, ask.volume);
    if required > account.available() {
        return Err(Breach::Margin {
            required,
            available: account.available(),
        });
    }
    Ok(required)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rb() -> Instrument {
        Instrument {
            instrument_id: "rb2410".into(),
            exchange_id: "SHFE".into(),
            price_tick: 1.0,
            volume_multiple: 10,
            pre_settlement_price: 3600.0,
            upper_limit_price: 3708.0,
            lower_limit_price: 3492.0,
            margin_ratio: 0.16,
            max_order_volume: 500,
        }
    }

    fn limit() -> Limit {
        Limit {
            max_order_volume: 100,
            max_position: 50,
            price_band_ratio: 0.02,
        }
    }

    fn account(balance: f64) -> Account {
        Account {
            account_id: "000001".into(),
            broker_id: "9999".into(),
            balance,
            curr_margin: 0.0,
            frozen_margin: 0.0,
        }
    }

    fn ask(offset: Offset, price: f64, volume: i32) -> OrderAsk {
        OrderAsk {
            side: Side::Buy,
            offset,
            price,
            volume,
        }
    }

    fn run(a: OrderAsk, pos: &Position, balance: f64, last: Option<f64>) -> Result<f64, Breach> {
        check(&a, &rb(), &limit(), &account(balance), pos, last)
    }

    #[test]
    fn a_small_open_passes_and_freezes_its_margin() {
        let m = run(
            ask(Offset::Open, 3600.0, 2),
            &Position::default(),
            1e6,
            Some(3600.0),
        );
        assert_eq!(m, Ok(3600.0 * 10.0 * 2.0 * 0.16));
    }

    #[test]
    fn each_limit_is_named() {
        let empty = Position::default();
        let cases = [
            (
                run(ask(Offset::Open, 3600.0, 101), &empty, 1e9, None),
                "max_order_volume",
            ),
            (
                run(ask(Offset::Open, 3700.0, 1), &empty, 1e9, None),
                "price_band",
            ),
            (
                run(ask(Offset::Open, 3800.0, 1), &empty, 1e9, Some(3790.0)),
                "daily_price_limit",
            ),
            (
                run(ask(Offset::Open, 3600.0, 10), &empty, 1000.0, None),
                "margin",
            ),
            (
                run(ask(Offset::CloseToday, 3600.0, 1), &empty, 1e9, None),
                "close_position",
            ),
        ];
        for (r, name) in cases {
            assert_eq!(r.unwrap_err().limit(), name);
        }
    }

    #[test]
    fn max_position_counts_held_and_working_volume() {
        let pos = Position {
            today: 20,
            yd: 20,
            open_pending: 5,
            ..Default::default()
        };
        assert!(run(ask(Offset::Open, 3600.0, 5), &pos, 1e9, None).is_ok());
        let err = run(ask(Offset::Open, 3600.0, 6), &pos, 1e9, None).unwrap_err();
        assert_eq!(err, Breach::MaxPosition { after: 51, max: 50 });
        assert!(err.to_string().contains("max_position"));
    }

    #[test]
    fn shfe_close_uses_yesterday_and_counts_working_closes() {
        let pos = Position {
            today: 10,
            yd: 3,
            close_pending: 1,
            ..Default::default()
        };
        assert!(run(ask(Offset::Close, 3600.0, 2), &pos, 0.0, None).is_ok());
        assert_eq!(
            run(ask(Offset::Close, 3600.0, 3), &pos, 0.0, None),
            Err(Breach::ClosePosition {
                volume: 3,
                closable: 2
            })
        );
        assert_eq!(
            run(ask(Offset::CloseToday, 3600.0, 9), &pos, 0.0, None),
            Ok(0.0)
        );
    }

    #[test]
    fn band_follows_the_last_tick() {
        let empty = Position::default();
        assert!(run(ask(Offset::Open, 3560.0, 1), &empty, 1e9, Some(3550.0)).is_ok());
        assert!(run(ask(Offset::Open, 3560.0, 1), &empty, 1e9, Some(3650.0)).is_err());
    }
}
