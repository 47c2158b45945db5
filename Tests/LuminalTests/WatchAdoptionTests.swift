#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalTestKit
import LuminalWire
import Synchronization
import Testing

extension Supervisor.Watch {
    /// Records every log record a loader writes.
    final class LogRecords: Sendable {
        private let records = Mutex<[LogRecord]>([])

        var sink: LogSink { { [self] record in records.withLock { $0.append(record) } } }

        /// The records so far.
        var all: [LogRecord] { records.withLock { $0 } }

        /// The records so far whose message contains `text`.
        func containing(_ text: String) -> [LogRecord] {
            all.filter { $0.message.contains(text) }
        }
    }

    @Test func watchingAFolderWhoseFilesAreLoadedAdoptsThemAsTheyAre() async throws {
        let log = LogRecords()
        try await withLoader(logSink: log.sink) { loader, folder in
            let alpha = try #require(try await loader.loadPhoton(at: folder.chaos("alpha")).first)
            let beta = try #require(try await loader.loadPhoton(at: folder.chaos("beta")).first)
            // Loaded with another selection than the watch's: it keeps its own.
            let other = try #require(try await loader.loadPhoton(at: folder.chaos("other", mode: "no-base"), base: nil).first)
            try await alpha.start()
            try await loader.stopPhoton("beta")
            let events = EventLog(loader)
            let clock = ManualWatchClock()
            let watcher = try await loader.makeWatcher(in: folder.path, selection: PhotonSelection(base: "IPhoton", otherClasses: []),
                                                       recursive: false, backend: .inotify, clock: clock, quietPeriod: Self.quiet)
            let rig = Rig(loader: loader, folder: folder, events: events, watcher: watcher, clock: clock)
            try await rig.look() // each adopted file checked against the disk: the bytes loaded
            #expect(rig.count("loaded") == 0 && rig.count("reloaded") == 0)
            #expect(await loader.photons == ["alpha": alpha, "beta": beta, "other": other])
            #expect(alpha.state == .started && beta.state == .stopped && other.state == .ready)
            loader.flushLog()
            #expect(log.containing("already loaded").isEmpty, "\(log.containing("already loaded").map(\.message))")
            // A change reloads an adopted file as one the watcher loaded, with its own selection.
            folder.write("alpha", alphaScript("v2"), mode: 0o755)
            folder.script("other", "# v2\nexec '\(BuildProducts.chaosPhoton)' no-base other")
            try await rig.settle()
            #expect(alpha.generation == 2 && alpha.state == .started)
            #expect(other.generation == 2 && other.state == .ready)
            // The stopped one stays stopped.
            folder.script("beta", "# v2\nexec '\(BuildProducts.chaosPhoton)' serve beta")
            try await rig.settle()
            #expect(beta.state == .stopped && beta.generation == 1)
            #expect(rig.reloadedFiles.sorted() == [alpha.filePath, other.filePath])
            await loader.stopWatchingPhotons()
        }
    }

    @Test func aFileChangedBetweenItsLoadAndTheWatchIsReloadedWhenWatchingBegins() async throws {
        try await withLoader { loader, folder in
            let alpha = try #require(try await loader.loadPhoton(at: folder.chaos("alpha")).first)
            try await alpha.start()
            folder.write("alpha", alphaScript("v2"), mode: 0o755)
            let events = EventLog(loader)
            let clock = ManualWatchClock()
            let watcher = try await loader.makeWatcher(in: folder.path, selection: PhotonSelection(base: "IPhoton", otherClasses: []),
                                                       recursive: false, backend: .inotify, clock: clock, quietPeriod: Self.quiet)
            try await Rig(loader: loader, folder: folder, events: events, watcher: watcher, clock: clock).look()
            #expect(alpha.generation == 2 && alpha.state == .started)
            await loader.stopWatchingPhotons()
        }
    }

    @Test func theHostExampleOfTheReadmeWarnsOfNothingAndReloadsOnChange() async throws {
        let log = LogRecords()
        try await withLoader(logSink: log.sink) { loader, folder in
            folder.chaos("alpha")
            folder.chaos("beta")
            let handlers = try await loader.loadPhotons(in: folder.path)
            for handler in handlers { try await handler.start() }
            let events = EventLog(loader)
            try await loader.watchPhotons(in: folder.path, quietPeriod: .milliseconds(50))
            // Saved by a rename: whenever the adopted file is first checked, it is whole.
            folder.write("alpha.tmp", alphaScript("live edit"), mode: 0o755)
            rename(Paths.join(folder.path, "alpha.tmp"), Paths.join(folder.path, "alpha"))
            let report = try await events.first("reloaded event") { event in
                if case .reloaded(let report) = event { return report }
                return nil
            }
            #expect(report.file == Paths.join(folder.path, "alpha") && report.toGeneration == 2)
            await loader.stopWatchingPhotons()
            loader.flushLog()
            let warnings = log.all.filter { $0.level >= .warning }.map(\.message)
            #expect(warnings.isEmpty, "\(warnings)")
        }
    }
}
