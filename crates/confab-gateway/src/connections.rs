//! The gateway's admission of connections: how often one address may
//! connect (the service's limit), and caps on the connections open at once
//! from one address and in all. Each admitted connection holds a slot
//! until its session ends.

use crate::Gateway;
use axum::http::HeaderMap;
use confab_core::{Error, ErrorKind, Result};
use confab_wire::peer::ClientAddress;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

/// Connections open now, in all and by address.
#[derive(Default)]
pub(crate) struct Connections {
    open: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    /// Untrusted addresses only: trusted ones are not capped by address.
    by_ip: HashMap<IpAddr, usize>,
}

/// An admitted connection's place in the counts, given back when dropped.
pub(crate) struct Slot {
    connections: Arc<Connections>,
    /// The address counted against, when it is capped.
    ip: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.connections.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(ip) = self.ip {
            if let Some(n) = open.by_ip.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    open.by_ip.remove(&ip);
                }
            }
        }
    }
}

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic while counting leaves numbers that are still numbers.
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn open(&self) -> usize {
        self.lock().total
    }
}

fn too_many(message: String) -> Error {
    Error::new(ErrorKind::TooManyRequests, message)
}

impl Gateway {
    /// Admits a connection from `peer` (None for one without an address,
    /// such as an in-process test), or says why not.
    pub(crate) fn admit(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Result<Slot> {
        let client = peer.map(|peer| {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            confab_wire::peer::client_address(peer, header, &self.config.trusted_networks)
        });
        let capped = match client {
            Some(ClientAddress { ip, trusted: false }) => {
                self.service.admit_connect_from(ip)?;
                Some(ip)
            }
            _ => None,
        };
        let config = &self.config;
        let mut open = self.connections.lock();
        if config.max_connections > 0 && open.total >= config.max_connections {
            return Err(too_many(format!(
                "too many requests: the server is full ({} connections); try again later",
                config.max_connections
            )));
        }
        if let Some(ip) = capped {
            let n = open.by_ip.entry(ip).or_default();
            if config.max_connections_per_ip > 0 && *n >= config.max_connections_per_ip {
                return Err(too_many(format!(
                    "too many requests: at most {} connections from one address",
                    config.max_connections_per_ip
                )));
            }
            *n += 1;
        }
        open.total += 1;
        Ok(Slot {
            connections: self.connections.clone(),
            ip: capped,
        })
    }

    /// Connections open on this gateway now.
    pub fn open_connections(&self) -> usize {
        self.connections.open()
    }
}
