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

    /// A call begins; returns its start, to pass to `ended`.
    func began() -> UInt64 {
        inFlight.wrappingAdd(1, ordering: .relaxed)
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
    }

    /// The counters as they are now.
    var reading: CallReading {
        var cumulative: UInt64 = 0
        let counts = (0..<17).map { index -> UInt64 in
            cumulative += buckets[index].load(ordering: .relaxed)
            return cumulative
        }
        return CallReading(outcomes: CallOutcome.allCases.map { outcomes[$0.rawValue].load(ordering: .relaxed) },
                           cumulativeBuckets: counts, seconds: Double(nanoseconds.load(ordering: .relaxed)) / 1e9,
                           inFlight: max(0, inFlight.load(ordering: .relaxed)))
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

/// One reading of a photon's `CallMetrics`.
struct CallReading: Sendable {
    /// Calls ended, indexed by `CallOutcome.rawValue`.
    let outcomes: [UInt64]
    /// Calls that took at most each bound of `CallMetrics.bucketBounds`, then all of them.
    let cumulativeBuckets: [UInt64]
    /// The time all ended calls took, in seconds.
    let seconds: Double
    /// Calls begun and not yet ended.
    let inFlight: Int

    /// Every call that ended.
    var count: UInt64 { cumulativeBuckets.last ?? 0 }
}
