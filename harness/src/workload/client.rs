//! The order entry a workload drives: the engine's gRPC service, or anything else with the
//! same two calls (a null server for the generator's own benchmark). A reply is classified as
//! the history needs it: ok, a definite refusal (fail) or an unknown outcome (info).

use std::future::Future;
use std::time::Duration;

use contract::model::{Offset, OrderStatus, Side};
use contract::trading::v1 as pb;
use contract::trading::v1::order_service_client::OrderServiceClient;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use super::error::WorkloadError;
use crate::history::{CancelOrder, OpError, OpResult, SubmitOrder};

/// Submit and cancel, as the engine's order entry offers them.
pub trait OrderEntry: Clone + Send + Sync + 'static {
    fn submit(
        &self,
        req: pb::SubmitOrderRequest,
    ) -> impl Future<Output = Result<pb::SubmitOrderResponse, Status>> + Send;
    fn cancel(
        &self,
        req: pb::CancelOrderRequest,
    ) -> impl Future<Output = Result<pb::CancelOrderResponse, Status>> + Send;

    /// This entry fixed to the datacenter it sends to now, and that datacenter (`None` for an
    /// entry that does not route between sites), for one operation.
    fn pinned(&self) -> (Option<crate::platform::Dc>, Self) {
        (None, self.clone())
    }

    /// Waits until the entry takes an operation (a router holds them during a switchover);
    /// the operation is in flight until the admission is dropped.
    fn admit(&self) -> impl Future<Output = super::router::Admission> + Send {
        std::future::ready(super::router::Admission::default())
    }
}

/// The engine's gRPC order entry (`trading.v1.OrderService`).
#[derive(Debug, Clone)]
pub struct GrpcOrders(OrderServiceClient<Channel>);

impl GrpcOrders {
    /// Connects to `addr` (`host:port`).
    pub async fn connect(addr: &str) -> Result<Self, WorkloadError> {
        let err = |source| WorkloadError::Connect {
            addr: addr.to_owned(),
            source,
        };
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(err)?
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            .connect()
            .await
            .map_err(err)?;
        Ok(Self(OrderServiceClient::new(channel)))
    }

    /// A client that connects on its first call (tests that never call it).
    #[cfg(test)]
    pub(crate) fn lazy(addr: &str) -> Self {
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .expect("a valid address")
            .connect_lazy();
        Self(OrderServiceClient::new(channel))
    }
}

impl OrderEntry for GrpcOrders {
    async fn submit(&self, req: pb::SubmitOrderRequest) -> Result<pb::SubmitOrderResponse, Status> {
        self.0
            .clone()
            .submit_order(req)
            .await
            .map(|r| r.into_inner())
    }

    async fn cancel(&self, req: pb::CancelOrderRequest) -> Result<pb::CancelOrderResponse, Status> {
        self.0
            .clone()
            .cancel_order(req)
            .await
            .map(|r| r.into_inner())
    }
}

pub(crate) fn submit_request(o: &SubmitOrder) -> pb::SubmitOrderRequest {
    pb::SubmitOrderRequest {
        client_order_id: o.client_order_id.clone(),
        account_id: o.account_id.clone(),
        instrument_id: o.instrument_id.clone(),
        side: Side::to_proto(o.side) as i32,
        offset: Offset::to_proto(o.offset) as i32,
        limit_price: o.limit_price,
        volume: o.volume,
    }
}

pub(crate) fn cancel_request(c: &CancelOrder) -> pb::CancelOrderRequest {
    pb::CancelOrderRequest {
        order_id: c.order_id.unwrap_or(0),
        client_order_id: c.client_order_id.clone(),
    }
}

/// Which engine answered, and its version (each empty when the engine does not say).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answerer<'a> {
    pub engine_id: &'a str,
    pub engine_version: &'a str,
}

/// The history's result of an answer from `by`.
pub(crate) fn result_of(order: Option<&pb::Order>, duplicate: bool, by: Answerer<'_>) -> OpResult {
    let said = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    OpResult {
        order_id: order.map(|o| o.order_id),
        status: order.and_then(|o| OrderStatus::from_proto(o.status)),
        duplicate,
        engine_id: said(by.engine_id),
        engine_version: said(by.engine_version),
        dc: None,
    }
}

/// Whether a refusal is definite: the engine answered and the order was not taken. Anything
/// else (a timeout, a broken connection, an internal error) may or may not have been
/// committed, so it is unknown. Unavailable is unknown too: a transport failure says
/// Unavailable as well, and the client cannot tell the two apart.
pub fn is_definite(code: Code) -> bool {
    matches!(
        code,
        Code::InvalidArgument
            | Code::NotFound
            | Code::FailedPrecondition
            | Code::AlreadyExists
            | Code::PermissionDenied
            | Code::Unauthenticated
            | Code::ResourceExhausted
            | Code::OutOfRange
    )
}

/// The refusal as the history keeps it; the field or the risk limit comes from the
/// contract's `x-field` / `x-risk-limit` metadata.
pub(crate) fn op_error(status: &Status) -> OpError {
    let field = ["x-field", "x-risk-limit"]
        .iter()
        .find_map(|k| status.metadata().get(*k))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    OpError {
        code: format!("{:?}", status.code()),
        message: status.message().to_owned(),
        field,
        dc: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_definite_and_transport_trouble_is_unknown() {
        assert!(is_definite(Code::FailedPrecondition));
        assert!(is_definite(Code::InvalidArgument));
        assert!(!is_definite(Code::Unavailable));
        assert!(!is_definite(Code::DeadlineExceeded));
        assert!(!is_definite(Code::Internal));
        let mut s = Status::invalid_argument("invalid volume: must be positive");
        s.metadata_mut()
            .insert("x-field", "volume".parse().unwrap());
        let e = op_error(&s);
        assert_eq!(e.code, "InvalidArgument");
        assert_eq!(e.field.as_deref(), Some("volume"));
        assert_eq!(op_error(&Status::internal("boom")).field, None);
    }
}
