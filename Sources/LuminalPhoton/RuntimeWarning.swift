#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A warning the runtime writes about itself on stderr (the photon's log), at most once every
/// `interval`; the next one written says how many were left out meanwhile.
final class RuntimeWarning: Sendable {
    /// The least time between two warnings of one kind.
    static let interval: Duration = .seconds(10)

    private let state = Mutex<(last: ContinuousClock.Instant?, suppressed: Int)>((nil, 0))

    /// A kind of warning none of which was written yet.
    init() {}

    /// Writes "luminal photon: `message`" unless one was written less than `interval` ago.
    func write(_ message: @autoclosure () -> String) {
        let now = ContinuousClock.now
        let suppressed = state.withLock { state -> Int? in
            if let last = state.last, last.duration(to: now) < Self.interval {
                state.suppressed += 1
                return nil
            }
            defer { state = (now, 0) }
            return state.suppressed
        }
        guard let suppressed else { return }
        let note = suppressed == 0 ? "" : " (\(suppressed) more like this suppressed)"
        let line = Array("luminal photon: \(message())\(note)\n".utf8)
        line.withUnsafeBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
