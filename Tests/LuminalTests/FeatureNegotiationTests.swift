#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// The hello's features decide what the host sends; bad declarations have defined outcomes.
    @Suite struct FeatureNegotiation {
        @Test(arguments: [[], ["teleport"]])
        func aWorkerWithoutTheFeaturesIsServedAsVersionOneWas(features: [String]) async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.versionOneWorker("old", photon: "old", features: features)).first)
                try await handler.start()
                #expect(try await handler.call("echo", params: ["a": 1], timeout: .seconds(60)) == ["a": 1])
                let error = try await #require(throws: LoaderError.self) { try await handler.call("hang", timeout: .milliseconds(50)) }
                #expect(error.code == .timeout)
                let cancelled = Task { await outcome { () async throws(LoaderError) in try await handler.call("hang", timeout: .seconds(3600)) } }
                try await waitUntil("the call is in flight") { handler.pendingRequests == 1 }
                cancelled.cancel()
                #expect(await cancelled.value.failure?.code == .cancelled)
                // Neither a cancel nor a deadline reached it: it still serves.
                #expect(try await handler.call("echo", params: 2, timeout: .seconds(60)) == 2)
                try await events.catchUp(with: loader)
                #expect(!events.events.contains { if case .log(let line) = $0 { line.text.contains("version-1 worker:") } else { false } })
                #expect(handler.state == .started)
            }
        }

        @Test func aWorkerThatRepliesTwiceToACancelledCallFaults() async throws {
            try await withLoader(configuration: .fastWithoutRestarts) { loader, folder in
                let events = EventLog(loader)
                let file = folder.versionOneWorker("twice", photon: "twice", features: ["cancel"], replyTwiceToCancel: true)
                let handler = try #require(try await loader.loadPhoton(at: file).first)
                try await handler.start()
                let error = try await #require(throws: LoaderError.self) { try await handler.call("hang", timeout: .milliseconds(50)) }
                #expect(error.code == .timeout)
                let reason = try await events.first("protocolFault") { event in
                    if case .protocolFault(let faulted, _, _, let reason) = event, faulted == file { return reason }
                    return nil
                }
                #expect(reason.hasPrefix("unknown reply id"), "\(reason)")
            }
        }

        @Test func aMethodDeclaredIdempotentThatTheHelloDoesNotListFailsTheLoad() async throws {
            try await withLoader { loader, folder in
                let file = folder.versionOneWorker("wrong", photon: "wrong", idempotent: ["echo", "nope"])
                let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: file) }
                #expect(error.code == .invalidHello)
                #expect(error.message.contains(file) && error.message.contains("wrong") && error.message.contains("'nope'"), "\(error.message)")
            }
        }

        @Test(arguments: Supervisor.WorkerRuntimes.Runtime.allCases)
        func aCancelOfAnUnknownOrFinishedCallIsIgnored(runtime: Supervisor.WorkerRuntimes.Runtime) async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            let worker = try RawWorker(runtime.photon(in: folder), in: folder.path)
            #expect(try worker.request(["type": "start", "id": 1, "photon": "p"])["type"] == "result")
            #expect(try worker.request(["type": "call", "id": 2, "photon": "p", "method": "echo", "params": 7]) == ["type": "result", "id": 2, "value": 7])
            worker.send(together: [["type": "cancel", "id": 2], ["type": "cancel", "id": 99]])
            #expect(try worker.request(["type": "ping", "id": 3]) == ["type": "pong", "id": 3])
            worker.send(["type": "shutdown"])
            #expect(await worker.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
        }
    }
}
