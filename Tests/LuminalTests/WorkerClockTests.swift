@testable import Luminal
@testable import LuminalWorker
import Testing

/// The heartbeat's decision, without processes: instants in milliseconds on a made-up clock.
@Suite struct HeartbeatRules {
    /// One look at a worker, and what the rule must decide.
    struct Look: Sendable, CustomTestStringConvertible {
        let what: String
        let now: UInt64
        let lastHeard: UInt64
        let pingSentAt: UInt64?
        let decision: HeartbeatRule.Decision
        var testDescription: String { what }
    }

    /// Interval 30 s and timeout 10 s (the defaults): a leeway of 1 s (the clock's look-ahead).
    static let defaults = HeartbeatRule(interval: .seconds(30), timeout: .seconds(10))

    static let looks: [Look] = [
        Look(what: "heard from within the interval: not pinged", now: 40_000, lastHeard: 20_000, pingSentAt: nil, decision: .wait(until: ms(50_000))),
        Look(what: "silent for the interval: pinged", now: 50_000, lastHeard: 20_000, pingSentAt: nil, decision: .ping),
        Look(what: "silent for longer (a late look): pinged", now: 90_000, lastHeard: 20_000, pingSentAt: nil, decision: .ping),
        Look(what: "due within the leeway: pinged with the others", now: 49_000, lastHeard: 20_000, pingSentAt: nil, decision: .ping),
        Look(what: "due just past the leeway: waits", now: 48_999, lastHeard: 20_000, pingSentAt: nil, decision: .wait(until: ms(50_000))),
        Look(what: "ping in flight within its timeout: waits for the pong", now: 55_000, lastHeard: 20_000, pingSentAt: 50_000, decision: .wait(until: ms(60_000))),
        Look(what: "ping in flight, other frames heard since: still waits for the pong", now: 59_000, lastHeard: 58_000, pingSentAt: 50_000, decision: .wait(until: ms(60_000))),
        Look(what: "a timeout is never early, leeway or not", now: 59_999, lastHeard: 20_000, pingSentAt: 50_000, decision: .wait(until: ms(60_000))),
        Look(what: "no pong at the timeout: given up", now: 60_000, lastHeard: 20_000, pingSentAt: 50_000, decision: .timedOut),
        Look(what: "no pong past the timeout (a late look): given up", now: 75_000, lastHeard: 58_000, pingSentAt: 50_000, decision: .timedOut),
    ]

    @Test(arguments: looks) func decides(_ look: Look) {
        #expect(Self.defaults.decide(now: ms(look.now), lastHeard: ms(look.lastHeard), pingSentAt: look.pingSentAt.map(ms)) == look.decision)
    }

    @Test func theLeewayIsAnEighthOfAShortInterval() {
        let rule = HeartbeatRule(interval: .milliseconds(100), timeout: .seconds(1))
        #expect(rule.leeway == 12_500_000)
        #expect(rule.decide(now: ms(87), lastHeard: 0, pingSentAt: nil) == .wait(until: ms(100)))
        #expect(rule.decide(now: ms(88), lastHeard: 0, pingSentAt: nil) == .ping)
    }

    @Test func noIntervalIsNoHeartbeat() {
        #expect(HeartbeatRule(HealthCheck(interval: nil, timeout: .seconds(10))) == nil)
        #expect(HeartbeatRule(HealthCheck()) == Self.defaults)
    }

    /// A worker that falls silent is given up `interval + timeout` after its last frame when the
    /// clock looks exactly when it is asked to: as soon as when every worker was pinged each interval.
    @Test func aSilentWorkerIsGivenUpIntervalPlusTimeoutAfterItsLastFrame() {
        var now: UInt64 = ms(20_000)
        let lastHeard = now
        var pingSentAt: UInt64?
        var looks = 0
        while looks < 10 {
            looks += 1
            switch Self.defaults.decide(now: now, lastHeard: lastHeard, pingSentAt: pingSentAt) {
            case .wait(let until): now = until
            case .ping: pingSentAt = now
            case .timedOut:
                #expect(now == lastHeard + ms(40_000))
                #expect(looks == 4) // wait, ping, wait for the pong, give up
                return
            }
        }
        Issue.record("not given up after \(looks) looks")
    }
}

/// The heap of request deadlines.
@Suite struct RequestDeadlineHeap {
    @Test func yieldsDeadlinesEarliestFirstHoweverTheyCame() {
        let deadlines: [UInt64] = [50, 10, 40, 10, 90, 20, 70, 30, 60, 80, 0, 55]
        let entries = deadlines.enumerated().map { RequestDeadlines.Entry(deadline: $0.element, id: Int64($0.offset), timeout: .seconds(1)) }
        var pushed = RequestDeadlines()
        entries.forEach { pushed.push($0) }
        var built = RequestDeadlines(heapifying: entries.reversed())
        for expected in deadlines.sorted() {
            #expect(pushed.first?.deadline == expected && built.first?.deadline == expected)
            pushed.removeFirst()
            built.removeFirst()
        }
        #expect(pushed.first == nil && built.first == nil && pushed.count == 0)
    }
}

/// `milliseconds` in nanoseconds.
private func ms(_ milliseconds: UInt64) -> UInt64 {
    milliseconds * 1_000_000
}
