#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// What handlers and photon files share with their loader.
final class LoaderContext: Sendable {
    let configuration: LoaderConfiguration
    let events = EventHub()
    let log: Logger
    /// The files loaded or being loaded, held weakly, for `killAllWorkers`.
    let files = Mutex<[ObjectIdentifier: WeakFileCore]>([:])
    /// Abandons the photon files being hashed for loads and reloads (when every photon is unloaded).
    let hashes = HashCancellation()
    /// Tree kills in progress; unloading everything waits for them.
    let tasks = OwnedTasks()

    init(configuration: LoaderConfiguration, log: Logger) {
        self.configuration = configuration
        self.log = log
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
