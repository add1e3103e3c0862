//! Reads the engine's tables from PostgreSQL directly (not through the fault proxy) into
//! [`DbState`], mapping the schema's text columns to the contract's enumerations; a value the
//! schema does not allow is an error naming the table and field, never a silent default.

use contract::model::{Offset, OrderStatus, Side};
use tokio_postgres::{Client, NoTls, Row};

use super::error::ObserveError;
use crate::check::{
    AccountRow, DbState, InstrumentRow, OrderRow, PosiDirection, PositionRow, TradeRow,
};
use crate::platform::PostgresEndpoint;

/// A direct connection to the platform's PostgreSQL.
pub struct Db {
    client: Client,
    addr: String,
}

impl Db {
    pub async fn connect(pg: &PostgresEndpoint) -> Result<Self, ObserveError> {
        let addr = pg.endpoint.direct.to_string();
        let (client, conn) = tokio_postgres::connect(&pg.connection_string(false), NoTls)
            .await
            .map_err(|source| ObserveError::Postgres {
                what: "a connection",
                addr: addr.clone(),
                source,
            })?;
        tokio::spawn(conn);
        Ok(Self { client, addr })
    }

    async fn query(&self, what: &'static str, sql: &str) -> Result<Vec<Row>, ObserveError> {
        self.client
            .query(sql, &[])
            .await
            .map_err(|source| ObserveError::Postgres {
                what,
                addr: self.addr.clone(),
                source,
            })
    }

    /// Rows not yet relayed from the outbox, and orders still waiting for the exchange's
    /// first answer: both zero once the engine has caught up.
    pub async fn backlog(&self) -> Result<(i64, i64), ObserveError> {
        let rows = self
            .query(
                "the backlog",
                "SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL), \
                 (SELECT count(*) FROM orders WHERE status = 'new')",
            )
            .await?;
        Ok((rows[0].get(0), rows[0].get(1)))
    }

    /// The private-flow position the engine persisted, per investor (CTP user).
    pub async fn flows(&self) -> Result<Vec<(String, i64)>, ObserveError> {
        let rows = self
            .query(
                "ctp_private_flow",
                "SELECT user_id, last_seq FROM ctp_private_flow",
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Accounts, positions and instruments: the state a run starts from.
    pub async fn money(&self) -> Result<DbState, ObserveError> {
        Ok(DbState {
            positions: self.positions().await?,
            accounts: self.accounts().await?,
            instruments: self.instruments().await?,
            ..DbState::default()
        })
    }

    /// Every table the checks judge.
    pub async fn state(&self) -> Result<DbState, ObserveError> {
        let mut s = self.money().await?;
        s.orders = self.orders().await?;
        s.trades = self.trades().await?;
        Ok(s)
    }

    async fn orders(&self) -> Result<Vec<OrderRow>, ObserveError> {
        let rows = self
            .query(
                "orders",
                "SELECT order_id, client_order_id, account_id, instrument_id, exchange_id, side, \
                 offset_flag, limit_price, volume, volume_traded, status, front_id, session_id, \
                 order_ref, order_sys_id, error_id, frozen_margin, order_event_seq, \
                 trade_event_seq, engine_id FROM orders ORDER BY order_id",
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(OrderRow {
                    order_id: r.get(0),
                    client_order_id: r.get(1),
                    account_id: r.get(2),
                    instrument_id: r.get(3),
                    exchange_id: r.get(4),
                    side: side(r, 5, "orders")?,
                    offset_flag: offset(r, 6, "orders")?,
                    limit_price: r.get(7),
                    volume: r.get(8),
                    volume_traded: r.get(9),
                    status: parse(r, 10, "orders", "status", OrderStatus::parse)?,
                    front_id: r.get(11),
                    session_id: r.get(12),
                    order_ref: r.get(13),
                    order_sys_id: r.get(14),
                    error_id: r.get(15),
                    frozen_margin: r.get(16),
                    order_event_seq: r.get(17),
                    trade_event_seq: r.get(18),
                    engine_id: r.get(19),
                })
            })
            .collect()
    }

    async fn trades(&self) -> Result<Vec<TradeRow>, ObserveError> {
        let rows = self
            .query(
                "trades",
                "SELECT exchange_id, trade_id, side, order_id, account_id, instrument_id, \
                 offset_flag, price, volume, seq_no FROM trades ORDER BY seq_no, trade_id",
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TradeRow {
                    exchange_id: r.get(0),
                    trade_id: r.get(1),
                    side: side(r, 2, "trades")?,
                    order_id: r.get(3),
                    account_id: r.get(4),
                    instrument_id: r.get(5),
                    offset_flag: offset(r, 6, "trades")?,
                    price: r.get(7),
                    volume: r.get(8),
                    seq_no: r.get(9),
                })
            })
            .collect()
    }

    async fn positions(&self) -> Result<Vec<PositionRow>, ObserveError> {
        let rows = self
            .query(
                "positions",
                "SELECT account_id, instrument_id, posi_direction, today_position, yd_position, \
                 margin FROM positions ORDER BY account_id, instrument_id, posi_direction",
            )
            .await?;
        rows.iter()
            .map(|r| {
                let dir: String = r.get(2);
                let posi_direction = match dir.as_str() {
                    "long" => PosiDirection::Long,
                    "short" => PosiDirection::Short,
                    _ => return Err(invalid("positions", "posi_direction", dir)),
                };
                Ok(PositionRow {
                    account_id: r.get(0),
                    instrument_id: r.get(1),
                    posi_direction,
                    today_position: r.get(3),
                    yd_position: r.get(4),
                    margin: r.get(5),
                })
            })
            .collect()
    }

    async fn accounts(&self) -> Result<Vec<AccountRow>, ObserveError> {
        let rows = self
            .query(
                "accounts",
                "SELECT account_id, balance, curr_margin, frozen_margin FROM accounts \
                 ORDER BY account_id",
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| AccountRow {
                account_id: r.get(0),
                balance: r.get(1),
                curr_margin: r.get(2),
                frozen_margin: r.get(3),
            })
            .collect())
    }

    async fn instruments(&self) -> Result<Vec<InstrumentRow>, ObserveError> {
        let rows = self
            .query(
                "instruments",
                "SELECT instrument_id, volume_multiple, margin_ratio FROM instruments \
                 ORDER BY instrument_id",
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| InstrumentRow {
                instrument_id: r.get(0),
                volume_multiple: r.get(1),
                margin_ratio: r.get(2),
            })
            .collect())
    }
}

fn invalid(table: &'static str, field: &'static str, value: String) -> ObserveError {
    ObserveError::Row {
        table,
        field,
        value,
    }
}

fn parse<T, E>(
    r: &Row,
    i: usize,
    table: &'static str,
    field: &'static str,
    f: impl Fn(&str) -> Result<T, E>,
) -> Result<T, ObserveError> {
    let text: String = r.get(i);
    f(&text).map_err(|_| invalid(table, field, text))
}

fn side(r: &Row, i: usize, table: &'static str) -> Result<Side, ObserveError> {
    parse(r, i, table, "side", Side::parse)
}

fn offset(r: &Row, i: usize, table: &'static str) -> Result<Offset, ObserveError> {
    parse(r, i, table, "offset_flag", Offset::parse)
}
