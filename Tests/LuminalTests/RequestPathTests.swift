@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// A request's way there and back: replies read on the event loop's thread, a turn at a
    /// time, and deadlines kept by the one clock.
    @Suite struct RequestPath {
        /// A 2 MiB reply takes several turns of reading (256 KiB each); it arrives whole, and the
        /// small replies around it arrive too.
        @Test func aReplyLongerThanATurnOfReadingArrivesWhole() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("large")).first)
                try await handler.start()
                let large = JSONValue.string(String(repeating: "r", count: 2 << 20))
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    group.addTask { try await handler.call("echo", params: large) == large }
                    for round in 0..<20 {
                        group.addTask { try await handler.call("echo", params: .int(Int64(round))) == .int(Int64(round)) }
                    }
                    for try await matched in group { #expect(matched) }
                }
            }
        }

        /// A deadline earlier than every deadline the clock holds is met, and the later one is
        /// left waiting; cancelling its caller still abandons it.
        @Test(.timeLimit(.minutes(1))) // a deadline the clock missed would wait out the hour
        func anEarlierDeadlineSentAfterALaterOneIsMet() async throws {
            // Nothing else for the clock to look at in the meantime.
            var configuration = LoaderConfiguration.fast
            configuration.health.interval = nil
            configuration.startTimeout = .seconds(3600)
            try await withLoader(configuration: configuration) { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("late")).first)
                try await handler.start()
                let pending = { handler.pendingRequests }
                let patient = Task { await outcome { () async throws(LoaderError) in try await handler.call("hang", timeout: .seconds(3600)) } }
                try await waitUntil("the patient call in flight") { pending() == 1 }
                let error = try await #require(throws: LoaderError.self) { try await handler.call("hang", timeout: .milliseconds(50)) }
                #expect(error.code == .timeout)
                #expect(pending() == 1)
                patient.cancel()
                guard case .failure(let cancelled) = await patient.value else {
                    Issue.record("a call to 'hang' returned")
                    return
                }
                #expect(cancelled.code == .cancelled)
                #expect(try await handler.call("echo", params: "after", timeout: .seconds(3600)) == "after")
            }
        }
    }
}
