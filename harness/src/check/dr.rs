//! The DR meters: RTO and RPO of a datacenter switch, measured from the client's history and
//! the exchange's record (ground truth), never from the platform's own opinion.
//!
//! - RTO, tier 1 (order entry): from the fault (or the start of a planned switchover) to the
//!   first order the new site acknowledged. Tier 2 (positions consistent and queryable): from
//!   the fault to the controller's `positions_queryable` step, taken once the promoted engine
//!   is ready and the promoted database answers a positions query.
//! - RPO: the acknowledged orders missing from the promoted database at the moment of its
//!   promotion (what replication lost), as a count and as a window: from the acknowledgement of
//!   the oldest one missing to the old site's last acknowledgement (or the fault, if later), the
//!   span of acknowledged business the switch lost; then what is still missing once the new site
//!   has reconciled with the exchange (the business-level loss), which must be zero for every
//!   acknowledged order; and the exchange's orders and trades the surviving database does not
//!   know.
//!
//! Targets are the reference's (000 section 3.2.2): tier-1 RPO 1 s / RTO 5 min, tier-2 RPO 5 s
//! / RTO 15 min, and the operations manual's stricter RPO = 0 and zero order loss (002).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::observations::{DbState, ExchangeRecord};
use super::verdict::{Evidence, Outcome, Verdict};
use crate::history::{History, Op, Outcome as OpOutcome};
use crate::platform::Dc;

pub const RTO: &str = "rto";
pub const RPO: &str = "rpo";
pub const BUSINESS_LOSS: &str = "no_business_loss";
pub const ONE_SITE: &str = "at_most_one_site";

/// The step the DR controller records when the new site's positions answer.
pub const POSITIONS_QUERYABLE: &str = "positions_queryable";

/// What a drill must meet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrTargets {
    #[serde(with = "millis")]
    pub tier1_rto: Duration,
    #[serde(with = "millis")]
    pub tier2_rto: Duration,
    #[serde(with = "millis")]
    pub tier1_rpo: Duration,
    #[serde(with = "millis")]
    pub tier2_rpo: Duration,
    /// The operations manual's aim: no acknowledged order lost by replication (RPO = 0).
    pub zero_loss: bool,
}

impl Default for DrTargets {
    fn default() -> Self {
        Self {
            tier1_rto: Duration::from_secs(300),
            tier2_rto: Duration::from_secs(900),
            tier1_rpo: Duration::from_secs(1),
            tier2_rpo: Duration::from_secs(5),
            zero_loss: true,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// RTO as measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RtoMeasure {
    /// Fault (or switchover start) to the first order the new site acknowledged.
    pub tier1_ms: Option<f64>,
    /// Fault to the new site's positions answering.
    pub tier2_ms: Option<f64>,
    /// The first order the new site acknowledged.
    pub first_ack: Option<String>,
}

/// Measures RTO from `history`: the fault at `fault_ns`, `site` the new active site.
pub fn rto(
    history: &History,
    fault_ns: u64,
    site: Dc,
    targets: &DrTargets,
) -> (RtoMeasure, Verdict) {
    let first = history
        .operations
        .iter()
        .filter_map(|o| match (&o.op, &o.outcome, o.complete_ns) {
            (Op::Submit(s), OpOutcome::Ok(r), Some(done))
                if r.dc == Some(site) && done >= fault_ns =>
            {
                Some((done, s.client_order_id.clone()))
            }
            _ => None,
        })
        .min();
    let tier2 = history
        .steps
        .iter()
        .find(|s| s.step == POSITIONS_QUERYABLE && s.at_ns >= fault_ns)
        .map(|s| ms(s.at_ns - fault_ns));
    let measure = RtoMeasure {
        tier1_ms: first.as_ref().map(|(at, _)| ms(at - fault_ns)),
        tier2_ms: tier2,
        first_ack: first.map(|(_, cid)| cid),
    };
    let budget = |d: Duration| d.as_secs_f64() * 1000.0;
    let (outcome, detail) = match (measure.tier1_ms, measure.tier2_ms) {
        (None, _) => (
            Outcome::Invalid,
            format!("{site} acknowledged no order after the fault: order entry never recovered"),
        ),
        (Some(_), None) => (
            Outcome::Invalid,
            format!("{site}'s positions never answered after the fault"),
        ),
        (Some(t1), Some(t2)) => {
            let ok = t1 <= budget(targets.tier1_rto) && t2 <= budget(targets.tier2_rto);
            (
                if ok { Outcome::Valid } else { Outcome::Invalid },
                format!(
                    "tier 1 (order entry) {:.1} s against {} s, tier 2 (positions) {:.1} s against {} s",
                    t1 / 1000.0,
                    targets.tier1_rto.as_secs(),
                    t2 / 1000.0,
                    targets.tier2_rto.as_secs()
                ),
            )
        }
    };
    let mut v = Verdict::new(RTO, outcome, detail);
    v.evidence.first_bad = measure.first_ack.clone().map(|c| format!("first ack {c}"));
    if let Some(t1) = measure.tier1_ms {
        v.evidence.counts.insert("tier1_ms".into(), t1 as u64);
    }
    if let Some(t2) = measure.tier2_ms {
        v.evidence.counts.insert("tier2_ms".into(), t2 as u64);
    }
    (measure, v)
}

/// RPO as measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RpoMeasure {
    /// Acknowledged orders in all.
    pub acknowledged: u64,
    /// Acknowledged orders missing from the promoted database when it was promoted.
    pub lost_at_promotion: Vec<String>,
    /// From the acknowledgement of the oldest order missing at promotion to the old site's last
    /// acknowledgement, or the fault if that is later.
    pub window_ms: Option<f64>,
    /// Of those, the ones the surviving database holds once the new site reconciled.
    pub recovered: Vec<String>,
    /// Acknowledged orders missing from the surviving database at the end.
    pub lost_after_reconciliation: Vec<String>,
    /// The exchange's orders (`exchange#index`) whose CTP key the surviving database lacks.
    pub exchange_orders_unknown: Vec<String>,
    /// The exchange's trades the surviving database lacks.
    pub exchange_trades_unknown: Vec<String>,
}

/// The client order ids acknowledged in `history` with their first acknowledgement time,
/// and the ones the promoted database must have had (with the first such time): every order
/// acknowledged before the fault, and every one a site but `new_site` acknowledged (after the
/// fault too: a stale client's, or a switchover's held orders). Before a failback `new_site`
/// has served already, and what it acknowledged then must have come back to it.
fn acknowledged(
    history: &History,
    new_site: Dc,
    fault_ns: u64,
) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let (mut all, mut elsewhere) = (BTreeMap::new(), BTreeMap::new());
    for o in &history.operations {
        if let (Op::Submit(s), OpOutcome::Ok(r), Some(done)) = (&o.op, &o.outcome, o.complete_ns) {
            let at = all.entry(s.client_order_id.clone()).or_insert(done);
            *at = (*at).min(done);
            if r.dc != Some(new_site) || done < fault_ns {
                let at = elsewhere.entry(s.client_order_id.clone()).or_insert(done);
                *at = (*at).min(done);
            }
        }
    }
    (all, elsewhere)
}

fn named(mut ids: Vec<String>) -> Evidence {
    let mut e = Evidence::default();
    ids.sort();
    e.first_bad = ids.first().cloned();
    e.orders = ids.into_iter().take(Evidence::MAX_ORDERS).collect();
    e
}

/// Measures RPO: `at_promotion` holds the client order ids the promoted database (of
/// `new_site`) had when it was promoted (before its engine ran), `surviving` the surviving
/// database at the end, `exchange` the exchange's record; the fault at `fault_ns`.
pub fn rpo(
    history: &History,
    fault_ns: u64,
    new_site: Dc,
    at_promotion: &BTreeSet<String>,
    surviving: &DbState,
    exchange: &ExchangeRecord,
    targets: &DrTargets,
) -> (RpoMeasure, Vec<Verdict>) {
    let (acked, before_promotion) = acknowledged(history, new_site, fault_ns);
    let final_ids: HashSet<&str> = surviving
        .orders
        .iter()
        .map(|o| o.client_order_id.as_str())
        .collect();
    let lost: Vec<(&String, u64)> = before_promotion
        .iter()
        .filter(|(cid, _)| !at_promotion.contains(*cid))
        .map(|(cid, at)| (cid, *at))
        .collect();
    let end = before_promotion
        .values()
        .copied()
        .max()
        .unwrap_or(0)
        .max(fault_ns);
    let window_ms = lost
        .iter()
        .map(|(_, at)| *at)
        .min()
        .map(|oldest| ms(end.saturating_sub(oldest)));
    let recovered: Vec<String> = lost
        .iter()
        .filter(|(cid, _)| final_ids.contains(cid.as_str()))
        .map(|(cid, _)| (*cid).clone())
        .collect();
    let after: Vec<String> = acked
        .keys()
        .filter(|cid| !final_ids.contains(cid.as_str()))
        .cloned()
        .collect();
    let keys: HashSet<(i32, i32, &str)> = surviving
        .orders
        .iter()
        .map(|o| (o.front_id, o.session_id, o.order_ref.trim()))
        .collect();
    let exchange_orders_unknown: Vec<String> = exchange
        .orders
        .iter()
        .filter(|x| x.reached() && !keys.contains(&(x.front_id, x.session_id, x.order_ref.trim())))
        .map(|x| format!("exchange#{}", x.index))
        .collect();
    let trade_ids: HashSet<&str> = surviving.trades.iter().map(|t| t.trade_id.trim()).collect();
    let exchange_trades_unknown: Vec<String> = exchange
        .trades
        .iter()
        .filter(|t| !trade_ids.contains(t.trade_id.trim()))
        .map(|t| format!("trade {}", t.trade_id.trim()))
        .collect();
    let measure = RpoMeasure {
        acknowledged: acked.len() as u64,
        lost_at_promotion: lost.iter().map(|(cid, _)| (*cid).clone()).collect(),
        window_ms,
        recovered,
        lost_after_reconciliation: after,
        exchange_orders_unknown,
        exchange_trades_unknown,
    };

    let window_budget = targets.tier1_rpo.as_secs_f64() * 1000.0;
    let count = measure.lost_at_promotion.len();
    let window = measure.window_ms.unwrap_or(0.0);
    let rpo_ok = window <= window_budget && !(targets.zero_loss && count > 0);
    let mut rpo_v = Verdict::new(
        RPO,
        if rpo_ok { Outcome::Valid } else { Outcome::Invalid },
        format!(
            "{count} of {} acknowledged orders missing from the promoted database (window {:.0} ms; \
             target {} ms{}); {} recovered by reconciliation",
            measure.acknowledged,
            window,
            targets.tier1_rpo.as_millis(),
            if targets.zero_loss { " and RPO = 0" } else { "" },
            measure.recovered.len()
        ),
    );
    rpo_v.evidence = named(measure.lost_at_promotion.clone());
    rpo_v.evidence.counts.insert("lost".into(), count as u64);
    rpo_v
        .evidence
        .counts
        .insert("window_ms".into(), window as u64);

    let lost_after = measure.lost_after_reconciliation.len();
    let unknown_at_exchange = measure.exchange_orders_unknown.len();
    let business_ok = lost_after == 0 && unknown_at_exchange == 0;
    let mut business = Verdict::new(
        BUSINESS_LOSS,
        if business_ok {
            Outcome::Valid
        } else {
            Outcome::Invalid
        },
        format!(
            "{lost_after} acknowledged orders missing from the surviving database after \
             reconciliation; {unknown_at_exchange} orders and {} trades at the exchange it does \
             not know",
            measure.exchange_trades_unknown.len()
        ),
    );
    let mut evidence: Vec<String> = measure.lost_after_reconciliation.clone();
    evidence.extend(measure.exchange_orders_unknown.iter().cloned());
    business.evidence = named(evidence);
    business
        .evidence
        .counts
        .insert("lost_after_reconciliation".into(), lost_after as u64);
    business
        .evidence
        .counts
        .insert("exchange_orders_unknown".into(), unknown_at_exchange as u64);
    business.evidence.counts.insert(
        "exchange_trades_unknown".into(),
        measure.exchange_trades_unknown.len() as u64,
    );
    (measure, vec![rpo_v, business])
}

/// At most one site acknowledges orders at any time: once `new_site` serves (from
/// `promoted_ns`), no other site acknowledges anything. Judged from the history, where every
/// reply names the site it came from (a stale client's too).
pub fn at_most_one_site(history: &History, new_site: Dc, promoted_ns: u64) -> Verdict {
    let mut old = Vec::new();
    let mut new = 0u64;
    for o in &history.operations {
        if let (Op::Submit(s), OpOutcome::Ok(r), Some(done)) = (&o.op, &o.outcome, o.complete_ns) {
            if done < promoted_ns {
                continue;
            }
            match r.dc {
                Some(dc) if dc == new_site => new += 1,
                Some(_) => old.push(s.client_order_id.clone()),
                None => {}
            }
        }
    }
    let outcome = if old.is_empty() {
        Outcome::Valid
    } else {
        Outcome::Invalid
    };
    let mut v = Verdict::new(
        ONE_SITE,
        outcome,
        format!(
            "after {new_site} served, it acknowledged {new} orders and the other site {}",
            old.len()
        ),
    );
    let count = old.len() as u64;
    v.evidence = named(old);
    v.evidence.counts.insert("old_site_acks".into(), count);
    v.evidence.counts.insert("new_site_acks".into(), new);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::observations::{ExchangeOrder, OrderRow};
    use crate::history::{Entry, OpId, OpResult, StepMark, SubmitOrder};
    use contract::model::{Offset, OrderStatus, Side};

    const MS: u64 = 1_000_000;

    /// Orders `c-0..n` acknowledged every 10 ms from 0 by `dc1` until the fault at 1 s, then
    /// by `dc2` from `resume_ms`; the controller's positions step at `tier2_ms`.
    fn history(n_before: u64, resume_ms: u64, tier2_ms: u64) -> History {
        let mut entries = Vec::new();
        let mut op = |i: u64, at: u64, dc: Dc| {
            entries.push(Entry::Invoke {
                id: OpId(i),
                process: 0,
                at_ns: at,
                op: Op::Submit(SubmitOrder {
                    client_order_id: format!("c-{i}"),
                    account_id: "000001".into(),
                    instrument_id: "rb2410".into(),
                    side: Side::Buy,
                    offset: Offset::Open,
                    limit_price: 3600.0,
                    volume: 1,
                }),
            });
            entries.push(Entry::Ok {
                id: OpId(i),
                process: 0,
                at_ns: at + MS,
                result: OpResult {
                    order_id: Some(i as i64),
                    dc: Some(dc),
                    ..OpResult::default()
                },
            });
        };
        for i in 0..n_before {
            op(i, i * 10 * MS, Dc::Dc1);
        }
        op(n_before, resume_ms * MS, Dc::Dc2);
        let mut h = History::from_entries(std::path::Path::new("h"), entries).unwrap();
        h.steps.push(StepMark {
            at_ns: tier2_ms * MS,
            step: POSITIONS_QUERYABLE.into(),
            dc: Some(Dc::Dc2),
            detail: String::new(),
        });
        h
    }

    fn row(cid: &str, session: i32) -> OrderRow {
        OrderRow {
            order_id: 1,
            client_order_id: cid.into(),
            account_id: "000001".into(),
            instrument_id: "rb2410".into(),
            exchange_id: "SHFE".into(),
            side: Side::Buy,
            offset_flag: Offset::Open,
            limit_price: 3600.0,
            volume: 1,
            volume_traded: 0,
            status: OrderStatus::Accepted,
            front_id: 1,
            session_id: session,
            order_ref: cid.trim_start_matches("c-").into(),
            order_sys_id: "1".into(),
            error_id: 0,
            frozen_margin: 0.0,
            order_event_seq: 1,
            trade_event_seq: 0,
            engine_id: "e".into(),
        }
    }

    fn exchange_of(cids: &[&str]) -> ExchangeRecord {
        ExchangeRecord {
            trading_day: String::new(),
            orders: cids
                .iter()
                .enumerate()
                .map(|(index, cid)| ExchangeOrder {
                    index,
                    front_id: 1,
                    session_id: 7,
                    order_ref: cid.trim_start_matches("c-").into(),
                    investor_id: "000001".into(),
                    instrument_id: "rb2410".into(),
                    direction: "0".into(),
                    offset: "0".into(),
                    price: 3600.0,
                    volume: 1,
                    received_at_us: 0,
                    order_sys_id: format!("{index}"),
                    final_status: None,
                    error_id: 0,
                    volume_traded: 0,
                })
                .collect(),
            trades: Vec::new(),
        }
    }

    #[test]
    fn rto_runs_from_the_fault_to_the_new_sites_first_ack_and_its_positions() {
        let h = history(100, 4_000, 4_500);
        let (m, v) = rto(&h, 1_000 * MS, Dc::Dc2, &DrTargets::default());
        assert_eq!(v.outcome, Outcome::Valid, "{}", v.detail);
        assert_eq!(m.tier1_ms, Some(3_001.0));
        assert_eq!(m.tier2_ms, Some(3_500.0));
        assert_eq!(m.first_ack.as_deref(), Some("c-100"));
        let tight = DrTargets {
            tier1_rto: Duration::from_secs(2),
            ..DrTargets::default()
        };
        assert_eq!(
            rto(&h, 1_000 * MS, Dc::Dc2, &tight).1.outcome,
            Outcome::Invalid
        );
    }

    #[test]
    fn rto_is_invalid_when_the_new_site_never_acknowledges() {
        let h = history(100, 4_000, 4_500);
        let (m, v) = rto(&h, 1_000 * MS, Dc::Dc1, &DrTargets::default());
        // dc1 acknowledged nothing after the fault in this history.
        assert_eq!(m.tier1_ms, None);
        assert_eq!(v.outcome, Outcome::Invalid);
    }

    #[test]
    fn rpo_names_what_replication_lost_and_its_window() {
        // 100 orders acknowledged by dc1 (c-0 at 1 ms ... c-99 at 991 ms), fault at 1 s; the
        // promoted database lacks the last five.
        let h = history(100, 4_000, 4_500);
        let kept: Vec<String> = (0..95).map(|i| format!("c-{i}")).collect();
        let at_promotion: BTreeSet<String> = kept.iter().cloned().collect();
        let mut surviving = DbState {
            orders: kept.iter().map(|c| row(c, 7)).collect(),
            ..DbState::default()
        };
        surviving.orders.push(row("c-100", 7));
        let all: Vec<String> = (0..=100).map(|i| format!("c-{i}")).collect();
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let (m, v) = rpo(
            &h,
            1_000 * MS,
            Dc::Dc2,
            &at_promotion,
            &surviving,
            &exchange_of(&all),
            &DrTargets::default(),
        );
        assert_eq!(
            m.lost_at_promotion,
            vec!["c-95", "c-96", "c-97", "c-98", "c-99"]
        );
        assert_eq!(
            m.window_ms,
            Some(49.0),
            "fault at 1000 ms, c-95 acknowledged at 951 ms"
        );
        assert_eq!(v[0].outcome, Outcome::Invalid, "RPO = 0 is the target");
        assert_eq!(v[0].evidence.orders.len(), 5);
        assert_eq!(v[1].outcome, Outcome::Invalid, "{}", v[1].detail);
        assert_eq!(m.exchange_orders_unknown.len(), 5);
        let lenient = DrTargets {
            zero_loss: false,
            ..DrTargets::default()
        };
        let (_, v) = rpo(
            &h,
            1_000 * MS,
            Dc::Dc2,
            &at_promotion,
            &surviving,
            &exchange_of(&all),
            &lenient,
        );
        assert_eq!(v[0].outcome, Outcome::Valid, "49 ms is inside a 1 s RPO");
        // The fault recorded before dc1 stopped acknowledging (it is recorded before it is
        // applied): the window ends at dc1's last acknowledgement.
        let (m, _) = rpo(
            &h,
            500 * MS,
            Dc::Dc2,
            &at_promotion,
            &surviving,
            &exchange_of(&all),
            &lenient,
        );
        assert_eq!(m.window_ms, Some(40.0), "c-95 at 951 ms to c-99 at 991 ms");
    }

    #[test]
    fn a_site_acknowledging_after_the_other_was_promoted_is_a_split_brain() {
        // dc1 acknowledges c-0..c-99 until 991 ms; dc2 serves from 4 s.
        let h = history(100, 4_000, 4_500);
        let v = at_most_one_site(&h, Dc::Dc2, 3_000 * MS);
        assert_eq!(v.outcome, Outcome::Valid, "{}", v.detail);
        let v = at_most_one_site(&h, Dc::Dc2, 900 * MS);
        assert_eq!(v.outcome, Outcome::Invalid, "dc1 acknowledged after 900 ms");
        assert_eq!(
            v.evidence.counts["old_site_acks"], 10,
            "c-90..c-99: {:?}",
            v.evidence
        );
    }

    #[test]
    fn a_failback_needs_what_the_new_site_acknowledged_before_it_switched_away() {
        // dc1 acknowledged c-0..c-99 before the switch away, dc2 c-100 at 4 s; the failback to
        // dc1 starts at 5 s. dc1's own first orders made the round trip through dc2 and the
        // base backup: one missing from dc1's database at its promotion is lost.
        let h = history(100, 4_000, 4_500);
        let mut kept: BTreeSet<String> = (0..=100).map(|i| format!("c-{i}")).collect();
        kept.remove("c-3");
        let surviving = DbState {
            orders: kept.iter().map(|c| row(c, 7)).collect(),
            ..DbState::default()
        };
        let (m, v) = rpo(
            &h,
            5_000 * MS,
            Dc::Dc1,
            &kept,
            &surviving,
            &exchange_of(&[]),
            &DrTargets::default(),
        );
        assert_eq!(m.lost_at_promotion, vec!["c-3"]);
        assert_eq!(v[0].outcome, Outcome::Invalid, "{}", v[0].detail);
        // The same orders, the fault before dc1 acknowledged anything: only dc2's must be there.
        let (m, _) = rpo(
            &h,
            0,
            Dc::Dc1,
            &kept,
            &surviving,
            &exchange_of(&[]),
            &DrTargets::default(),
        );
        assert!(m.lost_at_promotion.is_empty(), "{:?}", m.lost_at_promotion);
    }

    #[test]
    fn rpo_is_zero_when_the_promoted_database_has_every_acknowledged_order() {
        let h = history(100, 4_000, 4_500);
        let all: Vec<String> = (0..=100).map(|i| format!("c-{i}")).collect();
        let at_promotion: BTreeSet<String> = all.iter().cloned().collect();
        let surviving = DbState {
            orders: all.iter().map(|c| row(c, 7)).collect(),
            ..DbState::default()
        };
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let (m, v) = rpo(
            &h,
            1_000 * MS,
            Dc::Dc2,
            &at_promotion,
            &surviving,
            &exchange_of(&refs),
            &DrTargets::default(),
        );
        assert!(m.lost_at_promotion.is_empty());
        assert_eq!(m.window_ms, None);
        assert!(v.iter().all(|v| v.outcome == Outcome::Valid), "{v:#?}");
    }
}
