#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import Synchronization

/// Clients of the metrics endpoint that each send a whole request and hang up at once, over and
/// over, on `threads` threads of their own until `stop()`. The threads run at the lowest priority,
/// as `ReconnectingCrowd`'s does.
final class HangUpFlood: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)
    /// Requests sent so far.
    let sent = Atomic<Int>(0)

    /// Starts flooding 127.0.0.1:`port`.
    init(threads: Int, port: UInt16) {
        running.store(threads, ordering: .sequentiallyConsistent)
        for _ in 0..<threads {
            startThread { [self] in
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
                while !stopping.load(ordering: .sequentiallyConsistent) {
                    guard let probe = try? HTTPProbe(port: port), (try? probe.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")) != nil else { continue }
                    sent.add(1, ordering: .relaxed)
                }
                running.subtract(1, ordering: .sequentiallyConsistent)
            }
        }
    }

    /// Stops flooding and waits for the threads to end.
    func stop() async throws {
        stopping.store(true, ordering: .sequentiallyConsistent)
        try await waitUntil("the flood stopped") { running.load(ordering: .sequentiallyConsistent) == 0 }
    }
}
