import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import _LuminalCShims
import LuminalSystem
import LuminalWire
import LuminalWorker

/// Manages photons: loads them from files and folders into worker processes, and unloads them.
///
/// Each photon file runs as its own child process; the loader keeps a registry of the photons
/// their workers declared, keyed by name. It is the supervisor side of the seed's
/// `luminal.managers.loader.Loader`, with the same names and promises, out of process.
public actor Loader {
    /// Whether human-readable logs are written (to `logSink`, or standard error).
    public nonisolated let logging: Bool
    /// Whether batch loads skip and log a broken photon instead of throwing.
    public nonisolated let suppressErrors: Bool
    /// Timeouts and limits.
    public nonisolated var configuration: LoaderConfiguration { context.configuration }
    package nonisolated let context: LoaderContext
    /// One record per photon file the loader knows of, whatever its condition (`FileRecord`).
    package var records: FileRecords
    /// Waiting for no load to be in progress (`FileRecords.loadsInProgress`).
    var loadWaiters: [CheckedContinuation<Void, Never>] = []
    /// How many `unloadAll` calls are waiting for the loads in progress: a load that would begin
    /// meanwhile (a watcher's act that waited for a place) is refused, or they would wait for it.
    var unloadsOfAll = 0
    var gate = FileGate()
    package var watcher: PhotonWatcher?
    /// The photon files a folder's load, a watcher's acts and failed files' retries bring up at
    /// once: at most `bringUpWidth`, the others wait their turn (`Slots`; `takeBringUpPlace`).
    package nonisolated let bringUps = Slots(width: Loader.bringUpWidth)
    /// The recycle sampler, while a loaded file has a recycle policy (`Loader+Recycle.swift`).
    var recycler: Task<Void, Never>?
    /// The sampler that stops the instances pools have to spare, while a loaded file's pool scales
    /// (`Loader+Scaling.swift`).
    var scaler: Task<Void, Never>?
    /// The instance each photon file's scale-up is bringing up, while it does; taken out when a
    /// stop or an unload gives the scale-up up (`abandonComingUp`).
    var scalingUp: [String: FileCore] = [:]
    /// The photon files being recycled now.
    package var recycling: Set<String> = []
    /// The photon files a restart is stopping or starting now.
    var restarting: Set<String> = []
    /// The instances each photon file's reload (a start after a stop's too) is bringing new
    /// generations up in, while it waits for them; taken out when a stop or an unload gives the
    /// reload up (`abandonBringUps`).
    var bringingUp: [String: [FileCore]] = [:]

    /// How many photon files are brought up at once (`bringUps`). A thousand together
    /// load no faster on a few cores than this many, and each suspended one holds its task's
    /// frames until its hello comes: the supervisor's heap grew by all of them and stayed larger
    /// (glibc cannot give back pages that the photons' lasting objects share with them). A file
    /// slow to say hello holds up one of these, not the others.
    static let bringUpWidth = 64

    /// Waits for one of the `bringUps` and takes it, lent for the handshake timeout at most
    /// (`LoaderConfiguration.handshakeTimeout`): a file slow to say hello holds back the files
    /// behind it that long, whatever its manifest's own timeout, then loads on beside them.
    package nonisolated func takeBringUpPlace() async -> Slot {
        await bringUps.take(lendingFor: configuration.handshakeTimeout)
    }

    /// A loaded photon file: its instances' lifecycles, the file as its serving generations were
    /// spawned from, and the handlers of its photons.
    package struct LoadedFile {
        /// Its instances.
        package let pool: InstancePool
        package let file: PhotonFile
        package let handlers: [Handler]
        /// What the load asked for, so a reload chooses the same way.
        let selection: PhotonSelection
        /// The files a watcher follows for it wherever they are, as resolved at its load.
        package let followed: [String]
        /// The listening sockets its manifest declares, bound at its first load and kept while
        /// it is loaded: each generation is handed the same ones.
        let sockets: [HeldSocket]

        /// Its first instance, which reports for the file as a whole.
        package var core: FileCore { pool.first }

        init(pool: InstancePool, file: PhotonFile, handlers: [Handler], selection: PhotonSelection, sockets: [HeldSocket]) {
            self.pool = pool
            self.file = file
            self.handlers = handlers
            self.selection = selection
            self.sockets = sockets
            followed = file.followedPaths()
        }
    }

    /// A loader. `logSink` receives the logs when `logging` is on (default: standard error).
    public init(logging: Bool = false, suppressErrors: Bool = false,
                configuration: LoaderConfiguration = LoaderConfiguration(), logSink: LogSink? = nil) {
        self.logging = logging
        self.suppressErrors = suppressErrors
        context = LoaderContext(configuration: configuration, log: Logger(enabled: logging, sink: logSink, files: configuration.logFiles))
        records = FileRecords(indexingIn: context.loadedPhotons)
        if let problem = configuration.instances.problem {
            let used = configuration.instances.clamped
            context.log(.warning, "LoaderConfiguration.instances: \(problem); a file whose manifest says no 'instances' gets count \(used.count), max \(used.max), surge \(used.surge)")
        }
        ProcessSetup.prepare()
        registerBuiltInHostFunctions()
    }

    /// Takes over the configured state file: kills what a previous supervisor run recorded there
    /// left behind (when it was killed outright), and records this run. Returns the pids killed.
    /// Call once before loading; `releaseStateFile()` at a clean shutdown removes the file.
    @discardableResult
    public nonisolated func claimStateFile() throws(LoaderError) -> [Int32] {
        guard let stateFile = configuration.stateFile else { return [] }
        let killed = try SurvivorCleanup.takeOver(stateFile) { context.log(.warning, $0, file: stateFile) }
        if !killed.isEmpty {
            context.log(.warning, "killed \(killed.count) processes a previous run left behind: \(killed.map(String.init).joined(separator: ", "))", file: stateFile)
        }
        return killed
    }

    /// Removes this run's state file after a clean shutdown.
    public nonisolated func releaseStateFile() {
        configuration.stateFile.map(SurvivorCleanup.release)
    }

    /// The loaded photons: name → handler. A read-only snapshot.
    public var photons: [String: Handler] {
        records.handlers
    }

    /// Calls `method` on the loaded photon named `photon`; see `Handler.call`.
    public func call(_ photon: String, _ method: String, params: JSONValue = nil, timeout: Duration? = nil) async throws(LoaderError) -> JSONValue {
        try await handler(photon).call(method, params: params, timeout: timeout)
    }

    /// Calls `method` on the loaded photon named `photon` as a streamed call; see `Handler.stream`.
    public func stream(_ photon: String, _ method: String, params: JSONValue = nil, window: Int = 16, timeout: Duration? = nil) throws(LoaderError) -> PhotonStream {
        try handler(photon).stream(method, params: params, window: window, timeout: timeout)
    }

    /// The loaded photon named `photon`, or why there is none.
    private func handler(_ photon: String) throws(LoaderError) -> Handler {
        guard let handler = records.handler(named: photon) else {
            let loaded = photons.keys.sorted().joined(separator: ", ")
            throw LoaderError(.photonNotFound, "no loaded photon is named '\(photon)' (loaded: \(loaded.isEmpty ? "none" : loaded)); load its photon file first", photon: photon)
        }
        return handler
    }

    /// Waits until every log record so far has reached the log sink (records are handed over on a
    /// queue of their own, so that a slow sink never blocks a worker). Call before exiting.
    public nonisolated func flushLog() {
        context.log.flush()
    }

    /// A new stream of everything that happens to this loader's photons from now on. A consumer
    /// that falls 10,000 events behind loses the newer ones; `eventsDropped` marks each gap.
    public nonisolated func events() -> AsyncStream<LoaderEvent> {
        context.events.subscribe()
    }

    /// The events this loader keeps, oldest first (the last 1,000 but `log` events, at most 4 MiB
    /// of their JSON text: `KeptEvents`), and a new stream, as `events()`, of everything after
    /// them: each event is in one of the two, never in both.
    public nonisolated func recentEvents() -> (recent: [LoaderEvent], stream: AsyncStream<LoaderEvent>) {
        context.events.subscribeAfterRecent()
    }
}

/// Process-wide settings every supervisor needs, applied once.
enum ProcessSetup {
    private static let prepared: OrphanReaper? = {
        // Writes to a dead worker must fail with EPIPE, not kill the supervisor.
        signal(SIGPIPE, SIG_IGN)
        // Descendants that escape with setsid are re-parented here, where they can be found and killed.
        _ = luminal_set_child_subreaper()
        // As PID 1 (a container's entrypoint) every orphan in the namespace comes here to be reaped.
        return getpid() == 1 ? OrphanReaper() : nil
    }()

    /// Ignores SIGPIPE, becomes a child subreaper, and as PID 1 reaps every orphan on SIGCHLD.
    static func prepare() {
        _ = prepared
    }
}

/// Reaps orphans whenever a child changes state (used as PID 1).
private final class OrphanReaper: Sendable {
    // Dispatch sources are thread-safe; this one is only activated, and lives as long as the process.
    nonisolated(unsafe) private let source: any DispatchSourceSignal

    init() {
        source = DispatchSource.makeSignalSource(signal: SIGCHLD, queue: .global())
        source.setEventHandler { ChildRegistry.shared.sweepOrphans() }
        source.activate()
    }
}
