import Testing
@testable import LuminalSystem

/// When a burst of loads is over, as `BurstTrim.Tally` decides it: no trim is run.
@Suite struct BurstTrimRule {
    /// A watcher's first acts, all begun together: each hashes its file, then loads it alone (the
    /// loads come one after another, none in progress between two), then starts its photons.
    /// The burst is over only when the last act ends, not whenever no load is in progress.
    @Test func actsThatLoadOneAfterAnotherTrimOnceWhenTheLastEnds() {
        var tally = BurstTrim.Tally()
        let acts = 2 * BurstTrim.burst
        tally.began(.around) // the wait for all of them
        for _ in 0..<acts { tally.began(.around) }
        for index in 0..<acts {
            tally.began(.load)
            let trims = tally.ended()
            #expect(!trims, "load \(index) ended while acts were in progress")
        }
        for index in 0..<acts {
            let trims = tally.ended()
            #expect(!trims, "act \(index) ended while the wait was in progress")
        }
        let last = tally.ended()
        #expect(last)
        #expect(tally.inProgress == 0 && tally.loads == 0)
    }

    /// Fewer loads than a burst, however they overlap, never trim; the count goes on across them.
    @Test func fewLoadsAtATimeNeverTrimAndTheCountGoesOn() {
        var tally = BurstTrim.Tally()
        for _ in 0..<(BurstTrim.burst - 1) {
            tally.began(.load)
            let trims = tally.ended()
            #expect(!trims)
        }
        #expect(tally.loads == BurstTrim.burst - 1)
        tally.began(.around)
        tally.began(.load)
        let loadEnded = tally.ended()
        #expect(!loadEnded)
        let aroundEnded = tally.ended()
        #expect(aroundEnded)
        #expect(tally.loads == 0)
    }
}
