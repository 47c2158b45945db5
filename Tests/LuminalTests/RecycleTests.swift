#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor.Containment {
    /// The first recycling event's reason, waiting for it.
    func firstRecycling(_ events: EventLog) async throws -> RecycleReason {
        try await events.first("recycling event") { event in
            if case .recycling(_, _, let reason) = event { return reason }
            return nil
        }
    }

    @Test func aWorkerIsRecycledAfterItsCallsWithNoCallLost() async throws {
        try await withLoader { loader, folder in
            let events = EventLog(loader)
            let handler = try await started(loader, try package(folder, "counted", #""recycle": {"calls": 200, "interval": 0.05}"#))
            let (_, failures) = try await Supervisor.Watch.calling([handler, handler, handler, handler]) {
                try await waitUntil("two recyclings") {
                    events.events.filter { if case .reloaded = $0 { true } else { false } }.count >= 2
                }
            }
            #expect(failures == [])
            guard case .calls(let count, let limit) = try await firstRecycling(events) else {
                Issue.record("not recycled for its calls")
                return
            }
            #expect(limit == 200 && count >= 200)
            #expect(handler.generation >= 3)
            #expect(handler.snapshot.lastRecycle != nil)
            #expect(handler.statusJSON["recycled"]?.stringValue?.contains("recycle.calls 200") == true)
        }
    }

    @Test func aLeakingWorkerIsRecycledPastItsMemoryThreshold() async throws {
        try await withLoader { loader, folder in
            // The threshold sits above what this build of the worker holds when idle.
            let probe = try await started(loader, folder.chaos("probe"))
            let idle = try #require(await loader.records[probe.filePath].loaded?.core.read { $0.serving.map { Int64($0.connection.tree.usage().residentBytes) } })
            let threshold = idle / 1_048_576 + 48
            let events = EventLog(loader)
            let handler = try await started(loader, try package(folder, "leaky", #""recycle": {"memory": "\#(threshold)M", "interval": 0.05}"#))
            _ = try await handler.call("leak", params: ["mibPerSecond": 100])
            let (reason, failures) = try await Supervisor.Watch.calling([handler, handler]) { try await firstRecycling(events) }
            #expect(failures == [])
            guard case .memory(let bytes, let limit) = reason else {
                Issue.record("not recycled for its memory: \(reason)")
                return
            }
            #expect(limit == threshold << 20 && bytes > limit)
            try await waitUntil("the new generation serving") { handler.generation == 2 }
            #expect(try await handler.call("echo", params: "fresh") == "fresh")
        }
    }

    @Test func aWorkerIsRecycledAtItsAge() async throws {
        try await withLoader { loader, folder in
            let events = EventLog(loader)
            let handler = try await started(loader, try package(folder, "aged", #""recycle": {"age": 1, "interval": 0.05}"#))
            guard case .age(let age, let limit) = try await firstRecycling(events) else {
                Issue.record("not recycled for its age")
                return
            }
            #expect(limit == .seconds(1) && age >= limit)
            try await waitUntil("the new generation serving") { handler.generation >= 2 }
        }
    }
}
