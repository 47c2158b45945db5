#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Testing

extension EventLog {
    /// The data of the first event named `name` a photon emitted.
    @discardableResult
    func photonEvent(_ name: String) async throws -> JSONValue {
        try await first("photon event '\(name)'") { event in
            if case .photonEvent(_, _, let emitted, let data) = event, emitted == name { return data }
            return nil
        }
    }
}

extension Supervisor {
    /// A call the host gives up on is cancelled in its worker, whatever the reason.
    @Suite struct Cancellation {
        @Test func aCallPastItsTimeoutIsCancelledInTheWorker() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("c")).first)
                try await handler.start()
                let error = try await #require(throws: LoaderError.self) { try await handler.call("await-cancel", timeout: .milliseconds(50)) }
                #expect(error.code == .timeout)
                try await events.photonEvent("observed")
                // The method's late `cancelled` reply was discarded, not a fault.
                #expect(try await handler.call("echo", params: 1) == 1)
                #expect(handler.state == .started && handler.pendingRequests == 0)
            }
        }

        @Test(arguments: [false, true])
        func aSpinningMethodIsCancelledEvenIfItNeverSuspends(stay: Bool) async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("c")).first)
                try await handler.start()
                // With `stay` it spins on the SDK's reading thread: the standby reads the cancel.
                let error = try await #require(throws: LoaderError.self) {
                    try await handler.call("spin-until-cancelled", params: ["stay": .bool(stay)], timeout: .milliseconds(200))
                }
                #expect(error.code == .timeout)
                try await events.photonEvent("stopped")
                #expect(try await handler.call("echo", params: 3) == 3)
            }
        }

        @Test func cancellingTheCallersTaskCancelsTheMethod() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("c")).first)
                try await handler.start()
                let call = Task { await outcome { () async throws(LoaderError) in try await handler.call("await-cancel", timeout: .seconds(3600)) } }
                try await events.photonEvent("running")
                call.cancel()
                let error = try #require(await call.value.failure, "the call returned")
                #expect(error.code == .cancelled)
                try await events.photonEvent("observed")
                #expect(try await handler.call("echo", params: 2) == 2)
            }
        }

        @Test func anUnloadWhoseDrainTimesOutCancelsTheCallsLeft() async throws {
            var configuration = LoaderConfiguration.fast
            configuration.drainTimeout = .milliseconds(100)
            try await withLoader(configuration: configuration) { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("c")).first)
                try await handler.start()
                let call = Task { await outcome { () async throws(LoaderError) in try await handler.call("await-cancel", timeout: .seconds(3600)) } }
                try await events.photonEvent("running")
                let unloaded = try await loader.unloadPhoton(handler)
                let error = try #require(await call.value.failure, "the call returned")
                #expect(error.code == .cancelled)
                #expect(error.message.contains("drain timeout"), "\(error.message)")
                try await events.photonEvent("observed")
                #expect(unloaded.ending != .killed)
            }
        }

        @Test func ctrlCInLuminalCallCancelsTheCall() async throws {
            let supervised = try await SupervisedFolder { $0.chaos("c") }
            let client = try CommandProcess(["call", "c", "await-cancel", "--control", supervised.control])
            try await supervised.run.line { $0.contains("c running") }
            client.process.signal(SIGINT)
            #expect(try await client.finish() == .exited(code: 130))
            #expect(client.lines.contains { $0.contains("interrupted; the call is cancelled") }, "\(client.lines)")
            try await supervised.run.line { $0.contains("c observed the cancel") }
            try await supervised.stop()
        }

        @Test func aPythonMethodSeesTheCancelAndItsDeadline() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let file = folder.python("p.py", """
                    p = Photon('p')
                    @p.method()
                    def wait(params, ctx):
                        print('p waiting')
                        if ctx.wait_cancelled(3600):
                            print('p observed the cancel' if ctx.cancelled else 'p confused')
                        ctx.check()
                    @p.method()
                    def remaining(params, ctx):
                        return ctx.remaining()
                    @p.method()
                    def give_up(params, ctx):
                        if ctx.remaining() is not None and ctx.remaining() < params:
                            raise PhotonError('deadline_exceeded', 'not enough time left')
                        return 'finished'
                    run(p)
                    """)
                let handler = try #require(try await loader.loadPhoton(at: file, base: nil).first)
                try await handler.start()
                let call = Task { await outcome { () async throws(LoaderError) in try await handler.call("wait", timeout: .seconds(3600)) } }
                try await events.log("p waiting")
                call.cancel()
                let error = try #require(await call.value.failure, "the call returned")
                #expect(error.code == .cancelled)
                try await events.log("p observed the cancel")
                let left = try #require(try await handler.call("remaining", timeout: .seconds(60)).doubleValue)
                #expect(left > 0 && left <= 60)
                // A call with no timeout of its own carries the default one (60 s) as its deadline.
                let byDefault = try #require(try await handler.call("remaining").doubleValue)
                #expect(byDefault > 0 && byDefault <= 60)
                let refused = try await #require(throws: LoaderError.self) { try await handler.call("give_up", params: 120, timeout: .seconds(60)) }
                #expect(refused.reply?.code == "deadline_exceeded")
                #expect(try await handler.call("give_up", params: 0, timeout: .seconds(60)) == "finished")
            }
        }

        @Test func aSwiftMethodSeesItsDeadlineAndCanGiveUpEarly() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("c")).first)
                try await handler.start()
                let left = try #require(try await handler.call("deadline", timeout: .seconds(60)).intValue)
                #expect(left > 0 && left <= 60_000)
                let byDefault = try #require(try await handler.call("deadline").intValue)
                #expect(byDefault > 0 && byDefault <= 60_000)
                // A wait longer than any deadline_ms is written as the longest, 2^53 - 1 ms.
                let longest = try #require(try await handler.call("deadline", timeout: .seconds(Int64.max)).intValue)
                #expect(longest > (1 << 53) - 1 - 600_000 && longest <= (1 << 53) - 1, "\(longest)")
                let refused = try await #require(throws: LoaderError.self) { try await handler.call("give-up", params: ["ms": 120_000], timeout: .seconds(60)) }
                #expect(refused.code == .photonError && refused.reply?.code == "deadline_exceeded")
                #expect(refused.message.contains("c ") && refused.message.contains(handler.filePath))
                #expect(try await handler.call("give-up", params: ["ms": 0], timeout: .seconds(60)) == "finished")
            }
        }
    }
}
