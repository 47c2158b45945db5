@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Synchronization
import Testing

extension Supervisor {
    @Suite struct LoggingAndTimeouts {
        @Test func photonOutputReachesTheLogSinkTaggedWithThePhoton() async throws {
            let records = Mutex<[LogRecord]>([])
            let folder = PhotonFolder()
            defer { folder.remove() }
            let loader = Loader(logging: true, configuration: .fast, logSink: { record in records.withLock { $0.append(record) } })
            let events = EventLog(loader)
            let handler = try #require(try await loader.loadPhoton(at: folder.chaos("talker")).first)
            try await handler.start()
            _ = try await handler.call("print", params: ["text": "to stderr", "stderr": true])
            let line = try await events.log("to stderr")
            #expect(line.stream == .stderr)
            #expect(line.photons == ["talker"])
            loader.flushLog()
            let record = try #require(records.withLock { $0.first { $0.message == "to stderr" } })
            #expect(record.tag == "talker")
            #expect(record.level == .warning)
            #expect(records.withLock { $0.contains { $0.tag == nil && $0.message.contains("loaded talker") } })
            await loader.unloadAll()
        }

        @Test func silentLoaderLogsNothing() async throws {
            let records = Mutex<Int>(0)
            let folder = PhotonFolder()
            defer { folder.remove() }
            let loader = Loader(configuration: .fast, logSink: { _ in records.withLock { $0 += 1 } })
            let events = EventLog(loader)
            let handler = try #require(try await loader.loadPhoton(at: folder.chaos("quiet")).first)
            try await handler.start()
            try await events.log("quiet started")
            await loader.unloadAll()
            loader.flushLog()
            #expect(records.withLock { $0 } == 0)
        }

        @Test func cancellingTheCallerAbandonsTheCall() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("stuck")).first)
                try await handler.start()
                let pending = { handler.pendingRequests }
                let caller = Task { await outcome { () async throws(LoaderError) in try await handler.call("hang") } }
                try await waitUntil("hang in flight") { pending() == 1 }
                caller.cancel()
                guard case .failure(let error) = await caller.value else {
                    Issue.record("a call to 'hang' returned")
                    return
                }
                #expect(error.code == .cancelled)
                #expect(error.message.contains("hang"))
                #expect(pending() == 0)
                #expect(try await handler.call("echo", params: 1) == 1)
            }
        }

        @Test func timedOutCallFailsAndItsLateReplyIsDropped() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("slow")).first)
                try await handler.start()
                let error = try await #require(throws: LoaderError.self) {
                    try await handler.call("sleep", params: ["ms": 300], timeout: .milliseconds(20))
                }
                #expect(error.code == .timeout)
                #expect(error.message.contains("sleep"))
                // The late reply arrives while this call waits; the worker must not be faulted for it.
                #expect(try await handler.call("sleep", params: ["ms": 600]) == "slept")
                #expect(handler.state == .started)
            }
        }
    }
}
