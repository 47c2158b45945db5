/// When a photon file's worker is replaced through the atomic reload although nothing is wrong
/// with it: the remedy for slow leaks (php-fpm's `pm.max_requests`, gunicorn's `max_requests`).
/// The new generation serves before the old one goes; no call is lost.
public struct RecyclePolicy: Sendable, Hashable {
    /// Recycle once the worker's whole tree holds more resident memory than this.
    public var memoryBytes: Int64?
    /// Recycle after this many calls answered by one generation.
    public var calls: Int?
    /// Recycle a generation this old.
    public var age: Duration?
    /// How often memory and age are sampled.
    public var interval: Duration

    /// Never recycles.
    public init(memoryBytes: Int64? = nil, calls: Int? = nil, age: Duration? = nil, interval: Duration = .seconds(1)) {
        self.memoryBytes = memoryBytes
        self.calls = calls
        self.age = age
        self.interval = interval
    }

    /// Whether any trigger is set.
    package var isActive: Bool { memoryBytes != nil || calls != nil || age != nil }
}

/// Why a worker was recycled.
public enum RecycleReason: Sendable, Hashable, CustomStringConvertible {
    /// Its tree held `bytes` resident, over the policy's `memoryBytes`.
    case memory(bytes: Int64, limit: Int64)
    /// It answered `count` calls, at least the policy's `calls`.
    case calls(count: Int, limit: Int)
    /// It had served for `age`, at least the policy's `age`.
    case age(Duration, limit: Duration)

    /// The reason as logs and `status` say it.
    public var description: String {
        switch self {
        case .memory(let bytes, let limit): "held \(bytes / 1_048_576) MiB resident (recycle.memory \(limit / 1_048_576) MiB)"
        case .calls(let count, let limit): "answered \(count) calls (recycle.calls \(limit))"
        case .age(let age, let limit): "served for \(age) (recycle.age \(limit))"
        }
    }
}
