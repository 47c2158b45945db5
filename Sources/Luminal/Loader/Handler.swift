import LuminalWire

/// The supervisor's view of one photon: what it is, where it runs, and the way to start and call it.
///
/// A handler keeps its identity across reloads and restarts of its file; what it reports comes
/// from the file's lifecycle (`FileCore`), read in one piece by `snapshot`.
public final class Handler: Sendable, Hashable, CustomStringConvertible {
    /// The photon's name, unique among loaded photons.
    public let name: String
    /// The photon file it comes from (an executable, or a package folder).
    public let filePath: String
    let core: FileCore
    /// What its calls came to, for the metrics.
    let calls = CallMetrics()

    init(name: String, core: FileCore) {
        self.name = name
        filePath = core.path
        self.core = core
    }

    /// Everything the handler reports, read at one moment.
    public var snapshot: PhotonSnapshot {
        // A handler's photon has a record from the moment the handler exists.
        core.snapshot(of: name)!
    }

    /// SHA-256 of the photon file's bytes (for a package: the manifest and the executable).
    public var checksum: String { snapshot.checksum }
    /// The kinds the worker declared for this photon.
    public var kinds: [String] { snapshot.kinds }
    /// Author, version, description and tags, as the worker declared them.
    public var metadata: PhotonMetadata { snapshot.metadata }
    /// The method names the worker declared for this photon.
    public var methods: [String] { snapshot.methods }
    /// Where the photon is in its life.
    public var state: PhotonState { snapshot.state }
    /// The pid of the worker process hosting it.
    public var pid: Int32 { snapshot.pid }
    /// Which worker generation hosts it: 1 for the first.
    public var generation: Int { snapshot.generation }
    /// How its worker ended, once it has.
    public var lastExit: ExitStatus? { snapshot.lastExit }
    /// How many times its worker was restarted after a failure.
    public var restarts: Int { snapshot.restarts }
    /// How long the current generation has been up; nil once it has ended.
    public var uptime: Duration? { snapshot.uptime }
    /// Why its worker last failed, if it ever did.
    public var failureClass: FailureClass? { snapshot.failureClass }

    /// "greeter (photons/greeter.py, started, pid 812)".
    public var description: String {
        let now = snapshot
        return "\(name) (\(filePath), \(now.state), pid \(now.pid))"
    }

    /// Runs the photon's start routine; afterwards it takes calls. Starting a started photon does nothing.
    public func start() async throws(LoaderError) {
        for effect in core.apply(.startRequested(photon: name)) {
            switch effect {
            case .refuse(let error): throw error
            case .sendStart(let worker, let photon): try await start(photon, on: worker)
            default: break
            }
        }
    }

    private func start(_ photon: String, on worker: Worker) async throws(LoaderError) {
        var failure: LoaderError?
        // A plain executable runs from its spawn: starting it only marks it so.
        if worker.file.plain == nil {
            do {
                _ = try await worker.send(.start(photon: photon), timeout: core.context.configuration.startTimeout)
            } catch {
                failure = error
            }
        }
        for case .refuse(let error) in core.apply(.startFinished(photon: photon, number: worker.generation, error: failure)) {
            throw error
        }
    }

    /// Calls `method` with `params` and returns the photon's result, or throws its error reply
    /// (`photonError`), or why the call could not complete (not started, worker exited, timeout).
    ///
    /// During a reload a call goes to exactly one generation: the old one if it was sent before
    /// the switch (the old one drains it), the new one otherwise.
    public func call(_ method: String, params: JSONValue = nil, timeout: Duration? = nil) async throws(LoaderError) -> JSONValue {
        // The one place a call's outcome is counted: where it is known, whichever generation took it.
        let began = calls.began()
        do {
            let result = try await deliver(method, params: params, timeout: timeout)
            calls.ended(.ok, since: began)
            return result
        } catch {
            calls.ended(CallOutcome(error.code), since: began)
            throw error
        }
    }

    /// Sends the call to the serving generation, and again to the next one if it met one being replaced.
    private func deliver(_ method: String, params: JSONValue, timeout: Duration?) async throws(LoaderError) -> JSONValue {
        var worker = try callTarget(method)
        while true {
            do {
                return try await worker.send(.call(photon: name, method: method, params: params),
                                             timeout: timeout ?? core.context.configuration.callTimeout)
            } catch where error.code == .retired {
                // The call met a generation being replaced: it goes to the one serving now.
                let current = try callTarget(method)
                guard current !== worker else {
                    throw LoaderError(.unloaded, "photon \(name) (\(filePath)) cannot take call '\(method)': it is being unloaded", photon: name, file: filePath)
                }
                worker = current
            }
        }
    }

    private func callTarget(_ method: String) throws(LoaderError) -> Worker {
        try core.read { $0.callTarget(name, method: method) }.get()
    }

    /// Identity: a handler equals only itself.
    public static func == (lhs: Handler, rhs: Handler) -> Bool { lhs === rhs }

    /// Hashes the identity.
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
