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
// `rlim_t` is `u64` on Linux and macOS but not on every unix.
#[allow(clippy::unnecessary_cast)]
pub fn fit(max_connections: usize) -> Option<String> {
    let wanted = (max_connections as u64).saturating_add(OTHERS);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given; nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    let soft = limit.rlim_cur as u64;
    let hard = limit.rlim_max as u64;
    if limit.rlim_cur == libc::RLIM_INFINITY || soft >= wanted {
        return None;
    }
    let target = if limit.rlim_max == libc::RLIM_INFINITY {
        wanted
    } else {
        wanted.min(hard)
    };
    let raised = libc::rlimit {
        rlim_cur: target as libc::rlim_t,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: setrlimit reads the struct it is given; a soft limit at most
    // the hard one is always allowed.
    let now = if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
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
