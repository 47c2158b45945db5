#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import Synchronization

/// Clients of the metrics endpoint that each send one byte of a request and never finish it, and
/// connect again as soon as the server closes them, on a thread of their own until `stop()`.
/// The thread runs at the lowest priority (on Linux, `setpriority` with 0 names the calling thread): a crowd elsewhere on the network takes none of the
/// scrapers' CPU, and here it would otherwise hold a scraper off between its connection and its
/// request while the crowd turned over every place.
final class ReconnectingCrowd: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    /// How many times the server closed one of them.
    let reconnections = Atomic<Int>(0)

    /// Opens `count` such clients to 127.0.0.1:`port`.
    init(count: Int, port: UInt16) throws {
        let first = try (0..<count).map { _ in try Self.connect(port) }
        startThread { [self] in run(first, port) }
    }

    /// Stops reconnecting, closes every client and waits for the thread to end.
    func stop() async throws {
        stopping.store(true, ordering: .sequentiallyConsistent)
        try await waitUntil("the crowd stopped") { stopped.load(ordering: .sequentiallyConsistent) }
    }

    private func run(_ first: [Int32], _ port: UInt16) {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        var fds = first
        while !stopping.load(ordering: .sequentiallyConsistent) {
            var polled = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&polled, nfds_t(polled.count), 50) > 0 else { continue }
            fds = polled.compactMap { entry in
                guard entry.revents != 0 else { return entry.fd }
                close(entry.fd)
                reconnections.add(1, ordering: .relaxed)
                return try? Self.connect(port)
            }
        }
        fds.forEach { close($0) }
        stopped.store(true, ordering: .sequentiallyConsistent)
    }

    /// A connection that has sent one byte of its request.
    private static func connect(_ port: UInt16) throws -> Int32 {
        let probe = try HTTPProbe(port: port)
        try probe.send("G")
        return probe.release()
    }
}
