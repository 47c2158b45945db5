#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWorker
import Synchronization

/// What handlers and photon files share with their loader.
package final class LoaderContext: Sendable {
    package let configuration: LoaderConfiguration
    let events = EventHub()
    package let log: Logger
    /// The files loaded or being loaded, held weakly, for `killAllWorkers`.
    let files = Mutex<[ObjectIdentifier: WeakFileCore]>([:])
    /// Abandons the photon files being hashed for loads and reloads (when every photon is unloaded).
    let hashes = HashCancellation()
    /// Tree kills in progress; unloading everything waits for them.
    package let tasks = OwnedTasks()
    /// What the loaded files' process trees use, as the metrics serve it.
    let processFigures: ProcessFigures
    /// The metrics' text, with what each photon and file showed at the last scrape.
    let metrics = MetricsExposition()
    /// The host functions the photons may call (PROTOCOL.md §3.4).
    let hostFunctions = HostFunctions()
    /// The loaded photons by name, kept by the loader's records, read off its actor.
    let loadedPhotons = LoadedPhotons()

    package init(configuration: LoaderConfiguration, log: Logger) {
        self.configuration = configuration
        self.log = log
        processFigures = ProcessFigures(period: configuration.processFiguresPeriod)
    }

    /// Keeps track of `core` (weakly) until it is freed.
    func track(_ core: FileCore) {
        files.withLock { files in
            files = files.filter { $0.value.core != nil }
            files[ObjectIdentifier(core)] = WeakFileCore(core: core)
        }
    }

    /// The workers of every tracked file that have not ended.
    var liveWorkers: [Worker] {
        files.withLock { $0.values.compactMap(\.core) }.flatMap { $0.read(\.liveConnections) }
    }

    /// The live worker whose processes include `pid`: by cgroup where workers have one, by
    /// ancestry (a process started by a worker, at any depth) or by the worker's process tree
    /// (a daemon it left to the supervisor, whatever its cgroup). nil for a process of no worker.
    package func worker(containing pid: pid_t) -> Worker? {
        let workers = liveWorkers
        guard !workers.isEmpty else { return nil }
        if let relative = Procfs.cgroupV2Path(of: pid) {
            if let owner = workers.first(where: { worker in
                worker.tree.cgroup.map { relative == $0.relativePath || relative.hasPrefix($0.relativePath + "/") } ?? false
            }) { return owner }
        }
        var ancestors: Set<pid_t> = []
        var current = pid
        while current > 1, ancestors.insert(current).inserted, let stat = Procfs.stat(current) { current = stat.ppid }
        if let owner = workers.first(where: { ancestors.contains($0.pid) }) { return owner }
        return workers.first { $0.tree.members().contains { $0.pid == pid } }
    }

    /// SIGKILLs `worker`'s whole tree now, in an owned task (waiting up to the kill timeout).
    func killNow(_ worker: Worker) {
        let timeout = configuration.killTimeout
        tasks.run { _ = await worker.tree.signal(SIGKILL, waitingUpTo: timeout) }
    }
}

/// A photon file's core the loader context keeps track of without keeping it alive.
struct WeakFileCore: @unchecked Sendable {
    weak var core: FileCore?
}
