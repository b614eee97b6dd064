//! Fairness between clients: at most `[server] max_connections_per_client`
//! of the open connections come from one client.
//!
//! The global cap (`max_connections`) protects the process, not the other
//! clients: one client that opens that many connections and sends nothing
//! locks everyone else out until the header timeout closes them. Counting
//! per client bounds its share, so the others keep being served.
//!
//! A client is its IPv4 address, or the /64 its IPv6 address is in: one
//! host is commonly given a whole /64 (and picks addresses in it at will),
//! so counting IPv6 addresses one by one would bound nothing. An IPv4
//! client on a dual-stack socket (`::ffff:a.b.c.d`) is its IPv4 address,
//! not the /64 every such address shares. Loopback is a client like any
//! other.
//!
//! The count is one hash-map entry per client with a connection open,
//! under a lock taken once at accept and once when the connection's socket
//! is dropped; an entry goes when its count reaches zero, so the map holds
//! no more clients than there are connections.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::WARN_EVERY;

/// Who a connection counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Client {
    V4(Ipv4Addr),
    /// The upper 64 bits of the address.
    V6Net(u64),
}

impl Client {
    pub(crate) fn of(ip: IpAddr) -> Client {
        match ip {
            IpAddr::V4(v4) => Client::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Client::V4(v4),
                None => Client::V6Net((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Client::V4(ip) => write!(f, "{ip}"),
            Client::V6Net(net) => write!(f, "{}/64", Ipv6Addr::from(u128::from(*net) << 64)),
        }
    }
}

/// The open connections of each client.
pub(crate) struct PerClient {
    limit: u32,
    open: Mutex<HashMap<Client, u32>>,
}

impl PerClient {
    /// At most `limit` connections per client (at least 1).
    pub(crate) fn new(limit: usize) -> Arc<PerClient> {
        Arc::new(PerClient {
            limit: u32::try_from(limit.max(1)).unwrap_or(u32::MAX),
            open: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn limit(&self) -> u32 {
        self.limit
    }

    /// Count one more connection of `client`, or `None` when it already
    /// has `limit` open. The count goes down when the slot is dropped.
    pub(crate) fn take(self: &Arc<Self>, client: Client) -> Option<ClientSlot> {
        let mut open = self.lock();
        let count = open.entry(client).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            table: Arc::clone(self),
            client,
        })
    }

    /// A panic elsewhere while the lock was held cannot leave a count half
    /// changed (each change is one statement), so a poisoned lock is used
    /// as it is rather than failing every later accept.
    fn lock(&self) -> MutexGuard<'_, HashMap<Client, u32>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn clients(&self) -> usize {
        self.lock().len()
    }
}

/// One connection's place in its client's count, given back on drop.
pub(crate) struct ClientSlot {
    table: Arc<PerClient>,
    client: Client,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.table.lock();
        if let Entry::Occupied(mut entry) = open.entry(self.client) {
            *entry.get_mut() -= 1;
            if *entry.get() == 0 {
                entry.remove();
            }
        }
    }
}

/// At most this many per-client warnings are logged per [`WARN_EVERY`],
/// whatever the number of clients refused (with a low limit, thousands of
/// addresses could each be over theirs).
const LINES_PER_INTERVAL: u32 = 8;

/// When to warn that a client is over its limit: once per client per
/// [`WARN_EVERY`], and no more than [`LINES_PER_INTERVAL`] lines in one;
/// the refusals left out are counted in the next line. Kept by the accept
/// loop alone, so it needs no lock, and touched only on a refusal.
pub(crate) struct RefusalWarnings {
    interval_began: Instant,
    lines: u32,
    warned: HashMap<Client, Instant>,
    left_out: u64,
}

impl RefusalWarnings {
    pub(crate) fn new() -> RefusalWarnings {
        RefusalWarnings {
            interval_began: Instant::now(),
            lines: 0,
            warned: HashMap::new(),
            left_out: 0,
        }
    }

    /// `client` was refused: the line to log, if one is due.
    pub(crate) fn refused(&mut self, client: Client, limit: u32) -> Option<String> {
        let now = Instant::now();
        if now.duration_since(self.interval_began) >= WARN_EVERY {
            self.interval_began = now;
            self.lines = 0;
            self.warned.retain(|_, at| now.duration_since(*at) < WARN_EVERY);
        }
        if self
            .warned
            .get(&client)
            .is_some_and(|at| now.duration_since(*at) < WARN_EVERY)
        {
            return None;
        }
        if self.lines >= LINES_PER_INTERVAL {
            self.left_out += 1;
            return None;
        }
        self.lines += 1;
        self.warned.insert(client, now);
        let left_out = std::mem::take(&mut self.left_out);
        let mut line = format!(
            "client {client} has {limit} connections open ([server] max_connections_per_client): \
             its new ones are refused with 503 until some close; other clients are still served"
        );
        if left_out > 0 {
            line.push_str(&format!(
                " ({left_out} refusals of other clients over the limit were not logged)"
            ));
        }
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(ip: &str) -> Client {
        Client::of(ip.parse().expect("an IP address"))
    }

    #[test]
    fn ipv6_addresses_of_one_64_are_one_client() {
        assert_eq!(client("2001:db8:1:2::1"), client("2001:db8:1:2:ffff:1:2:3"));
        assert_ne!(client("2001:db8:1:2::1"), client("2001:db8:1:3::1"));
        assert_eq!(client("2001:db8:1:2::1").to_string(), "2001:db8:1:2::/64");
    }

    #[test]
    fn an_ipv4_client_on_a_dual_stack_socket_is_its_ipv4_address() {
        assert_eq!(client("::ffff:192.0.2.7"), client("192.0.2.7"));
        assert_ne!(client("::ffff:192.0.2.7"), client("::ffff:192.0.2.8"));
        assert_eq!(client("::ffff:192.0.2.7").to_string(), "192.0.2.7");
    }

    #[test]
    fn ipv4_addresses_are_counted_one_by_one_loopback_included() {
        assert_ne!(client("127.0.0.2"), client("127.0.0.3"));
        assert_ne!(client("192.0.2.7"), client("192.0.2.8"));
    }

    #[test]
    fn a_client_gets_its_limit_and_no_more_until_one_is_dropped() {
        let table = PerClient::new(2);
        let (a, b) = (client("192.0.2.1"), client("192.0.2.2"));
        let first = table.take(a).expect("first");
        let _second = table.take(a).expect("second");
        assert!(table.take(a).is_none(), "a third connection of the same client");
        let _other = table.take(b).expect("another client is not affected");
        drop(first);
        assert!(table.take(a).is_some(), "a slot freed by a close is taken again");
    }

    #[test]
    fn a_client_whose_connections_all_closed_leaves_no_entry() {
        let table = PerClient::new(3);
        let slots: Vec<_> = (1..=50)
            .flat_map(|i| {
                let c = client(&format!("192.0.2.{i}"));
                [table.take(c), table.take(c)]
            })
            .map(|slot| slot.expect("under the limit"))
            .collect();
        assert_eq!(table.clients(), 50);
        drop(slots);
        assert_eq!(table.clients(), 0);
    }

    #[test]
    fn a_refused_client_is_warned_about_once_per_interval() {
        let mut warnings = RefusalWarnings::new();
        let a = client("192.0.2.1");
        let line = warnings.refused(a, 4).expect("the first refusal is logged");
        assert!(line.contains("192.0.2.1"), "{line}");
        assert!(line.contains("max_connections_per_client"), "{line}");
        for _ in 0..100 {
            assert_eq!(warnings.refused(a, 4), None);
        }
    }

    #[test]
    fn many_refused_clients_make_a_bounded_number_of_lines() {
        let mut warnings = RefusalWarnings::new();
        let logged = (0..1000u32)
            .filter_map(|i| warnings.refused(Client::V4(Ipv4Addr::from(i)), 1))
            .count();
        assert_eq!(logged, LINES_PER_INTERVAL as usize);
        assert_eq!(warnings.left_out, 1000 - u64::from(LINES_PER_INTERVAL));
    }
}
