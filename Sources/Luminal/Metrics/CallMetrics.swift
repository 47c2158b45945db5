import LuminalSystem
import LuminalWorker
import Synchronization

/// What one photon's calls came to: how many ended each way, how long they took (a histogram with
/// fixed buckets) and how many are in flight.
///
/// Updated on the call path with relaxed atomic additions only: no lock and no allocation per
/// call. A reading is not one instant across counters (a call may be counted in flight and ended
/// within one reading), which Prometheus' counters tolerate.
final class CallMetrics: Sendable {
    /// The upper bounds of the duration buckets, in seconds; a last bucket takes the rest (`+Inf`).
    static let bucketBounds: [Double] = [0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05,
                                         0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    private static let boundNanoseconds: InlineArray<16, UInt64> = InlineArray { UInt64((bucketBounds[$0] * 1e9).rounded()) }

    /// Calls per outcome, indexed by `CallOutcome.rawValue` (one slot per case).
    private let outcomes: InlineArray<12, Atomic<UInt64>> = InlineArray { _ in Atomic(0) }
    /// Calls per bucket (not cumulative); the last one is past every bound.
    private let buckets: InlineArray<17, Atomic<UInt64>> = InlineArray { _ in Atomic(0) }
    private let nanoseconds = Atomic<UInt64>(0)
    private let inFlight = Atomic<Int>(0)
    /// Calls begun and ended so far, counted after everything else a call changes (`changes`).
    private let changeCount = Atomic<UInt64>(0)

    /// A call begins; returns its start, to pass to `ended`.
    func began() -> UInt64 {
        inFlight.wrappingAdd(1, ordering: .relaxed)
        changeCount.wrappingAdd(1, ordering: .releasing)
        return Uptime.now()
    }

    /// The call that began at `start` ended as `outcome`.
    func ended(_ outcome: CallOutcome, since start: UInt64) {
        let took = Uptime.now() &- start
        var bucket = 0
        while bucket < 16, took > Self.boundNanoseconds[bucket] { bucket += 1 }
        buckets[bucket].wrappingAdd(1, ordering: .relaxed)
        nanoseconds.wrappingAdd(took, ordering: .relaxed)
        outcomes[outcome.rawValue].wrappingAdd(1, ordering: .relaxed)
        inFlight.wrappingSubtract(1, ordering: .relaxed)
        changeCount.wrappingAdd(1, ordering: .releasing)
    }

    /// Calls begun and ended so far. Counted last, so a reading taken after it shows at least
    /// what it counts: while it stays the same, a reading taken after an earlier value of it
    /// shows everything (a call still being counted makes it change again when it is).
    var changes: UInt64 {
        changeCount.load(ordering: .acquiring)
    }

    /// The counters as they are now.
    var reading: CallReading {
        var reading = CallReading()
        var cumulative: UInt64 = 0
        for index in 0..<17 {
            cumulative += buckets[index].load(ordering: .relaxed)
            reading.cumulativeBuckets[index] = cumulative
        }
        for index in 0..<12 { reading.outcomes[index] = outcomes[index].load(ordering: .relaxed) }
        reading.nanoseconds = nanoseconds.load(ordering: .relaxed)
        reading.inFlight = max(0, inFlight.load(ordering: .relaxed))
        return reading
    }
}

/// How a call ended, as the metrics count it: `ok`, or the loader's error code.
enum CallOutcome: Int, CaseIterable, Sendable {
    case ok, photonError, timeout, cancelled, workerExited, poisonCall, overloaded, unloaded, notStarted, requestTooLarge, noProtocol, other

    /// The outcome of a call that failed with `code`.
    init(_ code: LoaderError.Code) {
        self = Self.allCases.first { $0 != .ok && $0 != .other && $0.label == code.rawValue } ?? .other
    }

    /// The `outcome` label: "ok", or the error code's name ("photonError", "timeout", …).
    var label: String { "\(self)" }
}

/// One reading of a photon's `CallMetrics`, held inline: taking one allocates nothing.
struct CallReading: Sendable, Equatable {
    /// Calls ended, indexed by `CallOutcome.rawValue`.
    fileprivate(set) var outcomes: InlineArray<12, UInt64> = InlineArray(repeating: 0)
    /// Calls that took at most each bound of `CallMetrics.bucketBounds`, then all of them.
    fileprivate(set) var cumulativeBuckets: InlineArray<17, UInt64> = InlineArray(repeating: 0)
    /// The time all ended calls took, in nanoseconds.
    fileprivate(set) var nanoseconds: UInt64 = 0
    /// Calls begun and not yet ended.
    fileprivate(set) var inFlight = 0

    /// Every call that ended.
    var count: UInt64 { cumulativeBuckets[16] }
    /// The time all ended calls took, in seconds.
    var seconds: Double { Double(nanoseconds) / 1e9 }

    static func == (left: CallReading, right: CallReading) -> Bool {
        guard left.nanoseconds == right.nanoseconds, left.inFlight == right.inFlight else { return false }
        for index in 0..<17 where left.cumulativeBuckets[index] != right.cumulativeBuckets[index] { return false }
        for index in 0..<12 where left.outcomes[index] != right.outcomes[index] { return false }
        return true
    }
}
