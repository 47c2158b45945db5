#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import Synchronization

/// What each loaded photon file's process trees use, read from `/proc` at most once per
/// `period` (`LoaderConfiguration.processFiguresPeriod`): a pass over `/proc` costs a
/// millisecond or more for every hundred processes, more than the rest of a scrape, and a
/// scraper may come every second.
///
/// A scrape within the period of the last reading serves that reading, unless a file's live
/// workers changed since (a load, reload, restart or unload): then everything is read again.
/// The reading's age is exported (`luminal_process_figures_age_seconds`), so figures are never
/// older than the period and never passed off as fresher than they are.
final class ProcessFigures: Sendable {
    private struct Reading {
        /// When it was taken (`Uptime`).
        let at: UInt64
        /// Each file's live workers' pids, by path, when it was taken.
        let workers: [String: [pid_t]]
        /// Each file's usage, by path.
        let usage: [String: ProcessUsage]
    }

    /// The longest a reading is served.
    let period: Duration
    // Held while reading: a second scrape meanwhile waits, then serves the same reading.
    private let last = Mutex<Reading?>(nil)

    /// Figures read at most once per `period`.
    init(period: Duration) {
        self.period = period
    }

    /// What each of `files` uses, in their order, and how old the reading is.
    func usage(of files: [FileCore]) -> (usage: [ProcessUsage], age: Duration) {
        let workers = files.map { core in (core.path, core.read(\.liveConnections).map(\.pid)) }
        return last.withLock { last in
            let now = Uptime.now()
            let current = Dictionary(workers, uniquingKeysWith: { first, _ in first })
            if let reading = last, Uptime.after(period, from: reading.at) > now, reading.workers == current {
                return (workers.map { reading.usage[$0.0] ?? ProcessUsage() }, .nanoseconds(Int64(now - reading.at)))
            }
            let table = ProcessTable()
            // Counting each member's descriptors is a system call a process: spread over the cores too.
            let usage = parallelMap(workers) { $0.1.reduce(into: ProcessUsage()) { $0.add(table.usage(ofTree: $1)) } }
            last = Reading(at: now, workers: current, usage: Dictionary(zip(workers.map(\.0), usage), uniquingKeysWith: { first, _ in first }))
            return (usage, .zero)
        }
    }
}
