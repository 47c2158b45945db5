import LuminalSystem
import LuminalWire
import Synchronization

/// The parts of one streamed call (PROTOCOL.md §3.5) between the worker's pipe and the one
/// consumer that takes them, with the credit that bounds what waits here: the worker may send
/// `window` parts at first, and one more for each part the consumer took (granted in batches of
/// half the window), so at most `window` parts ever wait, whatever the consumer's pace.
///
/// The final reply ends it: its value (unless `null`) is the last element, its error is thrown.
package final class PartStream: Sendable {
    /// The most parts that wait here; the worker's first credit.
    package let window: Int
    private let state = Mutex(State())

    struct State {
        var parts: [JSONValue] = []
        /// Where `parts` begins (taken parts are dropped in batches).
        var head = 0
        /// Parts the worker may still send.
        var credit: Int64 = 0
        /// Parts taken since the last grant.
        var taken = 0
        var consumer: UnsafeContinuation<Result<JSONValue?, LoaderError>, Never>?
        /// How the call ended: its final value, or its error; nil while it runs.
        var end: Result<JSONValue?, LoaderError>?
        /// Writes a `credit` message; set once the call went out as a streamed call.
        var grant: (@Sendable (Int64) -> Void)?
    }

    /// A stream of at most `window` parts waiting.
    package init(window: Int) {
        self.window = max(1, window)
    }

    /// The call went out as call `id` with `window` as its credit; `grant` writes more credit.
    /// Not called for a worker that does not stream: its result comes whole.
    func streams(granting grant: @escaping @Sendable (Int64) -> Void) {
        state.withLock { state in
            state.credit = Int64(window)
            state.grant = grant
        }
    }

    /// How many parts wait for the consumer now (at most `window`).
    package var waiting: Int { state.withLock { $0.parts.count - $0.head } }

    /// Whether the call went out as a streamed call.
    var isStreamed: Bool { state.withLock { $0.grant != nil } }

    /// A part from the worker, on its queue: false if it had no credit left for it.
    func accept(_ part: JSONValue) -> Bool {
        let consumer = state.withLock { state -> UnsafeContinuation<Result<JSONValue?, LoaderError>, Never>?? in
            guard state.credit > 0 else { return nil }
            state.credit -= 1
            guard let consumer = state.consumer else {
                state.parts.append(part)
                return .some(nil)
            }
            state.consumer = nil
            return consumer
        }
        guard let consumer else { return false }
        if let consumer {
            took()
            consumer.resume(returning: .success(part))
        }
        return true
    }

    /// The call's final reply: its value is the last element unless it is `null`.
    package func finish(_ outcome: Result<JSONValue, LoaderError>) {
        let woken = state.withLock { state -> (UnsafeContinuation<Result<JSONValue?, LoaderError>, Never>, Result<JSONValue?, LoaderError>)? in
            guard state.end == nil else { return nil }
            state.end = outcome.map { value -> JSONValue? in value.isNull ? .none : value }
            guard let consumer = state.consumer, let next = state.poll() else { return nil }
            state.consumer = nil
            return (consumer, next.outcome)
        }
        if let (consumer, outcome) = woken { consumer.resume(returning: outcome) }
    }

    /// The next part, then the final value, then nil; throws the call's error once the parts
    /// before it were taken. Waits while nothing is there.
    package func next() async throws(LoaderError) -> JSONValue? {
        let outcome = await withUnsafeContinuation { (consumer: UnsafeContinuation<Result<JSONValue?, LoaderError>, Never>) in
            let next = state.withLock { state -> State.Next? in
                guard let next = state.poll() else {
                    state.consumer = consumer
                    return nil
                }
                return next
            }
            guard let next else { return }
            if next.tookPart { took() }
            consumer.resume(returning: next.outcome)
        }
        return try outcome.get()
    }

    /// A part was taken: credit for it is granted once half a window was taken.
    private func took() {
        let grant = state.withLock { state -> (@Sendable (Int64) -> Void, Int64)? in
            state.taken += 1
            guard let grant = state.grant, state.end == nil, state.taken >= max(1, window / 2) else { return nil }
            defer { state.taken = 0 }
            state.credit += Int64(state.taken)
            return (grant, Int64(state.taken))
        }
        if let (grant, parts) = grant { grant(parts) }
    }
}

extension PartStream.State {
    /// What the consumer gets next, and whether it is a part.
    struct Next {
        let outcome: Result<JSONValue?, LoaderError>
        let tookPart: Bool
    }

    /// Takes the next part, else the end (the final value once, then nil; an error each time);
    /// nil while the call runs and no part waits.
    mutating func poll() -> Next? {
        if head < parts.count {
            let part = parts[head]
            head += 1
            if head == parts.count || head >= 64 {
                parts.removeFirst(head)
                head = 0
            }
            return Next(outcome: .success(part), tookPart: true)
        }
        guard let current = end else { return nil }
        if case .success(.some) = current { end = .success(nil) }
        return Next(outcome: current, tookPart: false)
    }
}
