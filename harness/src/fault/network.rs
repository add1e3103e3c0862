//! Network faults on an engine→service link of the fault proxy: a toxic (latency, bandwidth,
//! timeout, reset_peer, slicer, limit_data) on one direction, or the link down. Each inject
//! checks from the harness, through the same link, that the fault acts: latency raises the
//! median round trip, a timeout leaves a ping unanswered, reset_peer resets it, limit_data
//! closes the connection, a down link refuses it. Heal removes the toxic (or enables the link)
//! and reads the proxy back.
//!
//! Known gaps: bandwidth and slicer are checked by reading the toxic back and seeing the link
//! still answer, since one small ping cannot show a rate or a slicing; limit_data is measured
//! only on links whose protocol answers repeated pings (redis, kafka) and for limits up to
//! 8 KiB, and reset_peer only for timeouts up to 5 s; elsewhere the toxic is read back.

use std::collections::BTreeMap;
use std::time::Duration;

use super::context::Context;
use super::error::{FaultError, Result};
use super::probe::{self, Outcome, Ping};
use super::spec::{Fault, Stream};
use super::toxiproxy::ToxicData;
use super::undo::{Applied, Undo};

const WAIT: Duration = Duration::from_secs(3);

/// The toxic a network fault adds, or `None` for `down`.
fn toxic_of(fault: &Fault, name: &str) -> Option<(String, ToxicData)> {
    let toxic = |link: &String, stream: &Stream, kind: &str, attributes: &[(&str, u64)]| {
        let data = ToxicData {
            name: name.to_string(),
            kind: kind.to_string(),
            stream: stream.as_str().to_string(),
            toxicity: 1.0,
            attributes: attributes
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect::<BTreeMap<_, _>>(),
        };
        Some((link.clone(), data))
    };
    match fault {
        Fault::Latency {
            link,
            stream,
            latency_ms,
            jitter_ms,
        } => toxic(
            link,
            stream,
            "latency",
            &[("latency", *latency_ms), ("jitter", *jitter_ms)],
        ),
        Fault::Bandwidth {
            link,
            stream,
            rate_kb_s,
        } => toxic(link, stream, "bandwidth", &[("rate", *rate_kb_s)]),
        Fault::Timeout {
            link,
            stream,
            timeout_ms,
        } => toxic(link, stream, "timeout", &[("timeout", *timeout_ms)]),
        Fault::ResetPeer {
            link,
            stream,
            timeout_ms,
        } => toxic(link, stream, "reset_peer", &[("timeout", *timeout_ms)]),
        Fault::Slicer {
            link,
            stream,
            average_size,
            size_variation,
            delay_us,
        } => toxic(
            link,
            stream,
            "slicer",
            &[
                ("average_size", *average_size),
                ("size_variation", *size_variation),
                ("delay", *delay_us),
            ],
        ),
        Fault::LimitData {
            link,
            stream,
            bytes,
        } => toxic(link, stream, "limit_data", &[("bytes", *bytes)]),
        _ => None,
    }
}

/// Injects a network fault under the toxic name `name`, then checks that it acts.
pub(crate) async fn inject(ctx: &Context, fault: &Fault, name: &str) -> Result<Applied> {
    if let Fault::Down { link } = fault {
        let addr = ctx.link_address(link)?;
        let ping = ping_of(link)?;
        ctx.proxy_of(link).set_enabled(link, false).await?;
        let verified = match probe::ping(addr, ping, Duration::from_secs(1)).await {
            Outcome::Answered(_) => Err(FaultError::not_in_effect(
                fault,
                "a new connection through the link was still answered",
            )),
            _ => Ok(()),
        };
        let undo = Undo::Enable { link: link.clone() };
        return Ok(Applied {
            undo,
            verified,
            hazards: Vec::new(),
        });
    }
    let Some((link, toxic)) = toxic_of(fault, name) else {
        return Err(FaultError::invalid(
            fault.kind(),
            "kind",
            "is not a network fault",
        ));
    };
    let addr = ctx.link_address(&link)?;
    let ping = ping_of(&link)?;
    let before = match fault {
        Fault::Latency { .. } => Some(
            probe::median_round_trip(addr, ping, 3, WAIT)
                .await
                .map_err(|o| {
                    FaultError::not_in_effect(
                        fault,
                        format!("the link did not answer before the fault: {o:?}"),
                    )
                })?,
        ),
        _ => None,
    };
    ctx.proxy_of(&link).add_toxic(&link, &toxic).await?;
    let verified = verify(ctx, fault, &link, &toxic, before).await;
    let undo = Undo::Toxic {
        link,
        name: name.to_string(),
    };
    Ok(Applied {
        undo,
        verified,
        hazards: Vec::new(),
    })
}

fn ping_of(link: &str) -> Result<Ping> {
    Ping::for_link(link)
        .ok_or_else(|| FaultError::invalid("network", "link", format!("{link} has no probe")))
}

async fn verify(
    ctx: &Context,
    fault: &Fault,
    link: &str,
    toxic: &ToxicData,
    before: Option<Duration>,
) -> Result<()> {
    let addr = ctx.link_address(link)?;
    let ping = ping_of(link)?;
    let read_back = || async {
        let proxy = ctx.proxy_of(link).proxy(link).await?;
        match proxy.toxics.iter().find(|t| t.name == toxic.name) {
            Some(t) if t.attributes == toxic.attributes && t.stream == toxic.stream => Ok(()),
            Some(t) => Err(FaultError::not_in_effect(
                fault,
                format!("the proxy holds {t:?}"),
            )),
            None => Err(FaultError::not_in_effect(
                fault,
                "the proxy does not list the toxic",
            )),
        }
    };
    read_back().await?;
    let fail = |reason: String| Err(FaultError::not_in_effect(fault, reason));
    match fault {
        Fault::Latency {
            latency_ms,
            jitter_ms,
            ..
        } if latency_ms > jitter_ms => {
            let wait = WAIT + Duration::from_millis(2 * (latency_ms + jitter_ms));
            let after = probe::round_trips(addr, ping, 3, wait).await.map_err(|o| {
                FaultError::not_in_effect(fault, format!("the link did not answer: {o:?}"))
            })?;
            // Every round trip through the toxic waits at least `latency - jitter`, whatever
            // else the machine does; so the shortest of them must, and a loaded machine can
            // only lengthen it. (It compared the median against the median before the fault,
            // which a round trip slowed by load can raise: the likely cause of one healthy
            // feature run whose schedule failed 230 ms after this inject.)
            let shortest = after[0];
            let wanted = Duration::from_millis((latency_ms - jitter_ms) * 8 / 10);
            if shortest < wanted {
                return fail(format!(
                    "the shortest of {after:?} through the link is under {wanted:?} \
                     (before the fault: median {before:?})"
                ));
            }
            tracing::debug!(?before, ?after, "latency took effect");
            Ok(())
        }
        Fault::Timeout { .. } => match probe::ping(addr, ping, Duration::from_secs(1)).await {
            Outcome::Answered(t) => fail(format!("a ping was answered in {t:?}")),
            _ => Ok(()),
        },
        Fault::ResetPeer { timeout_ms, .. } if *timeout_ms <= 5_000 => {
            let wait = WAIT + Duration::from_millis(*timeout_ms);
            match probe::ping(addr, ping, wait).await {
                Outcome::Reset => Ok(()),
                other => fail(format!("a ping met {other:?}, not a reset")),
            }
        }
        Fault::LimitData { bytes, .. } if ping.repeatable() && *bytes <= 8192 => {
            let rounds = *bytes as usize + 3;
            match probe::answers_until_closed(addr, ping, rounds, WAIT).await {
                Some(_) => Ok(()),
                None => fail(format!("the connection stayed open for {rounds} pings")),
            }
        }
        Fault::Bandwidth { .. } | Fault::Slicer { .. } => {
            let wait = WAIT + Duration::from_secs(2);
            match probe::ping(addr, ping, wait).await {
                Outcome::Answered(_) => Ok(()),
                other => fail(format!("the link stopped answering: {other:?}")),
            }
        }
        _ => Ok(()),
    }
}

/// Heals a network fault: removes its toxic or enables its link, and reads the proxy back.
pub(crate) async fn heal(ctx: &Context, undo: &Undo) -> Result<()> {
    match undo {
        Undo::Toxic { link, name } => {
            ctx.proxy_of(link).remove_toxic(link, name).await?;
            let proxy = ctx.proxy_of(link).proxy(link).await?;
            if proxy.toxics.iter().any(|t| &t.name == name) {
                return Err(FaultError::not_healed(
                    format!("toxic {name} on link {link}"),
                    "the proxy still lists it",
                ));
            }
            Ok(())
        }
        Undo::Enable { link } => {
            ctx.proxy_of(link).set_enabled(link, true).await?;
            let addr = ctx.link_address(link)?;
            let enabled = ctx.proxy_of(link).proxy(link).await?.enabled;
            if !enabled || !probe::connects(addr, WAIT).await {
                return Err(FaultError::not_healed(
                    format!("down on link {link}"),
                    "the link does not accept connections",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
