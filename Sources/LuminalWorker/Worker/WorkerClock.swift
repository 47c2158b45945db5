import Dispatch
import LuminalSystem
import Synchronization

/// One timer for every worker's handshake, request deadlines and heartbeat.
///
/// A worker asks to be looked at by some instant (`look(at:by:)`); the clock keeps the earliest
/// per worker and one Dispatch timer armed for the earliest of all, re-armed only when an earlier
/// one comes in. When it fires, every worker due within `lookAhead` is looked at in that firing
/// (`Worker.tick`): handshakes past their time end, requests past their deadline expire, due pings go out, silent workers are
/// given up, and each worker names its next instant. Looking early costs a lock and changes
/// nothing (an early worker names its next instant again), so a thousand workers whose pings
/// fall due within a second of each other cost one firing, not a thousand; nothing is handled
/// before its instant, so no deadline and no pong's timeout expires early.
///
/// Lock order: a worker's state, then the clock's. Ticks run on the clock's queue, without the
/// clock's lock.
final class WorkerClock: Sendable {
    /// The clock of this process.
    static let shared = WorkerClock()
    /// How far past the instant it fires for a firing also looks at workers.
    static let lookAhead = Duration.seconds(1)

    private let queue = DispatchQueue(label: "luminal.clock")
    // Thread-safe: only scheduled, under the lock.
    private nonisolated(unsafe) let timer: any DispatchSourceTimer
    private let state = Mutex<State>(State())

    private struct State {
        /// By when each worker is to be looked at; a firing scans these alone.
        var instants: [ObjectIdentifier: UInt64] = [:]
        /// The workers, held weakly (a weak reference costs more to copy than an instant).
        var workers: [ObjectIdentifier: WeakWorker] = [:]
        /// When the timer fires; nil while it is not armed.
        var armed: UInt64?
        /// A firing is looking at workers: it arms the timer when it is done.
        var firing = false
    }

    private struct WeakWorker {
        weak var worker: Worker?
    }

    private init() {
        timer = DispatchSource.makeTimerSource(queue: queue)
        timer.setEventHandler { [weak self] in self?.fire() }
        timer.activate()
    }

    /// Looks at `worker` no later than `at`. Called under the worker's state lock.
    func look(at worker: Worker, by at: UInt64) {
        state.withLock { state in
            let key = ObjectIdentifier(worker)
            if let earlier = state.instants[key], earlier <= at, state.workers[key]?.worker === worker { return }
            state.instants[key] = at
            state.workers[key] = WeakWorker(worker: worker)
            if !state.firing, state.armed.map({ at < $0 }) ?? true { arm(&state, at) }
        }
    }

    private func fire() {
        let now = Uptime.now()
        let horizon = Uptime.after(Self.lookAhead, from: now)
        let due = state.withLock { state -> [Worker] in
            state.armed = nil
            state.firing = true
            let keys = state.instants.compactMap { $0.value <= horizon ? $0.key : nil }
            return keys.compactMap { key in
                state.instants.removeValue(forKey: key)
                return state.workers.removeValue(forKey: key)?.worker
            }
        }
        // Each at its own instant: a ping's timeout runs from when it was written.
        due.forEach { $0.tick(now: Uptime.now()) }
        state.withLock { state in
            state.firing = false
            if let earliest = state.instants.values.min() { arm(&state, earliest) }
        }
    }

    private func arm(_ state: inout State, _ at: UInt64) {
        state.armed = at
        timer.schedule(deadline: DispatchTime(uptimeNanoseconds: at), leeway: .nanoseconds(0))
    }
}
