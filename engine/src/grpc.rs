//! The gRPC order-entry service of `contract/trading.proto`.

use std::pin::Pin;
use std::sync::Arc;

use contract::trading::v1 as pb;
use contract::trading::v1::order_service_server::OrderService;
use futures::Stream;
use mock_ctp::protocol::{ret, ActionFlag, InputOrderAction};
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status};

use crate::convert::order_pb;
use crate::engine::Engine;
use crate::refusal::Refusal;

#[derive(Debug, Clone)]
pub struct Service {
    pub engine: Arc<Engine>,
}

type UpdateStream = Pin<Box<dyn Stream<Item = Result<pb::Update, Status>> + Send>>;

#[tonic::async_trait]
impl OrderService for Service {
    async fn submit_order(
        &self,
        req: Request<pb::SubmitOrderRequest>,
    ) -> Result<Response<pb::SubmitOrderResponse>, Status> {
        let (order, duplicate) = self.engine.submit(req.get_ref()).await?;
        Ok(Response::new(pb::SubmitOrderResponse {
            order: Some(order),
            duplicate,
            engine_id: self.engine.cfg.engine_id.clone(),
            engine_version: self.engine.cfg.version.clone(),
        }))
    }

    async fn cancel_order(
        &self,
        req: Request<pb::CancelOrderRequest>,
    ) -> Result<Response<pb::CancelOrderResponse>, Status> {
        let r = req.get_ref();
        let o = self.engine.find(r.order_id, &r.client_order_id)?;
        if o.status.is_final() {
            return Err(
                Refusal::State(format!("order {} is already {}", o.order_id, o.status)).into(),
            );
        }
        let (front, session) = {
            let b = self.engine.book();
            (b.session.front_id, b.session.session_id)
        };
        if o.order_sys_id.trim().is_empty() && (o.front_id, o.session_id) != (front, session) {
            return Err(
                Refusal::State("order not yet confirmed by the exchange; retry".into()).into(),
            );
        }
        let client = self
            .engine
            .trader()
            .ok_or_else(|| Refusal::Unavailable("ctp trade session is down".into()))?;
        let action = InputOrderAction {
            broker_id: self.engine.cfg.broker_id.clone(),
            investor_id: o.account_id.clone(),
            order_ref: o.order_ref.trim().to_owned(),
            front_id: o.front_id,
            session_id: o.session_id,
            exchange_id: o.exchange_id.clone(),
            order_sys_id: o.order_sys_id.clone(),
            action_flag: ActionFlag::Delete,
            instrument_id: o.instrument_id.clone(),
            user_id: self.engine.cfg.user_id.clone(),
            ..Default::default()
        };
        match client.req_order_action(&action, o.request_id()).await {
            ret::OK => Ok(Response::new(pb::CancelOrderResponse {
                order: Some(order_pb(&o)),
                engine_id: self.engine.cfg.engine_id.clone(),
                engine_version: self.engine.cfg.version.clone(),
            })),
            code => Err(Refusal::Unavailable(format!(
                "cancel not sent to the front (code {code})"
            ))
            .into()),
        }
    }

    async fn get_order(
        &self,
        req: Request<pb::GetOrderRequest>,
    ) -> Result<Response<pb::Order>, Status> {
        let r = req.get_ref();
        let o = self.engine.find(r.order_id, &r.client_order_id)?;
        Ok(Response::new(order_pb(&o)))
    }

    type StreamUpdatesStream = UpdateStream;

    async fn stream_updates(
        &self,
        req: Request<pb::StreamUpdatesRequest>,
    ) -> Result<Response<UpdateStream>, Status> {
        let account = req.into_inner().account_id;
        let stream =
            BroadcastStream::new(self.engine.updates.subscribe()).filter_map(move |u| match u {
                Ok(u) => {
                    let acct = match &u.kind {
                        Some(pb::update::Kind::Order(o)) => &o.account_id,
                        Some(pb::update::Kind::Trade(t)) => &t.account_id,
                        None => return None,
                    };
                    (account.is_empty() || *acct == account).then_some(Ok(u))
                }
                Err(BroadcastStreamRecvError::Lagged(n)) => Some(Err(Status::data_loss(format!(
                "subscriber lagged and missed {n} updates; resubscribe and read state with GetOrder"
            )))),
            });
        Ok(Response::new(Box::pin(stream)))
    }
}
