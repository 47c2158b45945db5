/// How many workers a photon file runs at once, its instances, and how many of them a reload
/// replaces at a time (its surge): a manifest's `instances`, or `LoaderConfiguration.instances`.
///
/// Each instance is a worker of its own, restarted, quarantined and recycled on its own; calls to
/// the file's photons go to the started instance with the fewest calls in flight. A reload
/// replaces `surge` instances at a time, each new one serving before its old one stops taking calls.
public struct PoolSize: Sendable, Hashable {
    /// How many instances run.
    public var count: Int
    /// How many instances a reload brings up at once.
    public var surge: Int

    /// The most instances one photon file may run: each is a process, and a typo such as 4000 must
    /// not start that many.
    public static let limit = 64

    /// `count` instances, replaced `surge` at a time (clamped to 1...count).
    public init(count: Int = 1, surge: Int = 1) {
        self.count = count
        self.surge = surge
    }

    /// Why these figures cannot run, if they cannot: a count outside 1...`limit`, a surge outside 1...count.
    package var problem: String? {
        if !(1...Self.limit).contains(count) {
            return "instances must be a whole number from 1 to \(Self.limit), not \(count)"
        }
        if !(1...count).contains(surge) {
            return "instances.surge must be a whole number from 1 to the count (\(count)), not \(surge)"
        }
        return nil
    }
}
