import Synchronization

/// The one rate limit of every log line that something outside the supervisor (a client, a
/// photon, a file) can trigger over and over: refused control clients, a full control socket,
/// failed loads and reloads, skipped entries, a falling-behind log.
///
/// Lines are keyed by their kind and, where one culprit must not hide another, their subject (a
/// peer uid, a photon file). Each key is a token bucket: `burst` lines at once, then one every
/// `refill`; a line over the limit is counted instead of written, and the next line of that key
/// that is written says how many were suppressed before it. At most `keyLimit` keys are kept:
/// past it, idle keys are forgotten, and if none is idle the new subject shares its kind's
/// overflow key, so a flood of distinct subjects is limited as one.
package final class WarningLimiter: Sendable {
    /// Lines of one key written at once before the limit applies.
    static let burst = 10
    /// After the burst, one line of a key every this long.
    static let refill: Duration = .seconds(10)
    /// The most keys tracked at once.
    static let keyLimit = 1024

    /// What a line is limited as: its kind, and the peer or file it is about ("" for none).
    struct Key: Hashable {
        /// What happened, e.g. "control.refused".
        let kind: String
        /// Who or what it is about, e.g. "uid 65534" or a photon file's path.
        let subject: String
    }

    /// One key's bucket.
    private struct Bucket {
        /// Lines that may be written now (a fraction is a line on its way back).
        var tokens: Double
        /// When `tokens` was last brought up to date, on the uptime clock.
        var updated: UInt64
        /// Lines suppressed since the last one written.
        var suppressed = 0

        /// Brings `tokens` up to `now`.
        mutating func refill(_ now: UInt64) {
            let elapsed = Double(now &- updated) / Double(Uptime.nanoseconds(WarningLimiter.refill))
            tokens = min(Double(WarningLimiter.burst), tokens + max(0, elapsed))
            updated = max(updated, now)
        }
    }

    private let buckets = Mutex<[Key: Bucket]>([:])
    /// Lines suppressed since the limiter was made.
    private let suppressedEver = Atomic<Int>(0)

    /// A limiter with no key spent.
    package init() {}

    /// Whether a line of `kind` about `subject` may be written at `now`: nil if it is suppressed
    /// (and counted), else how many lines of its key were suppressed since the last one written.
    package func admit(_ kind: String, subject: String = "", now: UInt64 = Uptime.now()) -> Int? {
        let admitted = buckets.withLock { buckets -> Int? in
            var key = Key(kind: kind, subject: subject)
            if buckets[key] == nil, buckets.count >= Self.keyLimit {
                buckets = buckets.filter { _, bucket in
                    var bucket = bucket
                    bucket.refill(now)
                    return bucket.suppressed > 0 || bucket.tokens < Double(Self.burst)
                }
                if buckets.count >= Self.keyLimit { key = Key(kind: kind, subject: "*") }
            }
            var bucket = buckets[key] ?? Bucket(tokens: Double(Self.burst), updated: now)
            bucket.refill(now)
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else {
                bucket.suppressed += 1
                return nil
            }
            bucket.tokens -= 1
            defer { bucket.suppressed = 0 }
            return bucket.suppressed
        }
        if admitted == nil { suppressedEver.add(1, ordering: .relaxed) }
        return admitted
    }

    /// Lines suppressed since the limiter was made.
    package var suppressed: Int { suppressedEver.load(ordering: .relaxed) }

    /// `message`, followed by how many lines like it were suppressed before it, if any.
    package static func noting(_ suppressed: Int, _ message: String) -> String {
        suppressed == 0 ? message : "\(message) (\(suppressed) more like this suppressed)"
    }
}
