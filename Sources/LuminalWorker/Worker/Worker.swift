import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWire
import Synchronization

/// One generation of a photon file: a worker process and its protocol connection.
///
/// I/O and exit run on one serial queue per worker (fd 4 is read by the event loop's thread
/// inside that queue's `sync`); the handshake's end, request deadlines and the heartbeat are
/// timed by `WorkerClock`. The state they share with callers (pending requests, whether it takes
/// calls) sits behind a mutex. Where the generation is in its life is its file's lifecycle's
/// business (`FileLifecycle`), not the worker's.
package final class Worker: Sendable {
    /// The photon file this worker runs.
    package let file: PhotonFile
    /// 1 for the first worker of a file's instance, +1 for each new one.
    package let generation: Int
    /// Which of its file's instances it is: 1 for the first (`PoolSize`).
    package let instance: Int
    /// The process.
    package let process: ChildProcess
    /// The process and everything it started.
    package let tree: ProcessTree
    /// What holds and limits it.
    package let containment: ContainmentReport
    /// Calls it has answered (with a result or an error), for `RecyclePolicy.calls`.
    package let answeredCalls = Atomic<Int>(0)
    package let queue: DispatchQueue
    package let writer: FrameWriter
    package let hooks: WorkerHooks
    package let limits: RequestLimits
    package let state = Mutex<State>(State())
    // Set once in `init`, then only touched on `queue`.
    nonisolated(unsafe) var reader: FrameReader<WorkerMessage>?
    nonisolated(unsafe) var outputs: [OutputCapture] = []
    /// How long it has to say hello: the file's handshake timeout, else the loader's.
    package let handshakeTimeout: Duration

    package struct State {
        package var hello: Result<Hello, LoaderError>?
        var helloWaiters: [@Sendable (Result<Hello, LoaderError>) -> Void] = []
        package var pending: [Int64: PendingRequest] = [:] {
            didSet {
                guard pending.isEmpty, !idleWaiters.isEmpty else { return }
                idleWaiters.forEach { $0() }
                idleWaiters = []
            }
        }
        var idleWaiters: [@Sendable () -> Void] = []
        /// Requests abandoned after they reached the worker, whose late replies are dropped.
        var abandoned = AbandonedRequests()
        /// What the hello declared: the worker reads `cancel` messages and calls' `deadline_ms`.
        var features = WorkerFeatures()
        /// Calls abandoned after they reached a worker that reads `cancel`, whose cancels are
        /// still to be written (outside the lock, by `sendCancels`).
        var unsentCancels: [Int64] = []
        /// Host calls the worker's photons made, not yet answered, by the worker's id (PROTOCOL.md §3.4).
        var hostCalls: [Int64: HostCallEntry] = [:]
        /// Host calls whose request the host gave up on: id, that request's id and the call's task,
        /// answered and cancelled outside the lock (`answerGivenUpHostCalls`).
        var givenUpHostCalls: [(Int64, Int64, Task<Void, Never>?)] = []
        package var nextID: Int64 = 1
        package var fault: ProtocolFault?
        /// Request deadlines and the heartbeat, looked after by `WorkerClock`.
        var timers = WorkerTimers()
        /// The heartbeat, or the rule on unanswered calls, gave up on it: its end was already reported.
        var givenUp = false
        /// Whether it answers its calls (`CallResponsiveness`).
        package var responsiveness = CallResponsiveness()
        /// Replaced or being stopped: calls go elsewhere from now on.
        var closedToCalls = false
        /// The process was reaped.
        package var exited = false
        var recentOutput: [String] = []
    }

    /// The pid of the worker process.
    package var pid: pid_t { process.pid }

    /// Spawns the worker of `file`'s instance `instance`, handing it `sockets` (the file's held
    /// sockets, in the order of `file.sockets`), and starts reading its pipes.
    package init(file: PhotonFile, generation: Int, instance: Int = 1, settings: WorkerSettings, hooks: WorkerHooks,
                 sockets: [HeldSocket] = []) throws(LoaderError) {
        let marker = WorkerMarker.next()
        var environment = WorkerEnvironment.inherited()
        for name in DeclaredSocket.reservedVariables { environment[name] = nil }
        environment.merge(file.environment) { _, manifest in manifest }
        let socketVariables = DeclaredSocket.variables(plain: file.plain != nil)
        if !sockets.isEmpty {
            environment[socketVariables.count] = String(sockets.count)
            environment[socketVariables.names] = file.sockets.map(\.name).joined(separator: ":")
        }
        environment["LUMINAL_PROTOCOL"] = WireProtocol.supportedVersions.map(String.init).joined(separator: ",")
        environment["LUMINAL_FRAME_CAP"] = String(settings.frameCap)
        environment["LUMINAL_PHOTON_FILE"] = file.path
        environment[Self.instanceVariable] = String(instance)
        environment[WorkerMarker.variable] = marker
        let plan = try ContainmentPlan.make(for: file, generation: generation, settings: settings)
        let spawned: SpawnedProcess
        do {
            spawned = try Spawner.spawn(SpawnRequest(executable: file.executable, arguments: file.arguments,
                                                     environment: environment, workingDirectory: file.workingDirectory,
                                                     protocolPipes: file.plain == nil, contained: plan.spawn,
                                                     sockets: sockets.map(\.fd), pidVariable: sockets.isEmpty ? nil : socketVariables.pid))
        } catch {
            plan.cgroup.map(CgroupHost.shared.release)
            var failure = LoaderError(.spawnFailed, "photon file \(file.path) could not be started: \(error)", file: file.path)
            failure.heldElsewhere = [EAGAIN, ENOMEM, EMFILE, ENFILE].contains(error.errno)
            throw failure
        }
        containment = plan.report
        self.file = file
        self.generation = generation
        self.instance = instance
        self.hooks = hooks
        handshakeTimeout = file.timeouts.handshake ?? settings.handshakeTimeout
        limits = RequestLimits(queuedCallBytes: settings.queuedCallBytesLimit, callsInFlight: settings.callsInFlightLimit,
                               frameCap: settings.frameCap)
        queue = DispatchQueue(label: "luminal.worker.\(spawned.pid)")
        process = ChildProcess(pid: spawned.pid, pidfd: spawned.pidfd, queue: queue)
        tree = ProcessTree(root: spawned.pid, rootStart: process.startTime, marker: "\(WorkerMarker.variable)=\(marker)", cgroup: plan.cgroup)
        do {
            writer = try FrameWriter(fd: spawned.toWorker, queue: queue)
        } catch {
            [spawned.fromWorker, spawned.stdout, spawned.stderr].forEach(closeQuietly)
            process.signal(SIGKILL)
            throw LoaderError(.spawnFailed, "photon file \(file.path): \(error)", file: file.path)
        }
        // The clock ends the handshake (no timer of its own: a thousand loads would wake a
        // thousand queues to arm and to cancel them).
        let ends = Uptime.after(file.plain?.readyAfter ?? handshakeTimeout, from: Uptime.now())
        state.withLock { state in
            state.timers.handshakeEnds = ends
            look(by: ends, &state)
        }
        queue.sync { attachReaders(spawned, cap: settings.frameCap) }
        process.onExit { [weak self] status in self?.processExited(status) }
    }

    private func attachReaders(_ spawned: SpawnedProcess, cap: Int) {
        do {
            for (fd, stream) in [(spawned.stdout, OutputStream.stdout), (spawned.stderr, .stderr)] {
                outputs.append(try OutputCapture(fd: fd, stream: stream, queue: queue) { [weak self] stream, line in
                    self?.captured(stream, line)
                })
            }
            outputs.forEach { $0.activate() }
            guard spawned.fromWorker >= 0 else { return }
            let reader = try FrameReader(fd: spawned.fromWorker, cap: cap, queue: queue,
                                         decode: { decoder throws(ProtocolFault) in try decoder.nextWorkerMessage() },
                                         onMessage: { [weak self] in self?.receive($0) },
                                         onFault: { [weak self] in self?.fault($0) },
                                         onEnd: { [weak self] in self?.protocolEnded($0) })
            self.reader = reader
            reader.activate()
        } catch {
            [spawned.fromWorker, spawned.stdout, spawned.stderr].forEach(closeQuietly)
            fault(ProtocolFault(.closedProtocolPipe, "could not watch the worker's pipes: \(error)"))
        }
    }

    private func captured(_ stream: OutputStream, _ line: String) {
        state.withLock { state in
            state.recentOutput.append(line)
            if state.recentOutput.count > 20 { state.recentOutput.removeFirst() }
        }
        hooks.output(stream, line, pid)
    }

    /// The last lines the worker wrote, for error messages.
    var recentOutput: [String] { state.withLock { $0.recentOutput } }

    /// Stops taking calls: from now on a call is refused as `retired` (its caller retries on the
    /// photon's current worker); calls already sent finish. Start, stop and ping still work.
    package func closeToCalls() {
        stopHeartbeat()
        state.withLock { $0.closedToCalls = true }
    }

    /// Takes calls again after `closeToCalls` (a reload that rolls back brings back the generation
    /// it had replaced); the caller starts its heartbeat again.
    package func reopenToCalls() {
        state.withLock { $0.closedToCalls = false }
    }

    /// Calls (and pings) sent to it and not yet answered.
    package var callsInFlight: Int {
        state.withLock { $0.pending.count }
    }

    /// The variable that tells a worker which instance of its file it is (1 for the first): a
    /// pool's instances may use it to tell themselves apart, as PM2's `NODE_APP_INSTANCE`.
    package static let instanceVariable = "LUMINAL_INSTANCE"

    /// The protocol fault that ended this worker, if any.
    package var protocolFault: ProtocolFault? { state.withLock { $0.fault } }
}

/// The supervisor's own environment, which workers inherit.
enum WorkerEnvironment {
    /// `environ` as a dictionary.
    static func inherited() -> [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return result
    }
}
