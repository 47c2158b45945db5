import Synchronization
import Testing
@testable import LuminalSystem

/// How `Slots` lets holders in: up to its width at once, the others in the order they came.
@Suite struct SlotsRule {
    /// Two slots and four holders: two get in at once, the other two wait, and each slot given
    /// back goes to the holder that waited longest.
    @Test func holdersBeyondTheWidthWaitAndGetInFirstComeFirstServed() async throws {
        let slots = Slots(width: 2)
        await slots.take()
        await slots.take()
        let entered = Entered()
        var waiters: [Task<Void, Never>] = []
        for index in 0..<2 {
            waiters.append(Task {
                await slots.take()
                entered.list.withLock { $0.append(index) }
            })
            // The next holder comes only once this one waits: the order is the test's.
            try await waitUntil("holder \(index) waits") { slots.waiting == index + 1 }
        }
        #expect(entered.list.withLock { $0 }.isEmpty)
        slots.release()
        await waiters[0].value
        #expect(entered.list.withLock { $0 } == [0])
        #expect(slots.waiting == 1)
        slots.release()
        await waiters[1].value
        #expect(entered.list.withLock { $0 } == [0, 1])
        // Both slots are held again (by the two that waited): a fifth holder waits as well.
        let fifth = Task { await slots.take() }
        try await waitUntil("the fifth holder waits") { slots.waiting == 1 }
        slots.release()
        await fifth.value
    }

    /// A width below one still lets one holder in at a time.
    @Test func aWidthBelowOneIsOne() async throws {
        let slots = Slots(width: 0)
        await slots.take()
        let second = Task { await slots.take() }
        try await waitUntil("the second holder waits") { slots.waiting == 1 }
        slots.release()
        await second.value
        #expect(slots.waiting == 0)
    }
}

/// The holders that got in, in order.
private final class Entered: Sendable {
    let list = Mutex<[Int]>([])
}
