@testable import Luminal
@testable import LuminalWorker
import Testing

/// The rule that calls a worker unresponsive, as a pure function of timeouts and replies.
@Suite struct CallResponsivenessRule {
    @Test func threeTimeoutsInARowWithNoReplyBetweenMakeAWorkerUnresponsiveUntilItsNextReply() {
        var rule = CallResponsiveness(replaceAfter: .seconds(2))
        // (step: a timeout at this instant, or nil for a reply; the change it reports; when it is to be given up)
        let steps: [(UInt64?, CallResponsiveness.Change, UInt64?)] = [
            (10, .none, nil),
            (nil, .none, nil),          // a reply between them: the count starts again
            (20, .none, nil),
            (30, .none, nil),
            (40, .unresponsive(timeouts: 3), 40 + 2_000_000_000),
            (50, .none, 40 + 2_000_000_000),
            (nil, .responsive, nil),
            (nil, .none, nil),
        ]
        for (index, (timeout, change, giveUpAt)) in steps.enumerated() {
            let reported = timeout.map { rule.timedOut(now: $0) } ?? rule.answered()
            #expect(reported == change, "step \(index)")
            #expect(rule.giveUpAt == giveUpAt, "step \(index)")
        }
    }

    @Test func withoutABoundAnUnresponsiveWorkerIsOnlyReported() {
        var rule = CallResponsiveness()
        for instant in 1...3 { _ = rule.timedOut(now: UInt64(instant)) }
        #expect(rule.since == 3 && rule.giveUpAt == nil)
    }
}
