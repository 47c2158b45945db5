import LuminalWire
import Synchronization

/// The credit of each streamed call the worker is running (PROTOCOL.md §3.5): how many more
/// parts it may send, and the method waiting for more, if one is.
final class StreamCredits: Sendable {
    private struct Credit {
        var parts: Int64
        var waiter: UnsafeContinuation<Bool, Never>?
    }

    private let credits = Mutex<[Int64: Credit]>([:])

    /// Call `id` streams, with `parts` as its first credit.
    func begin(_ id: Int64, parts: Int64) {
        credits.withLock { $0[id] = Credit(parts: parts) }
    }

    /// Call `id` has replied: a method still waiting for credit stops waiting.
    func end(_ id: Int64) {
        credits.withLock { $0.removeValue(forKey: id) }?.waiter?.resume(returning: false)
    }

    /// The host's `credit` for call `id`; ignored for a call not streaming.
    func grant(_ id: Int64, parts: Int64) {
        let waiter = credits.withLock { credits -> UnsafeContinuation<Bool, Never>? in
            guard var credit = credits[id] else { return nil }
            credit.parts += parts
            defer { credit.waiter = nil; credits[id] = credit }
            return credit.waiter
        }
        waiter?.resume(returning: true)
    }

    /// Takes one part's credit of call `id`, waiting for the host to grant some if none is left;
    /// false if the call ended or the waiting task was cancelled.
    func take(_ id: Int64) async -> Bool {
        while true {
            enum Step { case taken, ended, wait }
            let step = credits.withLock { credits -> Step in
                guard var credit = credits[id] else { return .ended }
                guard credit.parts > 0 else { return .wait }
                credit.parts -= 1
                credits[id] = credit
                return .taken
            }
            switch step {
            case .taken: return true
            case .ended: return false
            case .wait:
                guard !Task.isCancelled else { return false }
                let granted = await withTaskCancellationHandler {
                    await withUnsafeContinuation { (waiter: UnsafeContinuation<Bool, Never>) in
                        let waits = credits.withLock { credits -> Bool in
                            guard var credit = credits[id], credit.parts == 0 else { return false }
                            credit.waiter = waiter
                            credits[id] = credit
                            return true
                        }
                        if !waits { return waiter.resume(returning: true) }
                        // A cancel before the waiter was there found none to wake: it is seen here.
                        if Task.isCancelled, let waiter = credits.withLock({ credits -> UnsafeContinuation<Bool, Never>? in
                            defer { credits[id]?.waiter = nil }
                            return credits[id]?.waiter
                        }) {
                            waiter.resume(returning: false)
                        }
                    }
                } onCancel: {
                    credits.withLock { credits -> UnsafeContinuation<Bool, Never>? in
                        defer { credits[id]?.waiter = nil }
                        return credits[id]?.waiter
                    }?.resume(returning: false)
                }
                guard granted else { return false }
            }
        }
    }
}
