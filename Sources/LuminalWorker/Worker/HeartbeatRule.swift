import LuminalSystem

/// When a worker's heartbeat pings it, and when it gives the worker up. Pure: instants are on
/// the uptime clock, in nanoseconds.
///
/// A worker that sent any frame within the interval has shown it is alive and is not pinged: a
/// ping is due one interval after the last frame heard (or after the heartbeat started). A ping
/// due within `leeway` goes out at once, so that workers due at about the same time are pinged
/// in the same firing of the clock. A ping must be answered by its pong within the timeout,
/// whatever else the worker sends meanwhile (the SDKs answer pings on the thread that reads
/// requests, so a worker that answers calls but not pings reads nothing new). A worker that hangs
/// is given up at most `interval + timeout` after its last frame, as when every worker was
/// pinged once an interval.
struct HeartbeatRule: Equatable {
    /// Time from the last frame heard to the next ping.
    let interval: Duration
    /// Time a pong may take.
    let timeout: Duration

    /// What to do now.
    enum Decision: Equatable {
        /// Send a ping.
        case ping
        /// Nothing until then.
        case wait(until: UInt64)
        /// The ping went unanswered: give the worker up.
        case timedOut
    }

    /// The heartbeat of `check`; nil when its heartbeat is off.
    init?(_ check: HealthCheck) {
        guard let interval = check.interval else { return nil }
        self.init(interval: interval, timeout: check.timeout)
    }

    /// Pings `interval` after the last frame, allowing `timeout` for each pong.
    init(interval: Duration, timeout: Duration) {
        self.interval = interval
        self.timeout = timeout
    }

    /// How early a due ping may go: an eighth of the interval, at most the clock's look-ahead.
    var leeway: UInt64 { Uptime.nanoseconds(min(interval / 8, WorkerClock.lookAhead)) }

    /// The decision at `now` for a worker last heard from at `lastHeard`, with a ping in flight
    /// since `pingSentAt` (nil: none).
    func decide(now: UInt64, lastHeard: UInt64, pingSentAt: UInt64?) -> Decision {
        if let pingSentAt {
            let expiry = Uptime.after(timeout, from: pingSentAt)
            return now >= expiry ? .timedOut : .wait(until: expiry)
        }
        let due = Uptime.after(interval, from: lastHeard)
        return due <= now || due - now <= leeway ? .ping : .wait(until: due)
    }
}
