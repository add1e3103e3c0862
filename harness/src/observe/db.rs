//! Reads the engine's tables from PostgreSQL directly (not through the fault proxy) into
//! [`DbState`], mapping the schema's text columns to the contract's enumerations; a value the
//! schema does not allow is an error naming the table and field, never a silent default.

use std::time::{Duration, Instant};

use contract::model::{Offset, OrderStatus, Side};
use tokio::sync::Mutex;
use tokio_postgres::{Client, IsolationLevel, NoTls, Row};

use super::error::ObserveError;
use crate::check::{
    AccountRow, DbState, InstrumentRow, OrderRow, PosiDirection, PositionRow, TradeRow,
};
use crate::platform::PostgresEndpoint;

/// How long a query tries again on a connection the server closed (PostgreSQL killed and
/// restarted by a fault): a restart takes a few seconds.
const RECONNECT_FOR: Duration = Duration::from_secs(30);

/// A direct connection to the platform's PostgreSQL, opened again when the server closed it
/// (a fault may restart PostgreSQL between the run's start and its final reads).
pub struct Db {
    client: Mutex<Client>,
    conninfo: String,
    addr: String,
}

async fn open(conninfo: &str, addr: &str) -> Result<Client, ObserveError> {
    let (client, conn) = tokio_postgres::connect(conninfo, NoTls)
        .await
        .map_err(|source| ObserveError::Postgres {
            what: "a connection",
            addr: addr.to_owned(),
            source,
        })?;
    tokio::spawn(conn);
    Ok(client)
}

impl Db {
    pub async fn connect(pg: &PostgresEndpoint) -> Result<Self, ObserveError> {
        let addr = pg.endpoint.direct.to_string();
        let conninfo = pg.connection_string(false);
        let client = open(&conninfo, &addr).await?;
        Ok(Self {
            client: Mutex::new(client),
            conninfo,
            addr,
        })
    }

    async fn query(&self, what: &'static str, sql: &str) -> Result<Vec<Row>, ObserveError> {
        let mut all = self.query_all(what, &[sql]).await?;
        Ok(all.pop().unwrap_or_default())
    }

    /// Runs `sqls` in one read-only REPEATABLE READ transaction, so that they all see the
    /// same snapshot even while the engine is still committing (the tables agree with each
    /// other as they did at one instant).
    async fn query_all(
        &self,
        what: &'static str,
        sqls: &[&str],
    ) -> Result<Vec<Vec<Row>>, ObserveError> {
        let deadline = Instant::now() + RECONNECT_FOR;
        let mut client = self.client.lock().await;
        loop {
            if client.is_closed() {
                match open(&self.conninfo, &self.addr).await {
                    Ok(c) => *client = c,
                    Err(e) if Instant::now() < deadline => {
                        tracing::warn!(error = %crate::fault::chain(&e), "postgresql not reachable yet; trying again");
                        tokio::time::sleep(Duration::from_millis(250)).await;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            match snapshot(&mut client, sqls).await {
                Ok(rows) => return Ok(rows),
                // The server closed the connection: open a new one and ask again.
                Err(e) if client.is_closed() && Instant::now() < deadline => {
                    tracing::warn!(what, error = %e, "postgresql closed the connection; reconnecting");
                }
                Err(source) => {
                    return Err(ObserveError::Postgres {
                        what,
                        addr: self.addr.clone(),
                        source,
                    })
                }
            }
        }
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
                "SELECT user_id, last_seq FROM ctp_private_flow ORDER BY user_id",
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Accounts, positions and instruments: the state a run starts from.
    pub async fn money(&self) -> Result<DbState, ObserveError> {
        let rows = self
            .query_all("the money tables", &[POSITIONS, ACCOUNTS, INSTRUMENTS])
            .await?;
        Ok(DbState {
            positions: positions(&rows[0])?,
            accounts: accounts(&rows[1]),
            instruments: instruments(&rows[2]),
            ..DbState::default()
        })
    }

    /// Every table the checks judge, as one snapshot.
    pub async fn state(&self) -> Result<DbState, ObserveError> {
        let rows = self
            .query_all(
                "the engine's tables",
                &[POSITIONS, ACCOUNTS, INSTRUMENTS, ORDERS, TRADES],
            )
            .await?;
        Ok(DbState {
            positions: positions(&rows[0])?,
            accounts: accounts(&rows[1]),
            instruments: instruments(&rows[2]),
            orders: orders(&rows[3])?,
            trades: trades(&rows[4])?,
        })
    }
}

async fn snapshot(
    client: &mut Client,
    sqls: &[&str],
) -> Result<Vec<Vec<Row>>, tokio_postgres::Error> {
    if let [sql] = sqls {
        return Ok(vec![client.query(*sql, &[]).await?]);
    }
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let mut all = Vec::with_capacity(sqls.len());
    for sql in sqls {
        all.push(tx.query(*sql, &[]).await?);
    }
    tx.commit().await?;
    Ok(all)
}

const ORDERS: &str = "SELECT order_id, client_order_id, account_id, instrument_id, exchange_id, \
     side, offset_flag, limit_price, volume, volume_traded, status, front_id, session_id, \
     order_ref, order_sys_id, error_id, frozen_margin, order_event_seq, trade_event_seq, \
     engine_id FROM orders ORDER BY order_id";
const TRADES: &str = "SELECT exchange_id, trade_id, side, order_id, account_id, instrument_id, \
     offset_flag, price, volume, seq_no FROM trades ORDER BY seq_no, trade_id";
const POSITIONS: &str = "SELECT account_id, instrument_id, posi_direction, today_position, \
     yd_position, margin FROM positions ORDER BY account_id, instrument_id, posi_direction";
const ACCOUNTS: &str =
    "SELECT account_id, balance, curr_margin, frozen_margin FROM accounts ORDER BY account_id";
const INSTRUMENTS: &str =
    "SELECT instrument_id, volume_multiple, margin_ratio FROM instruments ORDER BY instrument_id";

fn orders(rows: &[Row]) -> Result<Vec<OrderRow>, ObserveError> {
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

fn trades(rows: &[Row]) -> Result<Vec<TradeRow>, ObserveError> {
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

fn positions(rows: &[Row]) -> Result<Vec<PositionRow>, ObserveError> {
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

fn accounts(rows: &[Row]) -> Vec<AccountRow> {
    rows.iter()
        .map(|r| AccountRow {
            account_id: r.get(0),
            balance: r.get(1),
            curr_margin: r.get(2),
            frozen_margin: r.get(3),
        })
        .collect()
}

fn instruments(rows: &[Row]) -> Vec<InstrumentRow> {
    rows.iter()
        .map(|r| InstrumentRow {
            instrument_id: r.get(0),
            volume_multiple: r.get(1),
            margin_ratio: r.get(2),
        })
        .collect()
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
