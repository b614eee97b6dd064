//! The open file limit, raised to fit `[server] max_connections`.
//!
//! Every connection is a file descriptor. Many systems start processes with
//! a soft limit of 1024 and a much higher hard limit: without raising it, the
//! server would run out of descriptors (and stop accepting anyone) long
//! before `max_connections` refused a client cleanly. Raising the soft limit
//! up to the hard one is what any process may do, and what Go programs do at
//! start. When even the hard limit is too low, a warning says what to change.

/// Descriptors beyond the connections: the listener, the queue's files,
/// runtime sockets and pipes, the watcher.
const OTHERS: u64 = 256;

/// Raise the soft limit to fit `max_connections`; a warning to show when
/// it cannot be made to fit.
#[cfg(unix)]
pub fn fit(max_connections: usize) -> Option<String> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let wanted = (max_connections as u64).saturating_add(OTHERS);
    let limit = getrlimit(Resource::Nofile);
    // `None` is no limit.
    let soft = limit.current?;
    if soft >= wanted {
        return None;
    }
    let target = limit.maximum.map_or(wanted, |hard| wanted.min(hard));
    let raised = Rlimit {
        current: Some(target),
        maximum: limit.maximum,
    };
    let now = if setrlimit(Resource::Nofile, raised).is_ok() {
        target
    } else {
        soft
    };
    (now < wanted).then(|| {
        format!(
            "the open file limit is {now}, below [server] max_connections = {max_connections} \
             plus {OTHERS} for the rest: the server stops accepting at about {} connections. \
             Raise the limit (`ulimit -n {wanted}`, or LimitNOFILE= in a systemd unit) or lower max_connections",
            now.saturating_sub(OTHERS)
        )
    })
}

#[cfg(not(unix))]
pub fn fit(_max_connections: usize) -> Option<String> {
    None
}
