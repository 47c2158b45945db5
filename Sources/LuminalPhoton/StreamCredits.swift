import LuminalWire
import Synchronization

/// The credit of each streamed call the worker is running (PROTOCOL.md §3.5): how many more
/// parts it may send, and the senders waiting for more (a method may send from several tasks).
///
/// A sender takes a part's credit (`take`) and says when its part is queued (`sent`); the call's
/// end (`end`) refuses senders from then on and waits for those between the two, so that no part
/// is written after the call's reply.
final class StreamCredits: Sendable {
    private struct Credit {
        var parts: Int64
        /// The senders waiting, each under a number of its own (for its cancellation).
        var waiters: [Int: UnsafeContinuation<Bool, Never>] = [:]
        /// Senders that took credit and have not yet queued their part.
        var sending = 0
        /// The call's end, once it began: waiting for `sending` to reach 0.
        var ended = false
        var drained: UnsafeContinuation<Void, Never>?
    }

    private let credits = Mutex<(calls: [Int64: Credit], nextWaiter: Int)>(([:], 0))

    /// Call `id` streams, with `parts` as its first credit.
    func begin(_ id: Int64, parts: Int64) {
        credits.withLock { $0.calls[id] = Credit(parts: parts) }
    }

    /// Call `id` is about to reply: senders waiting for credit, and any coming later, are refused;
    /// returns once the parts already given credit are queued.
    func end(_ id: Int64) async {
        let waiters = credits.withLock { state -> [UnsafeContinuation<Bool, Never>] in
            guard var credit = state.calls[id] else { return [] }
            credit.ended = true
            defer { credit.waiters = [:]; state.calls[id] = credit }
            return Array(credit.waiters.values)
        }
        waiters.forEach { $0.resume(returning: false) }
        await withUnsafeContinuation { (drained: UnsafeContinuation<Void, Never>) in
            let now = credits.withLock { state -> Bool in
                guard let credit = state.calls[id], credit.sending > 0 else {
                    state.calls[id] = nil
                    return true
                }
                state.calls[id]?.drained = drained
                return false
            }
            if now { drained.resume() }
        }
    }

    /// A sender of call `id` queued the part it took credit for.
    func sent(_ id: Int64) {
        let drained = credits.withLock { state -> UnsafeContinuation<Void, Never>? in
            guard var credit = state.calls[id] else { return nil }
            credit.sending -= 1
            guard credit.sending == 0, credit.ended, let drained = credit.drained else {
                state.calls[id] = credit
                return nil
            }
            state.calls[id] = nil
            return drained
        }
        drained?.resume()
    }

    /// The host's `credit` for call `id`; ignored for a call not streaming. Every waiting sender
    /// looks again (those that find none left wait again).
    func grant(_ id: Int64, parts: Int64) {
        let waiters = credits.withLock { state -> [UnsafeContinuation<Bool, Never>] in
            guard var credit = state.calls[id] else { return [] }
            credit.parts += parts
            defer { credit.waiters = [:]; state.calls[id] = credit }
            return Array(credit.waiters.values)
        }
        waiters.forEach { $0.resume(returning: true) }
    }

    /// Takes one part's credit of call `id`, waiting for the host to grant some if none is left;
    /// false if the call ended or the waiting task was cancelled. After true, call `sent`.
    func take(_ id: Int64) async -> Bool {
        while true {
            enum Step { case taken, ended, wait(Int) }
            let step = credits.withLock { state -> Step in
                guard var credit = state.calls[id], !credit.ended else { return .ended }
                guard credit.parts == 0 else {
                    credit.parts -= 1
                    credit.sending += 1
                    state.calls[id] = credit
                    return .taken
                }
                defer { state.nextWaiter += 1 }
                return .wait(state.nextWaiter)
            }
            switch step {
            case .taken: return true
            case .ended: return false
            case .wait(let number):
                guard !Task.isCancelled else { return false }
                let granted = await withTaskCancellationHandler {
                    await withUnsafeContinuation { (waiter: UnsafeContinuation<Bool, Never>) in
                        let waits = credits.withLock { state -> Bool in
                            guard let credit = state.calls[id], credit.parts == 0, !credit.ended else { return false }
                            state.calls[id]?.waiters[number] = waiter
                            return true
                        }
                        if !waits { return waiter.resume(returning: true) }
                        // A cancel before the waiter was there found none to wake: it is seen here.
                        if Task.isCancelled { self.stopWaiting(id, number) }
                    }
                } onCancel: {
                    stopWaiting(id, number)
                }
                guard granted else { return false }
            }
        }
    }

    /// Wakes sender `number` of call `id` with false, if it still waits.
    private func stopWaiting(_ id: Int64, _ number: Int) {
        credits.withLock { $0.calls[id]?.waiters.removeValue(forKey: number) }?.resume(returning: false)
    }
}
