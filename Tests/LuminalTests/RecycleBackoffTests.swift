#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
import Synchronization
import Testing

extension Supervisor.Containment {
    @Test func aVersionThatCannotComeUpIsRecycledOnlyAtTheBackoffsPace() async throws {
        var configuration = LoaderConfiguration.fast
        configuration.restart.initialDelay = .milliseconds(200)
        configuration.restart.quarantineAfter = 4
        configuration.restart.quarantineRetry = .seconds(3600)
        let lines = Mutex<[String]>([])
        let loader = Loader(logging: true, configuration: configuration) { record in
            if record.tag == nil { lines.withLock { $0.append("\(record.level): \(record.message)") } }
        }
        let folder = PhotonFolder()
        defer { folder.remove() }
        let events = EventLog(loader)
        let path = try package(folder, "aged", #""recycle": {"age": 1, "interval": 0.05}"#)
        let handler = try await started(loader, path)
        // A broken version is saved (nobody watches): every recycling must bring it up, and fails.
        folder.script("aged/broken", "echo 'this version cannot start' >&2; exit 3")
        folder.write("aged/photon.json", #"{"exec": "broken", "recycle": {"age": 1, "interval": 0.05}}"#)
        @Sendable func failures(_ events: [LoaderEvent]) -> [(failures: Int, retryIn: Duration)] {
            events.compactMap { if case .recycleFailed(path, 1, let failures, let retryIn, _) = $0 { (failures, retryIn) } else { nil } }
        }
        @Sendable func attempts(_ events: [LoaderEvent]) -> Int {
            events.filter { if case .reloadStarted(path, _) = $0 { true } else { false } }.count
        }
        _ = try await events.satisfy("a first failed recycling") { failures($0).first }
        let quarantined = try await events.satisfy("recycling held back for the quarantine retry") { events in
            failures(events).first { $0.failures == 4 }
        }
        #expect(quarantined.retryIn == .seconds(3600))
        try await events.catchUp(with: loader)
        // Between the first failure and the fourth there were exactly the attempts the backoff allows.
        let seen = events.events
        #expect(failures(seen).map(\.failures) == [1, 2, 3, 4])
        #expect(attempts(seen) == 4, "\(attempts(seen)) recycling attempts")
        #expect(failures(seen).map(\.retryIn).dropLast().allSatisfy { $0 < .seconds(1) })
        loader.context.log.flush()
        let reported = lines.withLock { $0.filter { $0.contains("recycling photon file \(path) failed") } }
        #expect(reported.count == 4, "\(reported)")
        #expect(reported.last?.hasPrefix("error:") == true && reported.last?.contains("retried every") == true, "\(reported)")
        // The old generation served throughout.
        #expect(handler.generation == 1)
        #expect(try await handler.call("echo", params: "still") == "still")
        await loader.unloadAll(forceStop: true)
    }
}
