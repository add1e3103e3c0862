//! Indexes over the observations shared by the checks: engine orders by id, client id and CTP
//! identity, and each exchange order linked to the engine order it belongs to (by OrderSysID,
//! else by FrontID/SessionID/OrderRef, which the engine persists before writing a request).

use std::collections::HashMap;

use super::observations::Observations;

pub(crate) struct Index<'a> {
    pub by_order_id: HashMap<i64, usize>,
    /// Engine orders per client_order_id (more than one is a duplicate).
    pub by_client: HashMap<&'a str, Vec<usize>>,
    /// For each exchange order, the engine order it belongs to.
    pub exchange_link: Vec<Option<usize>>,
    /// For each engine order, the exchange orders linked to it.
    pub exchange_orders_of: Vec<Vec<usize>>,
    /// Engine trades per engine order index.
    pub trades_of: Vec<Vec<usize>>,
    /// Kafka order and trade events per order id, in received order.
    pub order_events_of: HashMap<i64, Vec<usize>>,
    pub trade_events_of: HashMap<i64, Vec<usize>>,
}

impl<'a> Index<'a> {
    pub fn build(obs: &'a Observations) -> Self {
        let orders = &obs.db.orders;
        let mut by_order_id = HashMap::with_capacity(orders.len());
        let mut by_client: HashMap<&str, Vec<usize>> = HashMap::with_capacity(orders.len());
        let mut by_ref: HashMap<(i32, i32, &str), usize> = HashMap::with_capacity(orders.len());
        let mut by_sys: HashMap<&str, usize> = HashMap::with_capacity(orders.len());
        for (i, o) in orders.iter().enumerate() {
            by_order_id.insert(o.order_id, i);
            by_client
                .entry(o.client_order_id.as_str())
                .or_default()
                .push(i);
            by_ref.insert((o.front_id, o.session_id, o.order_ref.trim()), i);
            let sys = o.order_sys_id.trim();
            if !sys.is_empty() {
                by_sys.insert(sys, i);
            }
        }
        let mut exchange_orders_of = vec![Vec::new(); orders.len()];
        let exchange_link = obs
            .exchange
            .orders
            .iter()
            .enumerate()
            .map(|(x, e)| {
                let sys = e.order_sys_id.trim();
                let link = (!sys.is_empty())
                    .then(|| by_sys.get(sys).copied())
                    .flatten()
                    .or_else(|| {
                        by_ref
                            .get(&(e.front_id, e.session_id, e.order_ref.trim()))
                            .copied()
                    });
                if let Some(i) = link {
                    exchange_orders_of[i].push(x);
                }
                link
            })
            .collect();
        let mut trades_of = vec![Vec::new(); orders.len()];
        for (t, tr) in obs.db.trades.iter().enumerate() {
            if let Some(&i) = by_order_id.get(&tr.order_id) {
                trades_of[i].push(t);
            }
        }
        let mut order_events_of: HashMap<i64, Vec<usize>> = HashMap::with_capacity(orders.len());
        for (k, e) in obs.kafka.order_events.iter().enumerate() {
            order_events_of.entry(e.order_id).or_default().push(k);
        }
        let mut trade_events_of: HashMap<i64, Vec<usize>> = HashMap::with_capacity(orders.len());
        for (k, e) in obs.kafka.trade_events.iter().enumerate() {
            trade_events_of.entry(e.order_id).or_default().push(k);
        }
        Self {
            by_order_id,
            by_client,
            exchange_link,
            exchange_orders_of,
            trades_of,
            order_events_of,
            trade_events_of,
        }
    }
}
