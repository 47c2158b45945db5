import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
import Testing

extension Supervisor {
    /// Output a photon floods is held in bounded amounts, whatever the log sink does.
    @Suite struct LogBounds {
        @Test func aStalledLogSinkHoldsABoundedAmountOfAFloodedOutput() async throws {
            // The sink stalls on its first record until released, as a blocked stderr would.
            let gate = DispatchSemaphore(value: 0)
            let loader = Loader(logging: true, configuration: .fast) { _ in
                gate.wait()
                gate.signal()
            }
            let folder = PhotonFolder()
            defer { folder.remove() }
            let handler = try #require(try await loader.loadPhoton(at: folder.chaos("flood")).first)
            try await handler.start()
            // The supervisor is this process: 128 MiB of output in lines of 64 KiB.
            let before = try #require(residentBytes(of: getpid()))
            let total = 128 << 20
            #expect(try await handler.call("flood", params: ["bytes": .int(Int64(total))], timeout: .seconds(600)) == .int(Int64(total)))
            // Once the worker exits its last output is read: all of the flood has reached the log.
            _ = try? await handler.call("crash", params: ["exit": 0])
            try await waitUntil("the worker's exit seen") { handler.state != .started }
            let held = try #require(residentBytes(of: getpid()))
            gate.signal()
            loader.flushLog()
            await loader.unloadAll(forceStop: true)
            #expect(held - before < memoryBound(mebibytes: 64), "RSS grew by \((held - before) >> 20) MiB")
        }
    }
}

extension Supervisor.LogBounds {
    @Test func theLogBookOfLuminalRunHoldsABoundedAmountOfAFloodedOutput() async throws {
        let supervisor = try await SupervisedFolder { $0.chaos("first") }
        let pid = supervisor.run.process.pid
        let before = try #require(residentBytes(of: pid))
        // 128 MiB of output in lines of 64 KiB: more than the log book's 2,000 records.
        let total = 128 << 20
        #expect(try await supervisor.client("call", "first", "flood", #"{"bytes": \#(total)}"#, "--timeout", "600").output == ["\(total)"])
        // The newest lines are kept (after them, perhaps, a note that the log fell behind). While
        // the log's queue is still full of the flood, a new line is dropped: it is printed again
        // until one gets through.
        try await waitUntil("a line after the flood in the log book") {
            _ = try await supervisor.client("call", "first", "print", #"{"text": "after the flood"}"#)
            return try await supervisor.client("logs", "-n", "3").output.contains { $0.hasSuffix("[first] after the flood") }
        }
        let grown = try #require(residentBytes(of: pid)) - before
        #expect(grown < memoryBound(mebibytes: 64), "RSS grew by \(grown >> 20) MiB")
        try await supervisor.stop()
    }
}
