//! What the scenarios share: a gRPC client of the engine, its HTTP base and admin token, a
//! direct PostgreSQL connection and the mock CTP front's record, plus order-request helpers.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use contract::trading::v1::order_service_client::OrderServiceClient;
use contract::trading::v1::{GetOrderRequest, Offset, Order, Side, SubmitOrderRequest};
use harness::Platform;
use tonic::transport::Channel;

/// Handles on one platform's engine and the ground truth beside it.
pub struct Env {
    pub grpc: OrderServiceClient<Channel>,
    /// The gRPC port's address, for raw connections.
    pub grpc_addr: String,
    pub http: String,
    pub admin_token: String,
    pub pg: tokio_postgres::Client,
    pub mock_admin: String,
    pub mock_token: String,
    pub http_client: reqwest::Client,
}

impl Env {
    pub async fn new(platform: &Platform) -> Result<Self> {
        let endpoints = platform.endpoints();
        let engine = endpoints.engine.clone().context("an engine endpoint")?;
        let grpc = OrderServiceClient::connect(format!("http://{}", engine.grpc))
            .await
            .context("connecting to the engine's gRPC")?;
        let (pg, conn) = tokio_postgres::connect(
            &endpoints.postgres.connection_string(false),
            tokio_postgres::NoTls,
        )
        .await
        .context("connecting to postgresql directly")?;
        tokio::spawn(conn);
        Ok(Self {
            grpc,
            grpc_addr: engine.grpc.to_string(),
            http: format!("http://{}", engine.http),
            admin_token: engine.admin_token,
            pg,
            mock_admin: endpoints.mock_ctp.admin.clone(),
            mock_token: endpoints.mock_ctp.admin_token.clone(),
            http_client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()?,
        })
    }

    /// The exchange's record of every order it decoded (mock CTP `GET /record/orders`).
    pub async fn exchange_orders(&self) -> Result<Vec<serde_json::Value>> {
        let v: serde_json::Value = self
            .http_client
            .get(format!("{}/record/orders", self.mock_admin))
            .bearer_auth(&self.mock_token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        match v {
            serde_json::Value::Array(a) => Ok(a),
            other => bail!("/record/orders answered {other}"),
        }
    }

    /// POSTs an engine admin route with the bearer token.
    pub async fn admin(&self, route: &str) -> Result<reqwest::StatusCode> {
        Ok(self
            .http_client
            .post(format!("{}/admin/{route}", self.http))
            .bearer_auth(&self.admin_token)
            .send()
            .await?
            .status())
    }

    /// Polls GetOrder until `done` holds, for at most `within`.
    pub async fn await_order(
        &self,
        order_id: i64,
        within: Duration,
        done: impl Fn(&Order) -> bool,
    ) -> Result<Order> {
        let deadline = Instant::now() + within;
        loop {
            let o = self
                .grpc
                .clone()
                .get_order(GetOrderRequest {
                    order_id,
                    client_order_id: String::new(),
                })
                .await?
                .into_inner();
            if done(&o) {
                return Ok(o);
            }
            if Instant::now() >= deadline {
                bail!("order {order_id} did not get there within {within:?}: {o:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The CTP identity the engine persisted for an order: (FrontID, SessionID, OrderRef).
    pub async fn ctp_identity(&self, order_id: i64) -> Result<(i32, i32, String)> {
        let row = self
            .pg
            .query_one(
                "SELECT front_id, session_id, order_ref FROM orders WHERE order_id = $1",
                &[&order_id],
            )
            .await
            .with_context(|| format!("order {order_id} in postgresql"))?;
        Ok((
            row.get(0),
            row.get(1),
            row.get::<_, String>(2).trim().to_owned(),
        ))
    }
}

/// A valid order of the investor: `volume` lots of rb2410 at the pre-settlement price.
pub fn order(cid: &str, side: Side, volume: i32) -> SubmitOrderRequest {
    SubmitOrderRequest {
        client_order_id: cid.into(),
        account_id: crate::INVESTOR.into(),
        instrument_id: "rb2410".into(),
        side: side as i32,
        offset: Offset::Open as i32,
        limit_price: 3600.0,
        volume,
    }
}

/// A client_order_id unique to this process and call.
pub fn cid(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
