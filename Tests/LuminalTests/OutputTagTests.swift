@testable import Luminal
import LuminalWire
import Synchronization
import Testing

extension Supervisor {
    /// A worker's output is tagged with its photons' names throughout the file's life: when its
    /// generation serves, comes up in a reload, or retires.
    @Suite struct OutputTags {
        @Test func theOutputOfEveryGenerationOfAReloadCarriesThePhotonNameNotTheFileName() async throws {
            let records = Mutex<[LogRecord]>([])
            try await withLoader(logSink: { record in records.withLock { $0.append(record) } }) { loader, folder in
                let events = EventLog(loader)
                // The file's name is not its photon's: a tag by file name would show.
                let alpha = try #require(try await loader.loadPhoton(at: folder.chaos("alpha-file", photon: "alpha")).first)
                try await alpha.start()
                try await loader.reloadPhoton("alpha")
                // Generation 2 started while coming up; generation 1 ran its finalizer while retiring.
                let lines = try await events.satisfy("both starts and the finalizer") { events -> [LogLine]? in
                    let lines = events.compactMap { if case .log(let line) = $0, line.text.hasPrefix("alpha ") { line } else { nil } }
                    return lines.count == 3 ? lines : nil
                }
                #expect(lines.map(\.photons) == [["alpha"], ["alpha"], ["alpha"]], "\(lines)")
                // Each line is logged before its event is emitted.
                loader.flushLog()
                let tags = records.withLock { $0 }.filter { $0.message.hasPrefix("alpha ") }.map(\.tag)
                #expect(tags == ["alpha", "alpha", "alpha"], "\(tags)")
            }
        }

        @Test func aLineWrittenBeforeTheHelloCarriesItsWorkersPid() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let path = folder.script("early", "echo early words\nexec '\(BuildProducts.chaosPhoton)' serve early")
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                let line = try await events.log("early words")
                #expect(line.pid == handler.pid && line.pid > 0 && line.file == path, "\(line)")
                try await loader.restartPhoton("early")
                let again = try await events.satisfy("the restarted generation's early line") { events -> LogLine? in
                    events.compactMap { if case .log(let line) = $0, line.text == "early words" { line } else { nil } }.dropFirst().first
                }
                #expect(again.pid == handler.pid && again.pid != line.pid, "\(again)")
            }
        }
    }
}
