#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWire
import LuminalWorker
import Synchronization

/// A loaded photon file's lifecycle behind one lock, shared by its handlers, its workers' hooks
/// and the loader; it carries out the effects of each transition.
///
/// Effects that are the caller's to await (`sendStart`, `stop`) and refusals come back from
/// `apply`; the rest (events, logs, closing a generation to calls, tree kills, the restart timer)
/// are done here, outside the lock.
package final class FileCore: Sendable {
    /// The photon file's path.
    package let path: String
    /// Which of the file's instances this is: 1 for the first (`PoolSize`).
    package let instance: Int
    /// Told apart from every other file core of this process, even one freed before it: what
    /// the metrics keep of a file between scrapes is found by it.
    let serial = FileCore.serials.wrappingAdd(1, ordering: .relaxed).newValue
    package let context: LoaderContext
    /// Reloads, rollbacks, faults and missed heartbeats, for the metrics: the file's, shared by
    /// its instances.
    let counters: FileCounters
    private let lifecycle: Mutex<FileLifecycle<Worker>>
    /// Wakes calls that wait for the next generation; shared by the file's instances, so that a
    /// call waiting for one instance's restart sees another take calls again, and the metrics see
    /// any instance's transitions.
    let changes: LifecycleChanges
    private static let serials = Atomic<UInt64>(0)
    /// When the pool last chose this instance for a call (`InstancePool.tickets`): of two
    /// instances with as many calls in flight, the one chosen longer ago takes the next.
    let lastChosen = Atomic<UInt64>(0)
    /// Calls the pool sent to this instance (`InstancePool.route`), for the metrics.
    let routedCalls = Atomic<UInt64>(0)
    /// The pool it is an instance of (`InstancePool.join`): an essential file is lost only once
    /// every instance is.
    private let pool = Mutex<WeakPool>(WeakPool())
    /// The scheduled restart, and what runs it (set by the loader).
    private let restart = Mutex<(task: Task<Void, Never>?, run: (@Sendable () async -> Void)?)>((nil, nil))

    /// The core of instance `instance` of the photon file at `path`; one after the first shares
    /// the `first` one's counters and changes.
    package init(path: String, instance: Int = 1, sharingWith first: FileCore? = nil, policy: RestartPolicy, context: LoaderContext) {
        self.path = path
        self.instance = instance
        counters = first?.counters ?? FileCounters()
        changes = first?.changes ?? LifecycleChanges()
        self.context = context
        var lifecycle = FileLifecycle<Worker>(path: path, policy: policy)
        lifecycle.instance = instance
        self.lifecycle = Mutex(lifecycle)
    }

    /// Applies `event` and carries out its effects; returns those left to the caller.
    @discardableResult
    func apply(_ event: LifecycleEvent<Worker>) -> [LifecycleEffect<Worker>] {
        let effects = lifecycle.withLock { $0.apply(event) }
        changes.changed()
        var left: [LifecycleEffect<Worker>] = []
        for effect in effects {
            switch effect {
            case .emit(let event): context.events.emit(event)
            case .log(let level, let text): context.log(level, text, file: path)
            case .closeToCalls(let worker): worker.closeToCalls()
            case .killTree(let worker):
                let grace = worker.file.timeouts.kill ?? context.configuration.killTimeout
                context.tasks.run { _ = await worker.tree.terminate(first: SIGKILL, grace: grace) }
            case .scheduleRestart(let delay): scheduleRestart(after: delay)
            case .cancelRestart: cancelRestart()
            case .essentialLost(let reason):
                let others = pool.withLock { $0.pool }?.cores.filter { $0 !== self } ?? []
                if others.allSatisfy({ $0.read(\.allFinal) }) { context.configuration.essentialLost?(path, reason) }
            case .sendStart, .stop, .refuse: left.append(effect)
            }
        }
        return left
    }

    /// Reads the lifecycle.
    package func read<Value>(_ body: (FileLifecycle<Worker>) -> Value) -> Value {
        lifecycle.withLock { body($0) }
    }

    /// What the handler of `photon` shows now.
    package func snapshot(of photon: String) -> PhotonSnapshot? {
        let now = ContinuousClock.now
        return lifecycle.withLock { $0.snapshot(of: photon, at: now) }
    }

    /// It is an instance of `pool` from now on.
    func join(_ pool: InstancePool) {
        self.pool.withLock { $0.pool = pool }
    }

    /// Sets what runs a scheduled restart when it is due.
    func onRestartDue(_ run: @escaping @Sendable () async -> Void) {
        restart.withLock { $0.run = run }
    }

    /// The file leaves the loader: a scheduled restart is forgotten.
    func discard() {
        cancelRestart()
        restart.withLock { $0.run = nil }
    }

    private func scheduleRestart(after delay: Duration) {
        restart.withLock { state in
            state.task?.cancel()
            guard let run = state.run else { return }
            state.task = Task {
                if delay > .zero { try? await Task.sleep(for: delay) }
                guard !Task.isCancelled else { return }
                await run()
            }
        }
    }

    private func cancelRestart() {
        restart.withLock { state in
            state.task?.cancel()
            state.task = nil
        }
    }

    /// The hooks for generation `number`: what its worker reports becomes events of this file.
    package func hooks(generation number: Int) -> WorkerHooks {
        let path = path, context = context
        // Who the generation's lines speak for, once its hello named its photons (fixed from then
        // on): not looked up under the lifecycle's lock, which calls take, at every line.
        let named = Mutex<(names: [String], tag: String)?>(nil)
        return WorkerHooks(
            output: { [weak self] stream, text, pid in
                let speaker: (names: [String], tag: String)
                if let known = named.withLock({ $0 }) {
                    speaker = known
                } else {
                    // A generation coming up or retiring in a reload speaks for the same photons.
                    let (names, own): ([String], Bool) = self?.lifecycle.withLock { lifecycle in
                        (lifecycle.photonNames(of: number), lifecycle.generation(number)?.photons.isEmpty == false)
                    } ?? ([], false)
                    let found = (names: names, tag: names.isEmpty ? Paths.name(path) : names.joined(separator: ","))
                    if own { named.withLock { $0 = found } }
                    speaker = found
                }
                context.log(stream == .stderr ? .warning : .info, text, file: path, tag: speaker.tag, stream: stream)
                context.events.emit(.log(LogLine(file: path, photons: speaker.names, pid: pid, stream: stream, text: text)))
            },
            event: { photon, name, data in
                context.events.emit(.photonEvent(photon: photon, file: path, name: name, data: data))
            },
            fault: { [weak self] fault in
                guard let self else { return }
                FileCounters.count(counters.protocolFaults)
                apply(.ended(number: number, ending: .faulted(fault.description), at: .now, random: .random(in: 0...1)))
            },
            missedHeartbeat: { [weak self] timeout in
                guard let self else { return }
                FileCounters.count(counters.missedHeartbeats)
                apply(.ended(number: number, ending: .missedHeartbeat(timeout), at: .now, random: .random(in: 0...1)))
            },
            responsiveness: { [weak self] change in
                switch change {
                case .unresponsive(let timeouts): self?.apply(.unresponsive(number: number, timeouts: timeouts))
                case .responsive: self?.apply(.responsive(number: number))
                case .none: break
                }
            },
            unresponsiveTooLong: { [weak self] bound in
                self?.apply(.ended(number: number, ending: .unresponsive(bound), at: .now, random: .random(in: 0...1)))
            },
            exited: { [weak self] status, overLimit in
                let ending = overLimit.map { GenerationEnding.overLimit(status, $0) } ?? .exited(status)
                self?.apply(.ended(number: number, ending: ending, at: .now, random: .random(in: 0...1)))
            },
            hostCall: { request, answer in context.hostFunctions.start(request, answer: answer) })
    }
}

/// A pool held without keeping it (the pool holds its cores).
private struct WeakPool {
    weak var pool: InstancePool?
}
