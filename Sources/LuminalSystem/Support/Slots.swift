import Dispatch
import Synchronization

/// Lets up to `width` holders work at a time; the others wait their turn, first come first
/// served. For a burst of work that is no faster all at once and costs memory for each piece
/// waiting: a thousand photon files loading together each hold a suspended task's frames.
package final class Slots: Sendable {
    private let state: Mutex<(free: Int, waiting: [CheckedContinuation<Void, Never>])>

    /// Slots for `width` holders at a time (at least one).
    package init(width: Int) {
        state = Mutex((max(1, width), []))
    }

    /// Waits for a free slot and takes it. The slot goes back when `Slot.release()` is called,
    /// or once `limit` has passed if that comes first: a holder that takes long (a worker slow
    /// to say hello) holds back the others that long at most, and then carries on beside them.
    package func take(lendingFor limit: Duration? = nil) async -> Slot {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let taken = state.withLock { state -> Bool in
                guard state.free > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.free -= 1
                return true
            }
            if taken { continuation.resume() }
        }
        let slot = Slot(of: self)
        if let limit { slot.goBack(after: limit) }
        return slot
    }

    /// Gives back a slot taken: to the holder that waited longest, if any.
    fileprivate func giveBack() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.free += 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }

    /// Holders waiting for a slot now.
    package var waiting: Int {
        state.withLock { $0.waiting.count }
    }
}

/// A slot taken from `Slots`; it goes back once, whoever gives it back first.
package final class Slot: Sendable {
    private let slots: Slots
    private let held = Atomic<Bool>(true)
    /// The timer that gives a lent slot back; cancelled by the release, so a slot given back
    /// leaves nothing on Dispatch's timer heap (an `asyncAfter` would stay there until it fired).
    private let lending = Mutex<TimerSource?>(nil)

    fileprivate init(of slots: Slots) {
        self.slots = slots
    }

    /// Gives the slot back once `limit` has passed, unless it is released before.
    fileprivate func goBack(after limit: Duration) {
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + limit.dispatchInterval)
        timer.setEventHandler { self.release() }
        lending.withLock { $0 = TimerSource(source: timer) }
        timer.activate()
    }

    /// Gives the slot back, if it is not back already.
    package func release() {
        guard held.exchange(false, ordering: .acquiringAndReleasing) else { return }
        // The timer's handler holds this slot: cancelling releases it.
        lending.withLock { $0.take() }?.source.cancel()
        slots.giveBack()
    }
}
