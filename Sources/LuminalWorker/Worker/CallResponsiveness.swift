import LuminalSystem

/// Whether a worker answers its calls, apart from its heartbeat. Pure: instants are on the uptime
/// clock, in nanoseconds.
///
/// A worker is *unresponsive* once `timeoutsInARow` of its calls in a row passed their deadline
/// in flight on it, with no reply (result or error) to any call between them: it may still answer
/// pings (its reader thread is free while every method thread is blocked, or a method spins past
/// its cancel), so the heartbeat cannot see it. Its next reply to a call makes it responsive
/// again. With `replaceAfter` set (a manifest's `health.unresponsive`), a worker unresponsive
/// that long is given up and restarted like one that missed its heartbeat.
package struct CallResponsiveness: Equatable {
    /// Calls in a row that time out, with no reply between them, that make a worker unresponsive.
    static let timeoutsInARow = 3

    /// How long it may stay unresponsive before it is given up; nil: it is only reported.
    var replaceAfter: Duration?
    /// Calls in a row that timed out since the last reply to a call.
    private(set) var timeouts = 0
    /// Since when it is unresponsive; nil while it is not.
    private(set) var since: UInt64?

    /// What a change of responsiveness asks the worker to report.
    package enum Change: Equatable {
        /// Nothing changed.
        case none
        /// It just became unresponsive, after this many timeouts in a row.
        case unresponsive(timeouts: Int)
        /// It answered a call again.
        case responsive
    }

    /// A call timed out at `now` while in flight on it.
    mutating func timedOut(now: UInt64) -> Change {
        timeouts += 1
        guard since == nil, timeouts >= Self.timeoutsInARow else { return .none }
        since = now
        return .unresponsive(timeouts: timeouts)
    }

    /// It replied to a call.
    package mutating func answered() -> Change {
        timeouts = 0
        guard since != nil else { return .none }
        since = nil
        return .responsive
    }

    /// When it is to be given up, if it is unresponsive and may be replaced.
    var giveUpAt: UInt64? {
        guard let since, let replaceAfter else { return nil }
        return Uptime.after(replaceAfter, from: since)
    }
}
