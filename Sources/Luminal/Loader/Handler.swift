import LuminalWire
import Synchronization

/// The supervisor's view of one photon: what it is, where it runs, and the way to start and call it.
public final class Handler: Sendable, Hashable, CustomStringConvertible {
    /// The photon's name, unique among loaded photons.
    public let name: String
    /// The photon file it comes from (an executable, or a package folder).
    public let filePath: String
    let context: LoaderContext
    let core: Mutex<Core>

    struct Core {
        var worker: Worker
        var descriptor: PhotonDescriptor
        var checksum: String
        var state: PhotonState = .ready
        var lastExit: ExitStatus?
        /// Started by the host and not since unloaded: a restart starts it again.
        var wantsToRun = false
        var since = ContinuousClock.now
        var restarts = 0
        var failure: FailureClass?
    }

    init(descriptor: PhotonDescriptor, worker: Worker, checksum: String, context: LoaderContext) {
        name = descriptor.name
        filePath = worker.file.path
        self.context = context
        core = Mutex(Core(worker: worker, descriptor: descriptor, checksum: checksum))
    }

    /// SHA-256 of the photon file's bytes (for a package: the manifest and the executable).
    public var checksum: String { core.withLock { $0.checksum } }
    /// The kinds the worker declared for this photon.
    public var kinds: [String] { core.withLock { $0.descriptor.kinds } }
    /// Author, version, description and tags, as the worker declared them.
    public var metadata: PhotonMetadata { core.withLock { $0.descriptor.metadata } }
    /// The method names the worker declared for this photon.
    public var methods: [String] { core.withLock { $0.descriptor.methods } }
    /// Where the photon is in its life.
    public var state: PhotonState { core.withLock { $0.state } }
    /// The pid of the worker process hosting it.
    public var pid: Int32 { core.withLock { $0.worker.pid } }
    /// Which worker generation hosts it: 1 for the first.
    public var generation: Int { core.withLock { $0.worker.generation } }
    /// How its worker ended, once it has.
    public var lastExit: ExitStatus? { core.withLock { $0.lastExit } }
    /// How many times its worker was restarted after a failure.
    public var restarts: Int { core.withLock { $0.restarts } }
    /// How long the current generation has been up; nil once it has ended.
    public var uptime: Duration? { core.withLock { $0.state.isFinal ? nil : $0.since.duration(to: .now) } }
    /// Why its worker last failed, if it ever did.
    public var failureClass: FailureClass? { core.withLock { $0.failure } }
    /// How long ago its current generation took over, whatever its state.
    var startedSince: Duration { core.withLock { $0.since.duration(to: .now) } }
    /// Whether the host started it (and has not unloaded it): restarts start it again.
    var wantsToRun: Bool { core.withLock { $0.wantsToRun } }

    /// "greeter (photons/greeter.py, started, pid 812)".
    public var description: String { "\(name) (\(filePath), \(state), pid \(pid))" }

    /// Runs the photon's start routine; afterwards it takes calls. Starting a started photon does nothing.
    public func start() async throws(LoaderError) {
        let worker = try core.withLock { core throws(LoaderError) -> Worker? in
            switch core.state {
            case .started, .starting: return nil
            case .ready:
                core.state = .starting
                return core.worker
            default:
                throw LoaderError(.unloaded, "photon \(name) (\(filePath)) cannot be started: it is \(core.state)", photon: name, file: filePath)
            }
        }
        guard let worker else { return }
        do {
            // A plain executable runs from its spawn: starting it only marks it so.
            if worker.file.plain == nil {
                _ = try await worker.send(.start(photon: name), timeout: context.configuration.startTimeout)
            }
        } catch {
            core.withLock { if $0.state == .starting { $0.state = .ready } }
            context.log(.error, "photon \(name) failed to start: \(error.message)", file: filePath)
            throw error
        }
        let started = core.withLock { core -> Bool in
            guard core.state == .starting else { return false }
            core.state = .started
            core.wantsToRun = true
            return true
        }
        guard started else {
            throw LoaderError(.workerExited, "photon \(name) (\(filePath)) ended while starting: it is \(state)", photon: name, file: filePath, exit: lastExit)
        }
        context.log(.info, "started photon \(name)", file: filePath)
        context.events.emit(.started(photon: name, file: filePath))
    }

    /// Calls `method` with `params` and returns the photon's result, or throws its error reply
    /// (`photonError`), or why the call could not complete (not started, worker exited, timeout).
    ///
    /// During a reload a call goes to exactly one generation: the old one if it was sent before
    /// the switch (the old one drains it), the new one otherwise.
    public func call(_ method: String, params: JSONValue = nil, timeout: Duration? = nil) async throws(LoaderError) -> JSONValue {
        var worker = try callableWorker(for: method)
        while true {
            do {
                return try await worker.send(.call(photon: name, method: method, params: params),
                                             timeout: timeout ?? context.configuration.callTimeout)
            } catch where error.code == .retired {
                let current = try callableWorker(for: method)
                guard current !== worker else {
                    throw LoaderError(.unloaded, "photon \(name) (\(filePath)) cannot take call '\(method)': it is being unloaded", photon: name, file: filePath)
                }
                worker = current
            }
        }
    }

    private func callableWorker(for method: String) throws(LoaderError) -> Worker {
        try core.withLock { core throws(LoaderError) -> Worker in
            guard core.worker.file.plain == nil else {
                throw LoaderError(.noProtocol, "photon \(name) (\(filePath)) is a plain executable (\"protocol\": \"none\"); it takes no calls", photon: name, file: filePath)
            }
            guard core.state == .started else {
                let code: LoaderError.Code = core.state == .ready || core.state == .starting ? .notStarted : .unloaded
                throw LoaderError(code, "photon \(name) (\(filePath)) cannot take call '\(method)': it is \(core.state)\(code == .notStarted ? "; call start() first" : "")",
                                  photon: name, file: filePath, exit: core.lastExit)
            }
            return core.worker
        }
    }

    /// Moves the photon to a new generation: calls from now on go to `worker`.
    func adopt(_ worker: Worker, descriptor: PhotonDescriptor, checksum: String, state: PhotonState) {
        core.withLock { core in
            core.worker = worker
            core.descriptor = descriptor
            core.checksum = checksum
            core.state = state
            core.since = .now
        }
    }

    /// Notes why the worker failed; `quarantined` also moves the photon to that state.
    func record(failure: FailureClass, quarantined: Bool = false) {
        core.withLock { core in
            core.failure = failure
            if quarantined { core.state = .quarantined(failure) }
        }
    }

    /// Counts a restart that succeeded.
    func countRestart() {
        core.withLock { $0.restarts += 1 }
    }

    /// Keeps how the worker ended, without changing the state (an exit the supervisor asked for).
    func record(exit: ExitStatus) {
        core.withLock { $0.lastExit = exit }
    }

    /// Moves to `state` unless the photon already reached a final state.
    func transition(to state: PhotonState, exit: ExitStatus? = nil) {
        core.withLock { core in
            if exit != nil { core.lastExit = exit }
            if !core.state.isFinal || state == .stopped { core.state = state }
            if state == .stopped { core.wantsToRun = false }
        }
    }

    /// Identity: a handler equals only itself.
    public static func == (lhs: Handler, rhs: Handler) -> Bool { lhs === rhs }

    /// Hashes the identity.
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// What handlers share with their loader.
final class LoaderContext: Sendable {
    let configuration: LoaderConfiguration
    let events = EventHub()
    let log: Logger
    /// Every worker spawned and not yet gone, held weakly.
    let workers = Mutex<[ObjectIdentifier: WeakWorker]>([:])
    /// Abandons the photon files being hashed for loads and reloads (when every photon is unloaded).
    let hashes = HashCancellation()

    init(configuration: LoaderConfiguration, log: Logger) {
        self.configuration = configuration
        self.log = log
    }
}

/// A worker the loader context keeps track of without keeping it alive.
struct WeakWorker: @unchecked Sendable {
    weak var worker: Worker?
}
