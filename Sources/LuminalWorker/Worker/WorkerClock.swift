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
        var looks: [ObjectIdentifier: Look] = [:]
        /// When the timer fires; nil while it is not armed.
        var armed: UInt64?
        /// A firing is looking at workers: it arms the timer when it is done.
        var firing = false
    }

    /// A worker to look at by `at`.
    private struct Look {
        weak var worker: Worker?
        var at: UInt64
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
            if let look = state.looks[key], look.worker === worker, look.at <= at { return }
            state.looks[key] = Look(worker: worker, at: at)
            if !state.firing, state.armed.map({ at < $0 }) ?? true { arm(&state, at) }
        }
    }

    private func fire() {
        let now = Uptime.now()
        let horizon = Uptime.after(Self.lookAhead, from: now)
        let due = state.withLock { state -> [Worker] in
            state.armed = nil
            state.firing = true
            let keys = state.looks.compactMap { $0.value.at <= horizon ? $0.key : nil }
            return keys.compactMap { state.looks.removeValue(forKey: $0)?.worker }
        }
        // Each at its own instant: a ping's timeout runs from when it was written.
        due.forEach { $0.tick(now: Uptime.now()) }
        state.withLock { state in
            state.firing = false
            if let earliest = state.looks.values.lazy.map(\.at).min() { arm(&state, earliest) }
        }
    }

    private func arm(_ state: inout State, _ at: UInt64) {
        state.armed = at
        timer.schedule(deadline: DispatchTime(uptimeNanoseconds: at), leeway: .nanoseconds(0))
    }
}
