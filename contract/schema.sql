-- The engine's durable state (PostgreSQL 15). Idempotent: every statement is IF NOT EXISTS,
-- so the engine applies it at every start and the harness may apply it too.
-- Money and prices are DOUBLE PRECISION rounded to 0.01 by the writer (the mock exchange
-- models money the same loose way: no P&L, no fee); compare with a 0.01 tolerance.

CREATE TABLE IF NOT EXISTS instruments (
    instrument_id        TEXT PRIMARY KEY,
    exchange_id          TEXT NOT NULL,
    product_id           TEXT NOT NULL,
    price_tick           DOUBLE PRECISION NOT NULL,
    volume_multiple      INTEGER NOT NULL,
    pre_settlement_price DOUBLE PRECISION NOT NULL,
    upper_limit_price    DOUBLE PRECISION NOT NULL,
    lower_limit_price    DOUBLE PRECISION NOT NULL,
    margin_ratio         DOUBLE PRECISION NOT NULL,
    max_order_volume     INTEGER NOT NULL
);

-- One row per investor (CTP InvestorID). available = balance - curr_margin - frozen_margin.
CREATE TABLE IF NOT EXISTS accounts (
    account_id    TEXT PRIMARY KEY,
    broker_id     TEXT NOT NULL,
    balance       DOUBLE PRECISION NOT NULL,
    curr_margin   DOUBLE PRECISION NOT NULL DEFAULT 0,
    frozen_margin DOUBLE PRECISION NOT NULL DEFAULT 0,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Pre-trade limits; instrument_id '*' applies to every instrument without its own row.
-- price_band_ratio: a limit price must lie within last price * (1 +- ratio).
CREATE TABLE IF NOT EXISTS risk_limits (
    account_id       TEXT NOT NULL REFERENCES accounts (account_id),
    instrument_id    TEXT NOT NULL,
    max_order_volume INTEGER NOT NULL,
    max_position     INTEGER NOT NULL,
    price_band_ratio DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, instrument_id)
);

CREATE TABLE IF NOT EXISTS positions (
    account_id     TEXT NOT NULL REFERENCES accounts (account_id),
    instrument_id  TEXT NOT NULL,
    posi_direction TEXT NOT NULL CHECK (posi_direction IN ('long', 'short')),
    today_position INTEGER NOT NULL DEFAULT 0,
    yd_position    INTEGER NOT NULL DEFAULT 0,
    margin         DOUBLE PRECISION NOT NULL DEFAULT 0,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, instrument_id, posi_direction)
);

-- Order ids are taken in blocks of 1000 (one nextval per block), so engines sharing the
-- database never collide.
CREATE SEQUENCE IF NOT EXISTS order_id_seq INCREMENT BY 1000;

CREATE TABLE IF NOT EXISTS orders (
    order_id        BIGINT PRIMARY KEY,
    client_order_id TEXT NOT NULL UNIQUE,
    account_id      TEXT NOT NULL REFERENCES accounts (account_id),
    instrument_id   TEXT NOT NULL,
    exchange_id     TEXT NOT NULL,
    side            TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    offset_flag     TEXT NOT NULL
        CHECK (offset_flag IN ('open', 'close', 'close_today', 'close_yesterday')),
    limit_price     DOUBLE PRECISION NOT NULL,
    volume          INTEGER NOT NULL CHECK (volume > 0),
    volume_traded   INTEGER NOT NULL DEFAULT 0 CHECK (volume_traded <= volume),
    status          TEXT NOT NULL CHECK (status IN
        ('new', 'accepted', 'partially_filled', 'filled', 'canceled', 'rejected')),
    -- The CTP identity of the request, persisted before the request is written to the front.
    front_id        INTEGER NOT NULL,
    session_id      INTEGER NOT NULL,
    order_ref       TEXT NOT NULL,
    order_sys_id    TEXT NOT NULL DEFAULT '',
    error_id        INTEGER NOT NULL DEFAULT 0,
    error_msg       TEXT NOT NULL DEFAULT '',
    -- Margin still frozen for the untraded volume of an open order.
    frozen_margin   DOUBLE PRECISION NOT NULL DEFAULT 0,
    -- The last sequence numbers used in order-events and trade-events for this order.
    order_event_seq INTEGER NOT NULL DEFAULT 0,
    trade_event_seq INTEGER NOT NULL DEFAULT 0,
    engine_id       TEXT NOT NULL,
    trading_day     TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS orders_ctp_ref ON orders (front_id, session_id, order_ref);
CREATE INDEX IF NOT EXISTS orders_open ON orders (status)
    WHERE status IN ('new', 'accepted', 'partially_filled');

CREATE TABLE IF NOT EXISTS trades (
    exchange_id   TEXT NOT NULL,
    trade_id      TEXT NOT NULL,
    side          TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    order_id      BIGINT NOT NULL REFERENCES orders (order_id),
    account_id    TEXT NOT NULL,
    instrument_id TEXT NOT NULL,
    offset_flag   TEXT NOT NULL,
    price         DOUBLE PRECISION NOT NULL,
    volume        INTEGER NOT NULL CHECK (volume > 0),
    trading_day   TEXT NOT NULL,
    -- The private-flow sequence number of the RtnTrade that carried it.
    seq_no        BIGINT NOT NULL,
    traded_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (exchange_id, trade_id, side)
);
CREATE INDEX IF NOT EXISTS trades_order ON trades (order_id);

-- The CTP private flow's position (CTP's Private.con): the last sequence number whose return
-- was applied, written in the same transaction as the return's effects.
CREATE TABLE IF NOT EXISTS ctp_private_flow (
    broker_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    trading_day TEXT NOT NULL,
    last_seq    BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (broker_id, user_id)
);

-- Transactional outbox: written with the state change, relayed to Kafka, then marked sent.
CREATE TABLE IF NOT EXISTS outbox (
    id         BIGSERIAL PRIMARY KEY,
    topic      TEXT NOT NULL,
    key        TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at    TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

-- The site fencing token (engine/src/fence.rs): the datacenter whose engines may acknowledge,
-- route and apply, and the epoch its last promotion took. One row.
CREATE TABLE IF NOT EXISTS site_fence (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    site     TEXT NOT NULL,
    epoch    BIGINT NOT NULL CHECK (epoch > 0),
    taken_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
