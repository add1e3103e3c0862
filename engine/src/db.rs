//! PostgreSQL access: connections that reconnect on demand (resolving the host again each
//! time) and keep their hot statements prepared, the schema and seed at start, and loading
//! the book.
//!
//! Why prepared statements are kept: `execute` with SQL text prepares the statement first,
//! one more round trip (through the fault proxy) and a parse on the server for every commit.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use contract::model::{Offset, OrderStatus, Side};
use tokio_postgres::{Client, NoTls, Statement};

use crate::book::{Account, Book, Instrument, Limit, OrderRec, PosiDir, Position};
use crate::error::EngineError;

/// How long one PostgreSQL operation (a statement, a transaction) may take before its
/// connection is given up: a link that swallowed an answer (a black hole) would otherwise
/// leave the caller waiting forever, since TCP keepalives are answered by whatever sits in
/// between (a proxy, a load balancer). Far above a commit under load (milliseconds) or under
/// the latency faults (hundreds of milliseconds).
pub const ROUND_TRIP_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs one PostgreSQL operation under [`ROUND_TRIP_TIMEOUT`]; the caller resets the
/// connection on any error, this one included.
pub async fn timed<T>(
    what: &'static str,
    op: impl std::future::Future<Output = Result<T, EngineError>>,
) -> Result<T, EngineError> {
    tokio::time::timeout(ROUND_TRIP_TIMEOUT, op)
        .await
        .map_err(|_| EngineError::Timeout {
            what,
            after: ROUND_TRIP_TIMEOUT,
        })?
}

/// Every session's options. The server ends a session left idle inside a transaction: a
/// return batch whose answers a black hole swallowed after its flow lock leaves its
/// connection waiting for them forever (tokio-postgres keeps an abandoned connection open
/// while answers are due), and its backend kept the lock, so every retry of the batch timed
/// out (a postgres_cut scenario: 1,062 orders never answered after the heal). The engine never
/// idles inside a transaction: its statements are pipelined.
const SESSION_OPTIONS: &str = "-c idle_in_transaction_session_timeout=5000";

/// One connection, re-established on demand after a failure.
#[derive(Debug)]
pub struct Pg {
    config: tokio_postgres::Config,
    client: Option<Client>,
    /// Statements prepared on `client`, by their SQL; emptied with the connection.
    statements: HashMap<&'static str, Statement>,
}

impl Pg {
    pub fn new(url: &str) -> Result<Self, EngineError> {
        Self::with_options(url, SESSION_OPTIONS)
    }

    /// A connection of one of the writers (order committer, return applier, outbox relay),
    /// whose statements all find their rows by key.
    ///
    /// Why sequential scans are discouraged on them: the engine's tables start the day empty
    /// and grow by thousands of rows a second, while autovacuum analyzes them only after a
    /// minute or more. Until then the planner believes `orders` holds a page or two and plans
    /// the return batch's `UPDATE orders ... FROM UNNEST(...)` as a sequential scan under a
    /// hash join: at 1,000 orders/s, 65 sequential scans a second read 1.6 M rows a second
    /// from a table never analyzed, the return applier's backend took 39 % of a core, and the
    /// order committer waited for the account rows that statement held. Every statement of
    /// these connections has an index path, so the planner takes it whatever the stale
    /// statistics say.
    pub fn writer(url: &str) -> Result<Self, EngineError> {
        Self::with_options(url, &format!("{SESSION_OPTIONS} -c enable_seqscan=off"))
    }

    fn with_options(url: &str, options: &str) -> Result<Self, EngineError> {
        let mut config = tokio_postgres::Config::from_str(url)?;
        config
            .connect_timeout(Duration::from_secs(3))
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(5))
            .options(options)
            .application_name("engine");
        Ok(Self {
            config,
            client: None,
            statements: HashMap::new(),
        })
    }

    /// The connection, connecting first if there is none (or the last one died).
    pub async fn get(&mut self) -> Result<&mut Client, EngineError> {
        if self.client.as_ref().is_some_and(|c| c.is_closed()) {
            self.client = None;
        }
        if self.client.is_none() {
            self.statements.clear();
            let (client, conn) = self.config.connect(NoTls).await?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::warn!(error = %e, "postgresql connection closed");
                }
            });
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("connected above"))
    }

    /// The connection and `sql` prepared on it (prepared once per connection).
    pub async fn prepared(
        &mut self,
        sql: &'static str,
    ) -> Result<(&Client, Statement), EngineError> {
        self.get().await?;
        let client = self.client.as_ref().expect("connected above");
        let statement = match self.statements.get(sql) {
            Some(s) => s.clone(),
            None => {
                let s = client.prepare(sql).await?;
                self.statements.insert(sql, s.clone());
                s
            }
        };
        Ok((client, statement))
    }

    /// Forgets the connection after an error, so the next `get` reconnects.
    pub fn reset(&mut self) {
        self.client = None;
        self.statements.clear();
    }
}

/// Applies the schema and, when `fixtures` is given, the seed.
pub async fn prepare(pg: &mut Pg, seed: Option<&str>) -> Result<(), EngineError> {
    let c = pg.get().await?;
    c.batch_execute(contract::SCHEMA_SQL).await?;
    if let Some(seed) = seed {
        c.batch_execute(seed).await?;
    }
    Ok(())
}

fn bad(what: &'static str, e: impl std::fmt::Display) -> EngineError {
    EngineError::Load {
        what,
        reason: e.to_string(),
    }
}

/// Loads reference data, accounts, positions, the open and today's orders, and trade keys.
pub async fn load_book(pg: &mut Pg, book: &mut Book) -> Result<u64, EngineError> {
    let c = pg.get().await?;
    for r in c.query("SELECT instrument_id, exchange_id, price_tick, volume_multiple, pre_settlement_price, upper_limit_price, lower_limit_price, margin_ratio, max_order_volume FROM instruments", &[]).await? {
        let i = Instrument {
            instrument_id: r.get(0),
            exchange_id: r.get(1),
            price_tick: r.get(2),
            volume_multiple: r.get(3),
            pre_settlement_price: r.get(4),
            upper_limit_price: r.get(5),
            lower_limit_price: r.get(6),
            margin_ratio: r.get(7),
            max_order_volume: r.get(8),
        };
        book.instruments.insert(i.instrument_id.clone(), i);
    }
    for r in c.query("SELECT account_id, instrument_id, max_order_volume, max_position, price_band_ratio FROM risk_limits", &[]).await? {
        book.limits.insert(
            (r.get(0), r.get(1)),
            Limit {
                max_order_volume: r.get(2),
                max_position: r.get(3),
                price_band_ratio: r.get(4),
            },
        );
    }
    for r in c
        .query(
            "SELECT account_id, broker_id, balance, curr_margin, frozen_margin FROM accounts",
            &[],
        )
        .await?
    {
        let a = Account {
            account_id: r.get(0),
            broker_id: r.get(1),
            balance: r.get(2),
            curr_margin: r.get(3),
            frozen_margin: r.get(4),
        };
        book.accounts.insert(a.account_id.clone(), a);
    }
    for r in c.query("SELECT account_id, instrument_id, posi_direction, today_position, yd_position, margin FROM positions", &[]).await? {
        let dir: String = r.get(2);
        let dir = PosiDir::parse(&dir).ok_or_else(|| bad("positions", dir))?;
        book.positions.insert(
            (r.get(0), r.get(1), dir),
            Position {
                today: r.get(3),
                yd: r.get(4),
                margin: r.get(5),
                ..Default::default()
            },
        );
    }
    let rows = c
        .query(
            "SELECT order_id, client_order_id, account_id, instrument_id, exchange_id, side, \
             offset_flag, limit_price, volume, volume_traded, status, front_id, session_id, \
             order_ref, order_sys_id, error_id, error_msg, frozen_margin, order_event_seq, \
             trade_event_seq, trading_day, \
             (extract(epoch from created_at) * 1e6)::int8, \
             (extract(epoch from updated_at) * 1e6)::int8 FROM orders",
            &[],
        )
        .await?;
    for r in rows {
        let side: String = r.get(5);
        let offset: String = r.get(6);
        let status: String = r.get(10);
        let o = OrderRec {
            order_id: r.get(0),
            client_order_id: r.get(1),
            account_id: r.get(2),
            instrument_id: r.get(3),
            exchange_id: r.get(4),
            side: Side::parse(&side).map_err(|e| bad("orders", e))?,
            offset: Offset::parse(&offset).map_err(|e| bad("orders", e))?,
            limit_price: r.get(7),
            volume: r.get(8),
            volume_traded: r.get(9),
            status: OrderStatus::parse(&status).map_err(|e| bad("orders", e))?,
            front_id: r.get(11),
            session_id: r.get(12),
            order_ref: r.get(13),
            order_sys_id: r.get(14),
            error_id: r.get(15),
            error_msg: r.get(16),
            frozen_margin: r.get(17),
            order_event_seq: r.get(18),
            trade_event_seq: r.get(19),
            trading_day: r.get(20),
            created_at_us: r.get(21),
            updated_at_us: r.get(22),
            sent: false,
        };
        if !o.status.is_final() {
            book.add_pending(
                &o.account_id,
                &o.instrument_id,
                o.side,
                o.offset,
                o.remaining(),
            );
        }
        book.index(&o);
        book.orders.insert(o.order_id, o);
    }
    for r in c
        .query("SELECT exchange_id, trade_id, side FROM trades", &[])
        .await?
    {
        let side: String = r.get(2);
        book.trades.insert((
            r.get(0),
            r.get::<_, String>(1).trim().to_owned(),
            Side::parse(&side).map_err(|e| bad("trades", e))?,
        ));
    }
    Ok(book.orders.len() as u64)
}

/// The persisted private-flow position: (trading day, last applied sequence number).
pub async fn load_flow(
    pg: &mut Pg,
    broker: &str,
    user: &str,
) -> Result<(String, u64), EngineError> {
    let c = pg.get().await?;
    let row = c
        .query_opt(
            "SELECT trading_day, last_seq FROM ctp_private_flow WHERE broker_id = $1 AND user_id = $2",
            &[&broker, &user],
        )
        .await?;
    Ok(row
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1).max(0) as u64))
        .unwrap_or_default())
}
