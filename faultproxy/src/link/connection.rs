//! One proxied connection: dial the upstream, pump both directions through their toxics,
//! and end the connection the way the pumps say: both ends closed normally after each side
//! finished, a close when a toxic cuts it, an RST when reset_peer fires, or a close when
//! the proxy is disabled or deleted.

use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::chain::Chain;
use super::pump::{Outcome, Pump, ToxicsRx};
use super::sock;
use crate::rng;
use crate::toxic::Stream;

/// What every connection of one running proxy shares.
#[derive(Clone)]
pub(crate) struct LinkContext {
    pub(crate) seed: u64,
    pub(crate) proxy: Arc<str>,
    pub(crate) upstream: Arc<str>,
    pub(crate) toxics: ToxicsRx,
    pub(crate) cancel: CancellationToken,
}

/// Serves connection number `number` of the proxy (numbers give each connection its own
/// seeded random stream).
pub(crate) async fn serve(ctx: LinkContext, client: TcpStream, number: u64) {
    let dialed = tokio::select! {
        _ = ctx.cancel.cancelled() => return,
        dialed = TcpStream::connect(&*ctx.upstream) => dialed,
    };
    let upstream = match dialed {
        Ok(stream) => stream,
        Err(error) => {
            tracing::warn!(proxy = %ctx.proxy, upstream = %ctx.upstream, %error, "upstream unreachable, closing client");
            return;
        }
    };
    // Go's net package, and so Toxiproxy, disables Nagle; a trading link needs it off too.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let outcome = pump_both(&ctx, &client, &upstream, number).await;
    match &outcome {
        Outcome::Reset => {
            sock::reset_on_close(&client);
            sock::reset_on_close(&upstream);
        }
        Outcome::Failed(error) => tracing::debug!(proxy = %ctx.proxy, %error, "link failed"),
        Outcome::Eof | Outcome::Close => {}
    }
    tracing::debug!(proxy = %ctx.proxy, number, ?outcome, "connection closed");
}

async fn pump_both(
    ctx: &LinkContext,
    client: &TcpStream,
    upstream: &TcpStream,
    number: u64,
) -> Outcome {
    let chain = |stream: Stream| {
        Chain::new(
            stream,
            rng::for_link(ctx.seed, &ctx.proxy, number, stream.as_str()),
        )
    };
    let up = Pump::new(
        client,
        upstream,
        ctx.toxics.clone(),
        chain(Stream::Upstream),
    )
    .run();
    let down = Pump::new(
        upstream,
        client,
        ctx.toxics.clone(),
        chain(Stream::Downstream),
    )
    .run();
    tokio::pin!(up, down);
    let (mut up_done, mut down_done) = (false, false);
    loop {
        tokio::select! {
            _ = ctx.cancel.cancelled() => return Outcome::Close,
            outcome = &mut up, if !up_done => match outcome {
                Outcome::Eof => up_done = true,
                other => return other,
            },
            outcome = &mut down, if !down_done => match outcome {
                Outcome::Eof => down_done = true,
                other => return other,
            },
        }
        if up_done && down_done {
            return Outcome::Eof;
        }
    }
}
