import LuminalSystem
import Synchronization

/// What each loaded photon file's process trees use, read from `/proc` at most once per
/// period: a pass over `/proc` costs tens of microseconds of the kernel's time a process, more
/// than the rest of a scrape, and a scraper may come every second.
///
/// The period is `LoaderConfiguration.processFiguresPeriod`, or `costFactor` (2,000) times the
/// CPU time the last pass took if that is longer: the passes take at most 0.05% of a core, however
/// many processes there are (1,000 workers cost about 30 ms a pass on a 2-core VM: one a minute;
/// 100 workers, one every 10 s). Within the
/// period a scrape serves the last pass's figures, but for a file whose lifecycle moved since (its
/// live workers change only so: a load, reload, restart or unload): that file's trees are read
/// at once, on their own (`ProcessTree.members`, a cost that follows their size). The pass's age
/// and the period are exported (`luminal_process_figures_age_seconds`,
/// `luminal_process_figures_period_seconds`): no figure is older than that age.
final class ProcessFigures: Sendable {
    private struct Reading {
        /// When the last pass was taken (`Uptime`).
        let at: UInt64
        /// How long it is served.
        let period: Duration
        /// What each file read since uses, by `FileCore.serial`.
        var files: [UInt64: FileReading]
        /// The last scrape's files (serials and counts of transitions) and what it served them:
        /// the next one, most often the same, is served without a lookup.
        var served: (serials: [UInt64], transitions: [UInt64], usage: [ProcessUsage]) = ([], [], [])
    }

    private struct FileReading {
        /// The file's lifecycle's count of transitions when it was read.
        let transitions: UInt64
        let usage: ProcessUsage
    }

    /// The shortest period.
    let period: Duration
    /// How many times its own CPU time a pass is served at least.
    static let costFactor = 2000
    // Held while reading: a second scrape meanwhile waits, then serves the same reading.
    private let last = Mutex<Reading?>(nil)

    /// Figures read at most once per `period` (or longer, see above).
    init(period: Duration) {
        self.period = period
    }

    /// What each loaded file of `listing` uses, in its order, given each one's count of
    /// transitions (`LifecycleChanges.count`); how old the last pass is, and how long it is served.
    func usage(of listing: FileListing, transitions: [UInt64]) -> (usage: [ProcessUsage], age: Duration, period: Duration) {
        last.withLock { last in
            let now = Uptime.now()
            let serials = listing.loaded.map(\.core.serial)
            if let pass = last.map({ (at: $0.at, period: $0.period) }), Uptime.after(pass.period, from: pass.at) > now {
                let age = Duration.nanoseconds(Int64(now - pass.at))
                if last!.served.serials == serials, last!.served.transitions == transitions {
                    return (last!.served.usage, age, pass.period)
                }
                // Changed in place: the pass's table is not copied.
                let usage = listing.loaded.indices.map { index in
                    if let kept = last!.files[serials[index]], kept.transitions == transitions[index] { return kept.usage }
                    let usage = listing.loaded[index].pool.liveConnections.reduce(into: ProcessUsage()) {
                        $0.add(ProcessTable.usage(of: $1.tree.members().map(\.pid)))
                    }
                    last!.files[serials[index]] = FileReading(transitions: transitions[index], usage: usage)
                    return usage
                }
                last!.served = (serials, transitions, usage)
                return (usage, age, pass.period)
            }
            let start = ThreadClock.now()
            let table = ProcessTable()
            let usage = listing.loaded.map { file in
                file.pool.liveConnections.reduce(into: ProcessUsage()) { $0.add(table.usage(ofTree: $1.pid)) }
            }
            let cost = Duration.nanoseconds(Int64(clamping: ThreadClock.now() - start))
            var files: [UInt64: FileReading] = [:]
            for index in serials.indices {
                files[serials[index]] = FileReading(transitions: transitions[index], usage: usage[index])
            }
            let reading = Reading(at: now, period: max(period, cost * Self.costFactor), files: files, served: (serials, transitions, usage))
            last = reading
            return (usage, .zero, reading.period)
        }
    }
}
