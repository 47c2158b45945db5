import Synchronization
import Testing
@testable import LuminalSystem

/// How `Slots` lets holders in: up to its width at once, the others in the order they came.
@Suite struct SlotsRule {
    /// Two slots and four holders: two get in at once, the other two wait, and each slot given
    /// back goes to the holder that waited longest.
    @Test func holdersBeyondTheWidthWaitAndGetInFirstComeFirstServed() async throws {
        let slots = Slots(width: 2)
        let first = await slots.take(), second = await slots.take()
        let entered = Entered()
        var waiters: [Task<Slot, Never>] = []
        for index in 0..<2 {
            waiters.append(Task {
                let slot = await slots.take()
                entered.list.withLock { $0.append(index) }
                return slot
            })
            // The next holder comes only once this one waits: the order is the test's.
            try await waitUntil("holder \(index) waits") { slots.waiting == index + 1 }
        }
        #expect(entered.list.withLock { $0 }.isEmpty)
        first.release()
        first.release() // given back once only: the second waiter still waits
        _ = await waiters[0].value
        #expect(entered.list.withLock { $0 } == [0])
        #expect(slots.waiting == 1)
        second.release()
        _ = await waiters[1].value
        #expect(entered.list.withLock { $0 } == [0, 1])
        // Both slots are held again (by the two that waited): a fifth holder waits as well.
        let fifth = Task { await slots.take() }
        try await waitUntil("the fifth holder waits") { slots.waiting == 1 }
        #expect(entered.list.withLock { $0 } == [0, 1])
        await waiters[0].value.release()
        await fifth.value.release()
        await waiters[1].value.release()
        #expect(slots.waiting == 0)
    }

    /// A slot lent for a time goes back by itself once the time has passed, if its holder has not
    /// given it back: the holder waiting gets in; the late release gives back nothing more.
    @Test func aSlotLentForATimeGoesBackByItself() async throws {
        let slots = Slots(width: 1)
        let lent = await slots.take(lendingFor: .milliseconds(50))
        let next = await slots.take() // in once the first slot went back by itself
        lent.release()
        let third = Task { await slots.take() }
        try await waitUntil("the third holder waits") { slots.waiting == 1 }
        next.release()
        await third.value.release()
    }

    /// A lent slot given back before its time leaves nothing behind: its timer is cancelled and
    /// lets go of it, rather than holding it (and waking) until the time would have passed.
    @Test func aLentSlotGivenBackEarlyIsLetGoOf() async throws {
        let slots = Slots(width: 1)
        weak var gone: Slot?
        do {
            let lent = await slots.take(lendingFor: .seconds(3600))
            gone = lent
            lent.release()
        }
        try await waitUntil("the lent slot let go of") { gone == nil }
        await slots.take().release()
    }

    /// A width below one still lets one holder in at a time.
    @Test func aWidthBelowOneIsOne() async throws {
        let slots = Slots(width: 0)
        let first = await slots.take()
        let second = Task { await slots.take() }
        try await waitUntil("the second holder waits") { slots.waiting == 1 }
        first.release()
        await second.value.release()
        #expect(slots.waiting == 0)
    }
}

/// The holders that got in, in order.
private final class Entered: Sendable {
    let list = Mutex<[Int]>([])
}
