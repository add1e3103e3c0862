//! Order-state transitions: how a CTP order return (OrderStatus + OrderSubmitStatus) moves an
//! order, and which moves are legal. Final states never change; a return that would move an
//! order backwards (a late or replayed return) is refused and leaves the order as it is.

use contract::model::OrderStatus;
use mock_ctp::protocol::{OrderStatus as CtpStatus, OrderSubmitStatus};

/// A refused move, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

/// Whether `from → to` is a legal move (staying put is legal: CTP repeats states).
pub fn legal(from: OrderStatus, to: OrderStatus) -> bool {
    use OrderStatus::*;
    if from == to {
        return true;
    }
    match from {
        New => true,
        Accepted => matches!(to, PartiallyFilled | Filled | Canceled),
        PartiallyFilled => matches!(to, Filled | Canceled),
        Filled | Canceled | Rejected => false,
    }
}

/// The status a CTP order return means, given how much traded so far.
pub fn from_ctp(status: CtpStatus, submit: OrderSubmitStatus, volume_traded: i32) -> OrderStatus {
    match status {
        CtpStatus::Unknown => OrderStatus::New,
        CtpStatus::NoTradeQueueing => OrderStatus::Accepted,
        CtpStatus::PartTradedQueueing => OrderStatus::PartiallyFilled,
        CtpStatus::AllTraded => OrderStatus::Filled,
        CtpStatus::Canceled | CtpStatus::NoTradeNotQueueing | CtpStatus::PartTradedNotQueueing => {
            if submit == OrderSubmitStatus::InsertRejected && volume_traded == 0 {
                OrderStatus::Rejected
            } else {
                OrderStatus::Canceled
            }
        }
    }
}

/// The order's next status after a return, or the refused move.
pub fn on_order_return(
    current: OrderStatus,
    status: CtpStatus,
    submit: OrderSubmitStatus,
    volume_traded: i32,
) -> Result<OrderStatus, IllegalTransition> {
    let to = from_ctp(status, submit, volume_traded);
    if legal(current, to) {
        Ok(to)
    } else {
        Err(IllegalTransition { from: current, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    #[test]
    fn immediate_fill_sequence_is_legal() {
        let mut s = New;
        for (st, sub, traded, want) in [
            (
                CtpStatus::Unknown,
                OrderSubmitStatus::InsertSubmitted,
                0,
                New,
            ),
            (
                CtpStatus::NoTradeQueueing,
                OrderSubmitStatus::Accepted,
                0,
                Accepted,
            ),
            (CtpStatus::AllTraded, OrderSubmitStatus::Accepted, 2, Filled),
        ] {
            s = on_order_return(s, st, sub, traded).unwrap();
            assert_eq!(s, want);
        }
    }

    #[test]
    fn exchange_reject_is_rejected_and_cancel_after_fill_is_canceled() {
        let r = on_order_return(
            New,
            CtpStatus::Canceled,
            OrderSubmitStatus::InsertRejected,
            0,
        );
        assert_eq!(r, Ok(Rejected));
        let c = on_order_return(
            PartiallyFilled,
            CtpStatus::Canceled,
            OrderSubmitStatus::Accepted,
            1,
        );
        assert_eq!(c, Ok(Canceled));
    }

    #[test]
    fn final_states_never_move_and_late_returns_are_refused() {
        for from in [Filled, Canceled, Rejected] {
            for to in [New, Accepted, PartiallyFilled, Filled, Canceled, Rejected] {
                assert_eq!(legal(from, to), from == to, "{from} -> {to}");
            }
        }
        let late = on_order_return(
            PartiallyFilled,
            CtpStatus::NoTradeQueueing,
            OrderSubmitStatus::Accepted,
            0,
        );
        assert_eq!(
            late,
            Err(IllegalTransition {
                from: PartiallyFilled,
                to: Accepted
            })
        );
        assert!(!legal(Accepted, Rejected));
        assert!(!legal(Accepted, New));
    }
}
