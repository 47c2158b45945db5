/// How many workers a photon file runs at once, its instances, and how many of them a reload
/// replaces at a time (its surge): a manifest's `instances`, or `LoaderConfiguration.instances`.
///
/// Each instance is a worker of its own, restarted, quarantined and recycled on its own; calls to
/// the file's photons go to the started instance with the fewest calls in flight. A reload
/// replaces `surge` instances at a time, each new one serving before its old one stops taking
/// calls. With a `max` above `count`, the pool grows by one instance whenever a call finds every
/// instance busy, up to `max`, and shrinks by one after `linger` with an instance to spare, down
/// to `count`.
public struct PoolSize: Sendable, Hashable {
    /// How many instances run: all of them, or the fewest a pool that scales keeps.
    public var count: Int
    /// The most instances it scales up to; `count` for a fixed pool.
    public var max: Int
    /// How many instances a reload brings up at once.
    public var surge: Int
    /// How long a pool that scales must have had an instance to spare before it stops one.
    public var linger: Duration

    /// The most instances one photon file may run: each is a process, and a typo such as 4000 must
    /// not start that many.
    public static let limit = 64

    /// `count` instances (up to `max` when it is larger), replaced `surge` at a time, one stopped
    /// after `linger` to spare; as given (`problem` says what is wrong).
    public init(count: Int = 1, max: Int? = nil, surge: Int = 1, linger: Duration = .seconds(30)) {
        self.count = count
        self.max = max ?? count
        self.surge = surge
        self.linger = linger
    }

    /// Whether the pool grows and shrinks with its calls.
    public var scales: Bool { max > count }

    /// These figures brought within the bounds `problem` checks.
    package var clamped: PoolSize {
        let count = Swift.min(Swift.max(count, 1), Self.limit)
        let most = Swift.min(Swift.max(max, count), Self.limit)
        return PoolSize(count: count, max: most, surge: Swift.min(Swift.max(surge, 1), most),
                        linger: Swift.min(Swift.max(linger, .seconds(1)), .seconds(86_400)))
    }

    /// Why these figures cannot run, if they cannot: a count outside 1...`limit`, a max below the
    /// count or above `limit`, a surge outside 1...max, a linger outside 1 s...1 day.
    package var problem: String? {
        if !(1...Self.limit).contains(count) {
            return "'instances' must be a whole number from 1 to \(Self.limit), not \(count)"
        }
        if !(count...Self.limit).contains(max) {
            return "'instances.max' must be a whole number from min (\(count)) to \(Self.limit), not \(max)"
        }
        if !(1...max).contains(surge) {
            return "'instances.surge' must be a whole number from 1 to the most instances (\(max)), not \(surge)"
        }
        if linger < .seconds(1) || linger > .seconds(86_400) {
            return "'instances.linger' must be a number of seconds from 1 to 86400, not \(linger)"
        }
        return nil
    }
}
