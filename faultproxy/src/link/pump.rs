//! One direction of a link: reads from `src`, writes to `dst`.
//!
//! With no toxic acting on the direction it is a plain copy loop (one read, one write per
//! chunk, no timers, no allocation). With toxics, chunks are stamped with the instant they
//! were read and queued; the chain decides when each piece is due, and the pump keeps reading
//! while it waits, so latency delays a stream without throttling it. When the proxy's toxics
//! change, the chain is rebuilt at once and the piece not yet written is re-timed under the
//! new toxics: removing a latency toxic releases data held by it.
//!
//! Known gap: while a write to a peer that does not read is blocked, toxic changes and
//! toxic timers wait for that write.

use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::sleep_until;

use super::chain::Chain;
use super::sock;
use crate::proxy::ToxicEntry;
use crate::toxic::Event;

/// Bytes read ahead of the writer before the pump stops reading (backpressure).
const QUEUE_BYTES_MAX: usize = 1 << 20;
const BUFFER_BYTES: usize = 32 * 1024;

pub(crate) type ToxicsRx = watch::Receiver<Arc<Vec<ToxicEntry>>>;

#[derive(Debug)]
pub(crate) enum Outcome {
    /// The source ended and the end was passed on.
    Eof,
    /// The connection must close (a toxic said so, or the proxy is gone).
    Close,
    /// The connection must close with RST.
    Reset,
    Failed(io::Error),
}

enum Plain {
    Eof,
    Changed,
    Gone,
    Failed(io::Error),
}

pub(crate) struct Pump<'a> {
    src: &'a TcpStream,
    dst: &'a TcpStream,
    toxics: ToxicsRx,
    chain: Chain,
    /// Chunks read and not yet given to the chain, stamped with their arrival.
    raw: VecDeque<Event>,
    raw_bytes: usize,
    /// What the chain made of the chunk being played out, and that chunk's arrival.
    out: VecDeque<Event>,
    playing_since: Option<Instant>,
    eof_read: bool,
}

impl<'a> Pump<'a> {
    pub(crate) fn new(
        src: &'a TcpStream,
        dst: &'a TcpStream,
        toxics: ToxicsRx,
        chain: Chain,
    ) -> Self {
        Pump {
            src,
            dst,
            toxics,
            chain,
            raw: VecDeque::new(),
            raw_bytes: 0,
            out: VecDeque::new(),
            playing_since: None,
            eof_read: false,
        }
    }

    pub(crate) async fn run(mut self) -> Outcome {
        let mut buf = vec![0u8; BUFFER_BYTES];
        self.reconfigure();
        loop {
            if self.chain.is_idle() && self.raw.is_empty() && self.out.is_empty() && !self.eof_read
            {
                match self.plain(&mut buf).await {
                    Plain::Eof => return self.finish(),
                    Plain::Changed => self.reconfigure(),
                    Plain::Gone => return Outcome::Close,
                    Plain::Failed(e) => return Outcome::Failed(e),
                }
                continue;
            }
            if let Some(outcome) = self.step(&mut buf).await {
                return outcome;
            }
        }
    }

    /// The fast path: copy until the toxics change or the stream ends.
    async fn plain(&mut self, buf: &mut [u8]) -> Plain {
        loop {
            tokio::select! {
                biased;
                changed = self.toxics.changed() => {
                    return if changed.is_ok() { Plain::Changed } else { Plain::Gone };
                }
                read = sock::read_some(self.src, buf) => match read {
                    Ok(0) => return Plain::Eof,
                    Ok(n) => {
                        if let Err(e) = sock::write_all(self.dst, &buf[..n]).await {
                            return Plain::Failed(e);
                        }
                    }
                    Err(e) => return Plain::Failed(e),
                },
            }
        }
    }

    /// One turn of the toxic path: wait for the first of a toxic change, the next due event,
    /// a toxic's own timer, or more data; handle it.
    async fn step(&mut self, buf: &mut [u8]) -> Option<Outcome> {
        if self.out.is_empty() {
            if let Some(event) = self.raw.pop_front() {
                if let Event::Data { data, .. } = &event {
                    self.raw_bytes -= data.len();
                }
                self.playing_since = Some(event.at());
                self.out.extend(self.chain.process(event));
            }
        }
        let due = self.out.front().map(Event::at);
        let close_at = self.chain.close_deadline();
        let wake = match (due, close_at) {
            (Some(d), Some(c)) => Some(d.min(c)),
            (d, c) => d.or(c),
        };
        let can_read = !self.eof_read && self.raw_bytes < QUEUE_BYTES_MAX;
        tokio::select! {
            biased;
            changed = self.toxics.changed() => {
                if changed.is_err() {
                    return Some(Outcome::Close);
                }
                self.requeue_playing();
                self.reconfigure();
                None
            }
            _ = sleep_until(wake.unwrap_or_else(Instant::now).into()), if wake.is_some() => {
                if close_at.is_some_and(|at| at <= Instant::now()) {
                    return Some(Outcome::Close);
                }
                self.play_front().await
            }
            read = sock::read_some(self.src, buf), if can_read => {
                let at = Instant::now();
                match read {
                    Ok(0) => {
                        self.eof_read = true;
                        self.raw.push_back(Event::Eof { at });
                    }
                    Ok(n) => {
                        self.raw_bytes += n;
                        self.raw.push_back(Event::Data { at, data: Bytes::copy_from_slice(&buf[..n]) });
                    }
                    Err(e) => return Some(Outcome::Failed(e)),
                }
                None
            }
        }
    }

    async fn play_front(&mut self) -> Option<Outcome> {
        match self.out.pop_front()? {
            Event::Data { data, .. } => match sock::write_all(self.dst, &data).await {
                Ok(()) => None,
                Err(e) => Some(Outcome::Failed(e)),
            },
            Event::Eof { .. } => Some(self.finish()),
            Event::Close { .. } => Some(Outcome::Close),
            Event::Reset { .. } => Some(Outcome::Reset),
        }
    }

    fn finish(&self) -> Outcome {
        match sock::shutdown_write(self.dst) {
            Ok(()) => Outcome::Eof,
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Outcome::Eof,
            Err(e) => Outcome::Failed(e),
        }
    }

    /// Puts what is left of the chunk being played back at the head of the queue, with its
    /// original arrival, so that the new chain times it afresh.
    fn requeue_playing(&mut self) {
        let Some(arrival) = self.playing_since.take() else {
            return;
        };
        // A reset_peer that fired stays fired, as Toxiproxy's does (its wait for the reset is not
        // interrupted by removing the toxic): the data it swallowed is gone, and a connection
        // that went on without it would hang its peers instead of failing them.
        if let Some(reset) = self.out.iter().find(|e| matches!(e, Event::Reset { .. })) {
            let reset = reset.clone();
            self.out.clear();
            self.out.push_back(reset);
            return;
        }
        let mut rest = BytesMut::new();
        let mut eof = false;
        for event in self.out.drain(..) {
            match event {
                Event::Data { data, .. } => rest.extend_from_slice(&data),
                Event::Eof { .. } => eof = true,
                Event::Close { .. } | Event::Reset { .. } => {}
            }
        }
        if eof {
            self.raw.push_front(Event::Eof { at: arrival });
        }
        if !rest.is_empty() {
            self.raw_bytes += rest.len();
            self.raw.push_front(Event::Data {
                at: arrival,
                data: rest.freeze(),
            });
        }
    }

    fn reconfigure(&mut self) {
        let toxics = self.toxics.borrow_and_update().clone();
        self.chain.reconfigure(&toxics, Instant::now());
        tracing::trace!(applied = ?self.chain.applied(), "link toxics");
    }
}
