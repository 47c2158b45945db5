#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Synchronization
import Testing

extension Supervisor {
    /// What the supervisor holds on behalf of one photon stays bounded, whatever the photon does.
    @Suite struct WorkerBounds {
        @Test func aPhotonThatStopsReadingCostsABoundedAmountAndRecovers() async throws {
            // Heartbeats off: a worker that reads nothing misses them and is killed (tested on its
            // own, with SIGSTOP), and under a sanitizer this test outlasts the default interval.
            var configuration = LoaderConfiguration.fast
            configuration.health.interval = nil
            try await withLoader(configuration: configuration) { loader, folder in
                let path = folder.chaos("deaf", mode: "raw")
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                try await handler.start()
                #expect(try await handler.call("deafen") == 1)
                // The supervisor is this process: 200 calls of 1 MiB each to a worker that reads none.
                let worker = handler.servingWorker
                let before = try #require(residentBytes(of: getpid()))
                let params = JSONValue.string(String(repeating: "p", count: 1 << 20))
                let answered = Counter()
                let (outcomes, held) = try await withThrowingTaskGroup(of: Result<JSONValue, LoaderError>.self) { group in
                    for _ in 0..<200 {
                        group.addTask {
                            defer { answered.increment() }
                            return await outcome { () async throws(LoaderError) -> JSONValue in try await handler.call("echo", params: params, timeout: .seconds(3600)) }
                        }
                    }
                    try await waitUntil("every call refused or waiting") {
                        answered.value + worker.state.withLock { $0.pending.count } == 200
                    }
                    let held = try #require(residentBytes(of: getpid()))
                    // Their callers give up: the calls are abandoned.
                    group.cancelAll()
                    return (try await group.reduce(into: []) { $0.append($1) }, held)
                }
                let after = try #require(residentBytes(of: getpid()))
                let bound = memoryBound(mebibytes: 100)
                #expect(held - before < bound, "RSS grew by \((held - before) >> 20) MiB")
                #expect(after - before < bound, "RSS still \((after - before) >> 20) MiB above where it was")

                let errors = outcomes.compactMap { if case .failure(let error) = $0 { error } else { nil } }
                #expect(errors.count == 200)
                let refused = errors.filter { $0.code.rawValue == "overloaded" }
                #expect(refused.count > 100)
                #expect(errors.allSatisfy { $0.code.rawValue == "overloaded" || $0.code == .cancelled })
                let message = try #require(refused.first?.message)
                #expect(message.contains("deaf") && message.contains(path) && message.contains("limit"), "\(message)")

                // Reading again, it gets the one call whose frame had started, then the next: the
                // abandoned frames were dropped, not kept for it.
                kill(handler.pid, SIGUSR1)
                #expect(try await handler.call("echo", timeout: testDeadline) == 3)
                #expect(handler.state == .started)
            }
        }

        @Test func abandonedRequestsAreRememberedWithinABound() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("mute", mode: "raw")).first)
                let worker = handler.servingWorker
                // As if 70,000 calls had reached the worker and been abandoned, never answered.
                let kept = worker.state.withLock { state in
                    for id in Int64(1)...70_000 { state.abandoned.insert(id) }
                    return state.abandoned.count
                }
                #expect(kept <= 65_536)
                // A late reply, even to one no longer listed, is still dropped quietly.
                worker.queue.sync { worker.complete(1, isPong: false, .success(nil), heardAt: Uptime.now()) }
                worker.queue.sync { worker.complete(70_000, isPong: false, .success(nil), heardAt: Uptime.now()) }
                #expect(worker.protocolFault == nil)
            }
        }
    }
}

/// A count shared by tasks.
private final class Counter: Sendable {
    private let count = Atomic(0)

    var value: Int { count.load(ordering: .relaxed) }

    func increment() {
        count.add(1, ordering: .relaxed)
    }
}
