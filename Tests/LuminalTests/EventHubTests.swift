@testable import Luminal
import LuminalWire
import Synchronization
import Testing

/// The events a hub keeps, and how a new subscriber gets them and the events after them.
@Suite struct EventHubKeeping {
    /// Events emitted while subscribers come: each subscriber's kept events and its stream meet
    /// without a gap or a repeat.
    @Test func theKeptEventsAndTheStreamMeetWithoutAGapOrARepeat() async {
        let hub = EventHub()
        let done = Atomic(false)
        // On a thread of its own: a task that never suspends would hold one of the cooperative
        // pool's few threads, which the subscriber (and other suites) need.
        let emitter = Task {
            try await offThePool {
                var number: Int64 = 0
                while !done.load(ordering: .relaxed) {
                    hub.emit(Self.numbered(number))
                    number += 1
                }
            }
        }
        var seams = 0
        while seams < 100 {
            let (recent, stream) = hub.subscribeAfterRecent()
            guard let last = recent.last.flatMap(Self.number) else {
                // Nothing kept yet: let the emitter start rather than pile up subscribers.
                await Task.yield()
                continue
            }
            var events = stream.makeAsyncIterator()
            let next = await events.next().flatMap(Self.number)
            #expect(next == last + 1, "the kept events end at \(last), the stream begins at \(next.map(String.init) ?? "nothing")")
            seams += 1
        }
        done.store(true, ordering: .relaxed)
        try? await emitter.value
    }

    /// 50,000 subscribers whose streams ended (clients that hung up) are all forgotten by the
    /// next event, in time linear in their number, and a live one still gets it.
    @Test(.timeLimit(.minutes(1)))
    func subscribersThatEndedAreForgottenInOnePass() async {
        let hub = EventHub()
        for _ in 0..<50_000 { _ = hub.subscribe() }
        var live = hub.subscribe().makeAsyncIterator()
        hub.emit(Self.numbered(7))
        #expect(await live.next().flatMap(Self.number) == 7)
    }

    /// The hub keeps the last `KeptEvents.limit`, in order, and no `log` event.
    @Test func itKeepsTheLastEventsButNoLogLine() {
        let hub = EventHub()
        for number in 0..<Int64(KeptEvents.limit + 10) {
            hub.emit(Self.numbered(number))
            hub.emit(.log(LogLine(file: "f", photons: ["p"], pid: 1, stream: .stdout, text: "line")))
        }
        let kept = hub.subscribeAfterRecent().recent.compactMap(Self.number)
        #expect(kept == Array(10..<Int64(KeptEvents.limit + 10)))
    }

    /// A photon event whose data is `number`.
    static func numbered(_ number: Int64) -> LoaderEvent {
        .photonEvent(photon: "p", file: "f", name: "n", data: .int(number))
    }

    /// The number a `numbered` event carries.
    static func number(_ event: LoaderEvent) -> Int64? {
        guard case .photonEvent(_, _, _, let data) = event else { return nil }
        return data.intValue
    }
}
