@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// The Swift SDK runs a method that does not suspend on its reading thread; a method that
    /// blocks that thread does not stop pings, nor the requests behind it.
    @Suite struct SDKCallPath {
        @Test func aMethodBlockingTheReaderLongerThanTheHeartbeatTimeoutLeavesTheWorkerHealthy() async throws {
            var configuration = LoaderConfiguration.fastWithoutRestarts
            configuration.health = HealthCheck(interval: .milliseconds(100), timeout: .seconds(1))
            try await withLoader(configuration: configuration) { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("blocker")).first)
                try await handler.start()
                let pid = handler.pid
                // Three heartbeat timeouts long: the worker is killed unless pings are answered meanwhile.
                async let blocked = outcome { () async throws(LoaderError) in try await handler.call("block", params: ["ms": 3000]) }
                try await events.log("blocker blocking")
                let worker = handler.servingWorker
                #expect(try await worker.send(.ping, timeout: testDeadline) == .null)
                let tallies = 8
                let replies = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                    for index in 0..<tallies {
                        group.addTask { try await handler.call("tally", params: .int(Int64(index))) }
                    }
                    return try await group.reduce(into: [JSONValue]()) { $0.append($1) }
                }
                #expect(Set(replies.compactMap { $0["params"]?.intValue }) == Set((0..<tallies).map(Int64.init)))
                #expect(try await blocked.get() == .int(Int64(tallies)))
                #expect(handler.state == .started)
                #expect(handler.pid == pid && isAlive(pid))
                try await events.catchUp(with: loader)
                #expect(!events.events.contains { event in
                    switch event {
                    case .failed, .killed, .crashed, .protocolFault: true
                    default: false
                    }
                }, "\(events.events)")
            }
        }

        @Test func aPingReadBehindThreeBlockedCallsIsAnsweredFirst() async throws {
            let blockedCalls = 3
            let folder = PhotonFolder()
            defer { folder.remove() }
            let worker = try RawWorker(folder.chaos("p"), in: folder.path)
            #expect(try worker.request(["type": "start", "id": 1, "photon": "p"])["type"] == "result")
            // Twice: the second time, the threads that were stuck stand by again.
            for round in 0..<2 {
                let base = Int64(100 * round + 10)
                let blocks: [JSONValue] = (0..<blockedCalls).map { index in
                    ["type": "call", "id": .int(base + Int64(index)), "photon": "p", "method": "block", "params": ["ms": 2000]]
                }
                worker.send(together: blocks + [["type": "ping", "id": .int(base + 99)]])
                // Each blocked call holds the thread that read it, until another takes over reading.
                #expect(try worker.receive() == ["type": "pong", "id": .int(base + 99)])
                let results = try (0..<blockedCalls).map { _ in try worker.receive() }
                #expect(Set(results.compactMap { $0["id"]?.intValue }) == Set((0..<blockedCalls).map { base + Int64($0) }))
                #expect(results.allSatisfy { $0["type"] == "result" })
            }
            worker.send(["type": "shutdown"])
            #expect(await worker.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
        }

        @Test func requestsReadTogetherAreEachAnsweredOnce() async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            let worker = try RawWorker(folder.chaos("p"), in: folder.path)
            #expect(try worker.request(["type": "start", "id": 1, "photon": "p"])["type"] == "result")
            // Calls answered on the reading thread, calls that suspend first, pings and refusals.
            let requests: [JSONValue] = (Int64(2)..<402).map { id in
                switch id % 5 {
                case 0: ["type": "ping", "id": .int(id)]
                case 1: ["type": "call", "id": .int(id), "photon": "p", "method": "sleep", "params": ["ms": 1]]
                case 2: ["type": "call", "id": .int(id), "photon": "p", "method": "nope"]
                case 3: ["type": "start", "id": .int(id), "photon": "p"]
                default: ["type": "call", "id": .int(id), "photon": "p", "method": "echo", "params": .int(id)]
                }
            }
            worker.send(together: requests)
            var ids: [Int64] = []
            for _ in requests { ids.append(try #require(try worker.receive()["id"]?.intValue)) }
            #expect(ids.sorted() == Array(2..<402))
            #expect(try worker.request(["type": "ping", "id": 500]) == ["type": "pong", "id": 500])
            worker.send(["type": "shutdown"])
            #expect(await worker.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
        }
    }
}
