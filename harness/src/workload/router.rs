//! The order router: the platform's global load balancer as the workload sees it. It sends
//! every operation to the engine of the datacenter currently named active and switches when
//! told (the DR controller's last step); each operation is pinned to one site when it is sent,
//! so the history records the datacenter it went to, whatever switch happens meanwhile.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use contract::trading::v1 as pb;
use tonic::Status;

use super::client::{GrpcOrders, OrderEntry};
use super::error::WorkloadError;
use crate::platform::Dc;
use crate::Platform;

/// Routes orders to the active datacenter's engine.
#[derive(Debug, Clone)]
pub struct Router {
    engines: Arc<BTreeMap<Dc, GrpcOrders>>,
    active: Arc<RwLock<Dc>>,
    /// Set on a clone pinned to one site for one operation.
    pinned: Option<Dc>,
}

impl Router {
    /// Connects to every datacenter's engine of `platform`; dc1 is active.
    pub async fn connect(platform: &Platform) -> Result<Self, WorkloadError> {
        let mut engines = BTreeMap::new();
        for dc in platform.datacenters() {
            if let Some(engine) = platform.datacenter(dc).and_then(|e| e.engine.as_ref()) {
                engines.insert(dc, GrpcOrders::connect(&engine.grpc.to_string()).await?);
            }
        }
        if !engines.contains_key(&Dc::Dc1) {
            return Err(WorkloadError::NoRoute(Dc::Dc1));
        }
        Ok(Self {
            engines: Arc::new(engines),
            active: Arc::new(RwLock::new(Dc::Dc1)),
            pinned: None,
        })
    }

    /// The datacenter orders go to now.
    pub fn active(&self) -> Dc {
        *self.active.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends every later operation to `dc`'s engine.
    pub fn switch_to(&self, dc: Dc) -> Result<(), WorkloadError> {
        if !self.engines.contains_key(&dc) {
            return Err(WorkloadError::NoRoute(dc));
        }
        *self.active.write().unwrap_or_else(|e| e.into_inner()) = dc;
        tracing::info!(%dc, "router: orders now go to {dc}");
        Ok(())
    }

    fn target(&self) -> (Dc, GrpcOrders) {
        let dc = self.pinned.unwrap_or_else(|| self.active());
        (dc, self.engines[&dc].clone())
    }
}

impl OrderEntry for Router {
    async fn submit(&self, req: pb::SubmitOrderRequest) -> Result<pb::SubmitOrderResponse, Status> {
        let (_, engine) = self.target();
        engine.submit(req).await
    }

    async fn cancel(&self, req: pb::CancelOrderRequest) -> Result<pb::CancelOrderResponse, Status> {
        let (_, engine) = self.target();
        engine.cancel(req).await
    }

    fn pinned(&self) -> (Option<Dc>, Self) {
        let dc = self.active();
        let pinned = Self {
            pinned: Some(dc),
            ..self.clone()
        };
        (Some(dc), pinned)
    }
}
