//! Session checks of the exchange: authentication, login (a new SessionID each time, at most
//! a few sessions per user), logout and the settlement confirmation (per investor and trading
//! day, as CTP keeps it, not per session).

use super::core::{Exchange, SessionCtx};
use crate::protocol::{error_id, RspInfo};

impl Exchange {
    /// `ReqAuthenticate`.
    pub fn authenticate(
        &mut self,
        s: &mut SessionCtx,
        user: &str,
        app: &str,
        code: &str,
    ) -> RspInfo {
        match self.accounts.get(user) {
            Some(a) if a.spec.app_id == app && a.spec.auth_code == code => {
                s.authenticated = true;
                RspInfo::ok()
            }
            _ => RspInfo::error(error_id::AUTH_FAILED, "authentication failed"),
        }
    }

    /// `ReqUserLogin`: a new SessionID for every login.
    pub fn login(&mut self, s: &mut SessionCtx, user: &str, password: &str) -> RspInfo {
        if s.logged_in {
            return RspInfo::error(error_id::BAD_FIELD, "already logged in");
        }
        if self.cfg.require_authentication && !s.authenticated {
            return RspInfo::error(error_id::NOT_AUTHENTICATED, "not authenticated");
        }
        match self.accounts.get(user) {
            Some(a) if a.spec.password == password => {}
            _ => return RspInfo::error(error_id::INVALID_LOGIN, "invalid login"),
        }
        let count = self.sessions_per_user.entry(user.to_owned()).or_default();
        if *count >= self.cfg.max_sessions_per_user {
            return RspInfo::error(error_id::TOO_MANY_SESSIONS, "too many sessions");
        }
        *count += 1;
        s.front_id = self.cfg.front_id;
        s.session_id = self.next_session_id;
        self.next_session_id = self.next_session_id.wrapping_add(1);
        s.user_id = user.to_owned();
        s.logged_in = true;
        s.last_order_ref = 0;
        RspInfo::ok()
    }

    /// A session ended.
    pub fn logout(&mut self, s: &mut SessionCtx) {
        if s.logged_in {
            if let Some(c) = self.sessions_per_user.get_mut(&s.user_id) {
                *c = c.saturating_sub(1);
            }
            s.logged_in = false;
        }
    }

    /// `ReqSettlementInfoConfirm`.
    pub fn confirm_settlement(&mut self, s: &mut SessionCtx, investor: &str) -> RspInfo {
        if !s.logged_in {
            return RspInfo::error(error_id::NOT_LOGGED_IN, "not logged in");
        }
        if investor != s.user_id {
            return RspInfo::error(error_id::BAD_FIELD, "InvestorID is not the logged-in user");
        }
        self.settlement_confirmed
            .insert(investor.to_owned(), self.cfg.trading_day.clone());
        RspInfo::ok()
    }

    /// Whether `investor` confirmed the current trading day's settlement, in any session.
    pub fn settlement_confirmed_today(&self, investor: &str) -> bool {
        self.settlement_confirmed.get(investor) == Some(&self.cfg.trading_day)
    }
}
