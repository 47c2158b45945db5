import LuminalSystem
import LuminalWire
import LuminalWorker

/// The supervisor's view of one photon: what it is, where it runs, and the way to start and call it.
///
/// A handler keeps its identity across reloads and restarts of its file; what it reports comes
/// from the file's lifecycle (`FileCore`), read in one piece by `snapshot`.
public final class Handler: Sendable, Hashable, CustomStringConvertible {
    /// The photon's name, unique among loaded photons.
    public let name: String
    /// The photon file it comes from (an executable, or a package folder).
    public let filePath: String
    /// The file's instances, which its calls are shared among.
    package let pool: InstancePool
    /// The file's first instance, which reports for the file as a whole.
    package var core: FileCore { pool.first }
    /// What its calls came to, for the metrics.
    let calls = CallMetrics()

    package init(name: String, pool: InstancePool) {
        self.name = name
        filePath = pool.first.path
        self.pool = pool
    }

    /// Everything the handler reports, read at one moment: of its file's first instance where the
    /// photon is started, else of the first instance; what concerns the file as a whole (its
    /// failed reload, its last recycling), of the first instance.
    public var snapshot: PhotonSnapshot {
        // A handler's photon has a record in the first instance from the moment the handler exists.
        let first = core.snapshot(of: name)!
        guard pool.count > 1 else { return first }
        let reporter = pool.reporter(of: name)
        let restarts = pool.cores.reduce(0) { $0 + ($1.read { $0.photons[name]?.restarts } ?? 0) }
        return (reporter.snapshot(of: name) ?? first).reporting(for: first, restarts: restarts)
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
    /// How the worker serving it is contained and limited (its cgroup or the process-tree
    /// rules, each limit and whether this host enforces it, its identity); nil while none serves.
    public var containment: ContainmentReport? { core.read { $0.serving?.connection.containment } }
    /// The listening sockets its file holds for the serving worker (the manifest's `sockets`:
    /// `tcp:127.0.0.1:8080`, `unix:/path`); empty for none or while none serves.
    public var sockets: [String] { core.read { $0.serving?.connection.file.sockets.map(\.address.description) } ?? [] }
    /// Each instance of its file, in order, as it stands now (`PoolSize`): one for a file of one instance.
    public var instances: [InstanceSnapshot] { pool.cores.map(InstanceSnapshot.init) }
    /// What the serving workers' whole trees use now (of every instance) (its cgroup's processes and CPU time where it
    /// has one); nil while none serves.
    package var usage: ProcessUsage? {
        let workers = pool.cores.compactMap { $0.read { $0.serving?.connection } }
        guard !workers.isEmpty else { return nil }
        return workers.reduce(into: ProcessUsage()) { $0.add($1.tree.usage()) }
    }

    /// The timeout of a call whose caller gives none: the serving file's manifest's
    /// `timeouts.call`, else `LoaderConfiguration.callTimeout`; nil for none.
    var defaultCallTimeout: Duration? {
        core.read { $0.serving?.connection.file.timeouts.call } ?? core.context.configuration.callTimeout
    }

    /// "greeter (photons/greeter.py, started, pid 812)".
    public var description: String {
        let now = snapshot
        return "\(name) (\(filePath), \(now.state), pid \(now.pid))"
    }

    /// Runs the photon's start routine (in each instance of its file, side by side); afterwards
    /// it takes calls. Starting a started photon does nothing. A failure is the first instance's
    /// that failed, in their order.
    public func start() async throws(LoaderError) {
        let cores = pool.cores
        guard cores.count > 1 else { return try await start(in: pool.first) }
        let failures = await withTaskGroup(of: (Int, LoaderError)?.self) { group in
            for (index, instance) in cores.enumerated() {
                group.addTask {
                    do throws(LoaderError) {
                        try await self.start(in: instance)
                        return nil
                    } catch {
                        return (index, error)
                    }
                }
            }
            return await group.reduce(into: [(Int, LoaderError)]()) { failures, failure in failure.map { failures.append($0) } }
        }
        if let first = failures.min(by: { $0.0 < $1.0 }) { throw first.1 }
    }

    private func start(in instance: FileCore) async throws(LoaderError) {
        for effect in instance.apply(.startRequested(photon: name)) {
            switch effect {
            case .refuse(let error): throw error
            case .sendStart(let worker, let photon): try await start(photon, on: worker, of: instance)
            default: break
            }
        }
    }

    private func start(_ photon: String, on worker: Worker, of instance: FileCore) async throws(LoaderError) {
        var failure: LoaderError?
        // A plain executable runs from its spawn: starting it only marks it so.
        if worker.file.plain == nil {
            do {
                _ = try await worker.send(.start(photon: photon), timeout: core.context.configuration.startTimeout)
            } catch {
                failure = error
            }
        }
        for case .refuse(let error) in instance.apply(.startFinished(photon: photon, number: worker.generation, error: failure)) {
            throw error
        }
    }

    /// Calls `method` with `params` and returns the photon's result, or throws its error reply
    /// (`photonError`), or why the call could not complete (not started, worker exited, timeout).
    ///
    /// During a reload a call goes to exactly one generation: the old one if it was sent before
    /// the switch (the old one drains it), the new one otherwise.
    ///
    /// A call whose caller gives up (its `timeout` passes, its task is cancelled, or an unload's
    /// drain timeout passes) fails at once with `timeout` or `cancelled`; a worker that declared
    /// the `cancel` feature is told, so the method can stop, and a reply that still comes is
    /// discarded. A worker that declared `deadline` is told how long the caller will still wait.
    ///
    /// A method the photon declared idempotent survives a crash of its worker: a call to it in
    /// flight when the worker exited or was killed for missing its heartbeat, or made while the
    /// photon is being restarted, is sent to the next generation once it serves, within the
    /// call's timeout (a `callRetried` event says so); the caller sees one result. A call that
    /// was in flight in two generations that both crashed is a poison call: it fails with
    /// `poisonCall` (and a `poisonCall` event) and is not sent again. Other methods fail as the
    /// worker ends.
    ///
    /// With no `timeout`, the file's manifest's `timeouts.call` applies, else
    /// `LoaderConfiguration.callTimeout` (60 s by default; nil there waits as long as the worker lives).
    public func call(_ method: String, params: JSONValue = nil, timeout: Duration? = nil) async throws(LoaderError) -> JSONValue {
        try await call(method, params: params, timeout: timeout, chain: [])
    }

    /// A call, as `call(_:params:timeout:)`, made for the photons of `chain` (outermost first),
    /// which wait on it through their host (PROTOCOL.md §3.4).
    package func call(_ method: String, params: JSONValue, timeout: Duration?, chain: [String]) async throws(LoaderError) -> JSONValue {
        // The one place a call's outcome is counted: where it is known, whichever generation took it.
        let began = calls.began()
        do {
            let result = try await deliver(method, params: params, timeout: timeout, chain: chain)
            calls.ended(.ok, since: began)
            return result
        } catch {
            calls.ended(CallOutcome(error.code), since: began)
            throw error
        }
    }

    /// Sends the call to the serving generation (of the instance `InstancePool.route` chooses);
    /// again to the one serving now if it met one being replaced; and, for an idempotent call
    /// that met a crash, to another instance serving now, else to its instance's next generation.
    private func deliver(_ method: String, params: JSONValue, timeout asked: Duration?, chain: [String]) async throws(LoaderError) -> JSONValue {
        let clock = ContinuousClock()
        let began = clock.now
        var (instance, worker) = try await target(method, asked: asked)
        let timeout = asked ?? worker.file.timeouts.call ?? core.context.configuration.callTimeout
        let deadline = timeout.map { began + $0 }
        var crashed = 0
        while true {
            do {
                let left = crashed == 0 ? timeout : deadline.map { clock.now.duration(to: $0) }
                return try await worker.send(.call(photon: name, method: method, params: params), timeout: left, chain: chain)
            } catch where error.code == .retired {
                // The call met a generation being replaced: it goes to the one serving now.
                (instance, worker) = try replacement(of: worker, method)
            } catch where error.code == .workerExited {
                let other = instance.read({ $0.mayRetry(name, method: method) }) ? pool.route(name, method: method, excluding: instance) : nil
                guard other != nil || instance.read({ $0.retriesCall(name, method: method, after: worker.generation) }) else { throw error }
                crashed += 1
                guard crashed < 2 else {
                    core.context.events.emit(.poisonCall(file: filePath, photon: name, method: method))
                    throw LoaderError(.poisonCall, "photon \(name) (\(filePath)) failed idempotent call '\(method)' as a poison call: its worker ended while handling it in two generations in a row (or two instances) (the last \(error.exit.map { "exited with \($0)" } ?? "ended")); it is not sent again",
                                      photon: name, file: filePath, exit: error.exit)
                }
                if let other {
                    (instance, worker) = other
                } else {
                    guard let next = try await nextWorker(of: instance, after: worker.generation, method, deadline: deadline, timeout: timeout) else { throw error }
                    (instance, worker) = next
                }
                core.context.events.emit(.callRetried(file: filePath, photon: name, method: method, generation: worker.generation))
            }
        }
    }

    /// The instance and worker a call goes to: in the common case, one read of the instances'
    /// lifecycles; else as `callTarget` says, within the caller's timeout (`asked`, else the
    /// default).
    private func target(_ method: String, asked: Duration?) async throws(LoaderError) -> (FileCore, Worker) {
        if let chosen = pool.route(name, method: method) { return chosen }
        let timeout = asked ?? defaultCallTimeout
        return try await callTarget(method, deadline: timeout.map { ContinuousClock.now + $0 }, timeout: timeout)
    }

    /// The instance and worker a call goes to (`InstancePool.route`); for an idempotent method
    /// of a photon whose instances are all being restarted, the next generation of the first
    /// such instance, once it serves (up to `deadline`).
    func callTarget(_ method: String, deadline: ContinuousClock.Instant?, timeout: Duration?) async throws(LoaderError) -> (FileCore, Worker) {
        if let chosen = pool.route(name, method: method) { return chosen }
        let cores = pool.cores
        for instance in cores {
            let generation = instance.read { $0.photons[name]?.generation ?? 0 }
            guard instance.read({ $0.awaitsRestart(name, method: method, after: generation) }) else { continue }
            if let next = try await nextWorker(of: instance, after: generation, method, deadline: deadline, timeout: timeout) { return next }
        }
        // Why the first instance cannot take it.
        let worker = try core.read { $0.callTarget(name, method: method) }.get()
        return (core, worker)
    }

    /// The worker of a generation of `instance` after `number` once it serves the photon, or of
    /// another instance of a pool that takes calls meanwhile, with its instance, waiting while a
    /// restart is under way (up to `deadline`: then `timeout`); nil if none is coming.
    private func nextWorker(of instance: FileCore, after number: Int, _ method: String, deadline: ContinuousClock.Instant?,
                            timeout: Duration?) async throws(LoaderError) -> (FileCore, Worker)? {
        while true {
            let seen = instance.changes.count
            // Another instance that takes calls again (the changes are the pool's) will do.
            if pool.count > 1, let other = pool.route(name, method: method), other.core !== instance { return other }
            let ready = instance.read { lifecycle -> Worker?? in
                if case .success(let worker) = lifecycle.callTarget(name, method: method), worker.generation > number { return .some(worker) }
                return lifecycle.awaitsRestart(name, method: method, after: number) ? .some(nil) : nil
            }
            guard let ready else { return nil }
            if let worker = ready { return (instance, worker) }
            if Task.isCancelled {
                throw LoaderError(.cancelled, "the caller of call '\(method)' on photon \(name) (\(filePath)) was cancelled while the photon was being restarted", photon: name, file: filePath)
            }
            let left = deadline.map { ContinuousClock.now.duration(to: $0) }
            guard left.map({ $0 > .zero }) ?? true, await instance.changes.wait(past: seen, timeout: left) else {
                throw LoaderError(.timeout, "photon \(name) (\(filePath)) did not answer call '\(method)' within \(timeout ?? .zero): its worker ended and no new one served it in time", photon: name, file: filePath)
            }
        }
    }

    /// The instance and worker serving now, for a call that met `worker` being replaced;
    /// `unloaded` if none replaced it.
    func replacement(of worker: Worker, _ method: String) throws(LoaderError) -> (FileCore, Worker) {
        guard let current = pool.route(name, method: method), current.worker !== worker else {
            // Why none can: the first instance's reason, else that the photon is going away.
            _ = try core.read { $0.callTarget(name, method: method) }.get()
            throw LoaderError(.unloaded, "photon \(name) (\(filePath)) cannot take call '\(method)': it is being unloaded", photon: name, file: filePath)
        }
        return current
    }

    /// Identity: a handler equals only itself.
    public static func == (lhs: Handler, rhs: Handler) -> Bool { lhs === rhs }

    /// Hashes the identity.
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
