import LuminalSystem

/// Which logs cannot be written, so that each failure is reported once when it begins and once
/// when it is over, per log (and for the folder), whatever the others do.
///
/// An episode ends only once writing has worked for `hold` since its last failure: a nearly full
/// disk that takes one batch and refuses the next is one episode, not a report per batch.
struct FailureEpisodes {
    /// How long writes must have worked since the last failure before an episode is over: 5 s.
    static let hold: UInt64 = 5_000_000_000

    /// One log's (or the folder's) failure, from its first report on.
    struct Episode {
        /// The error that began it.
        let error: SystemError
        /// When writing last failed, in `Uptime` nanoseconds.
        var lastFailure: UInt64
        /// Lines dropped since it began.
        var dropped: Int
    }

    private var open: [String: Episode] = [:]

    /// Records that writing `key` failed with `error`, dropping `dropped` lines: true if this
    /// begins an episode (to be reported).
    mutating func failed(_ key: String, _ error: SystemError, dropped: Int, at now: UInt64) -> Bool {
        if open[key] != nil {
            open[key]!.lastFailure = now
            open[key]!.dropped += dropped
            return false
        }
        open[key] = Episode(error: error, lastFailure: now, dropped: dropped)
        return true
    }

    /// Records that writing `key` worked: the episode this ends (to be reported), if any.
    mutating func succeeded(_ key: String, at now: UInt64) -> Episode? {
        guard let episode = open[key], now &- episode.lastFailure >= Self.hold else { return nil }
        open[key] = nil
        return episode
    }
}
