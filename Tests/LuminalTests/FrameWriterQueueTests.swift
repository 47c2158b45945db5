import Testing
@testable import LuminalSystem

/// The order `FrameWriter` writes queued frames in: a sender's frame the pipe took only part of
/// goes back ahead of the frames others queued while it wrote, and those stay withdrawable.
@Suite struct FrameWriterQueueRule {
    @Test func aPartlyWrittenFrameGoesAheadOfThoseQueuedMeanwhile() throws {
        var state = FrameWriter.State(fd: -1)
        state.append([1, 2, 3], tag: 7, written: 0)
        state.append([4, 5], tag: 8, written: 0)
        state.prepend([9, 9, 9, 9], written: 1)
        #expect(state.queuedBytes == 3 + 3 + 2)
        let withdrawn = state.withdraw(8)
        #expect(withdrawn)
        let next = state.takeBatch(upTo: 1024)
        let (batch, offset) = try #require(next)
        #expect(Array(batch[offset...]) == [9, 9, 9, 1, 2, 3])
    }

    @Test func itTakesTheSlotOfAFrameAlreadyWritten() throws {
        var state = FrameWriter.State(fd: -1)
        state.append([1, 2], tag: 1, written: 0)
        state.append([3, 4], tag: 2, written: 0)
        state.consume(2) // the first is written; the second waits at the head
        state.prepend([7, 7, 7], written: 2)
        #expect(state.queuedBytes == 1 + 2)
        let withdrawn = state.withdraw(2)
        #expect(withdrawn)
        let next = state.takeBatch(upTo: 1024)
        let (batch, offset) = try #require(next)
        #expect(Array(batch[offset...]) == [7])
        state.consume(1)
        let after = state.takeBatch(upTo: 1024)
        #expect(state.queuedBytes == 0 && after == nil)
    }

    @Test func withNothingQueuedItIsQueuedAlone() throws {
        var state = FrameWriter.State(fd: -1)
        state.prepend([5, 6, 7], written: 2)
        let next = state.takeBatch(upTo: 1024)
        let (batch, offset) = try #require(next)
        #expect(Array(batch[offset...]) == [7])
    }

    /// Frames the writer took cannot be withdrawn while it writes them (it is written, and its
    /// reply is dropped as abandoned); one queued after them can.
    @Test func framesTakenByTheWriterAreNotWithdrawn() throws {
        var state = FrameWriter.State(fd: -1)
        state.append([1, 1], tag: 1, written: 0)
        state.append([2, 2], tag: 2, written: 0)
        let next = state.takeBatch(upTo: 1024)
        let (batch, _) = try #require(next)
        #expect(batch == [1, 1, 2, 2])
        state.append([3, 3], tag: 3, written: 0)
        let taken = state.withdraw(2), queuedAfter = state.withdraw(3)
        #expect(!taken && queuedAfter)
        state.consume(3) // the first frame and half the second were written
        #expect(state.queuedBytes == 1)
    }
}
