import Dispatch
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Synchronization
import Testing

extension Supervisor {
    /// A worker's output never blocks it, whatever it writes and however slow the log is.
    @Suite struct Output {
        @Test func hundredMegabytesWithoutNewlinesWhileStillAnsweringCalls() async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            let loader = Loader(configuration: .fast)
            let events = loader.events()
            let chunks = Task {
                var count = 0, longest = 0
                for await event in events {
                    guard case .log(let line) = event else { continue }
                    count += 1
                    longest = max(longest, line.text.utf8.count)
                    if count == 1600 { break }
                }
                return (count, longest)
            }
            let flooder = try #require(try await loader.loadPhoton(at: folder.chaos("flooder")).first)
            try await flooder.start()
            let total = 100 * 1024 * 1024
            async let flooded = flooder.call("flood", params: ["bytes": .int(Int64(total))], timeout: .seconds(600))
            for round in 0..<20 { #expect(try await flooder.call("echo", params: .int(Int64(round))) == .int(Int64(round))) }
            #expect(try await flooded == .int(Int64(total)))
            let (count, longest) = await chunks.value
            #expect(count == 1600) // 100 MiB in 64 KiB pieces: long lines are chunked, not dropped
            #expect(longest == OutputCapture.maxLineLength)
            await loader.unloadAll()
        }

        @Test func slowLogSinkDropsAndCountsInsteadOfBlockingTheWorker() async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            let gate = DispatchSemaphore(value: 0)
            let received = Mutex<[LogRecord]>([])
            let loader = Loader(logging: true, configuration: .fast, logSink: { record in
                if record.message == "line 0" { gate.wait() } // the sink stalls on the first line
                received.withLock { $0.append(record) }
            })
            let talker = try #require(try await loader.loadPhoton(at: folder.chaos("talker")).first)
            try await talker.start()
            // The call returns although the sink is stuck: the worker was never blocked.
            _ = try await talker.call("lines", params: ["count": 20_000])
            gate.signal()
            await loader.unloadAll()
            loader.flushLog()
            let records = received.withLock { $0 }
            let notice = try #require(records.first { $0.message.contains("lines were dropped") })
            #expect(notice.level == .warning)
            let dropped = Int(notice.message.split(separator: " ").first { Int($0) != nil } ?? "0") ?? 0
            let delivered = records.filter { $0.message.hasPrefix("line ") }.count
            #expect(dropped > 0 && delivered + dropped >= 20_000)
        }
    }
}
