@testable import Luminal
@testable import LuminalWorker
import Synchronization

/// The deadline every wait in the tests gets: generous for a loaded 2-core machine (four times
/// that under a sanitizer, which slows everything several times over); reaching it fails the test.
let testDeadline: Duration = .seconds(underSanitizer ? 120 : 30)

/// No awaited event arrived before the deadline.
struct DeadlineExceeded: Error, CustomStringConvertible {
    let what: String
    /// The deadline that passed.
    var after: Duration = testDeadline
    var description: String { "no \(what) within \(after)" }
}

/// Records every event of a loader from its creation, and lets a test await a condition on them.
final class EventLog: Sendable {
    private struct Waiter {
        let isMet: @Sendable ([LoaderEvent]) -> Bool
        let resume: @Sendable (Bool) -> Void
    }

    private let state = Mutex<(events: [LoaderEvent], waiters: [Int: Waiter], next: Int)>(([], [:], 0))
    private let reader = Mutex<Task<Void, Never>?>(nil)

    init(_ loader: Loader) {
        let stream = loader.events()
        let task = Task { [weak self] in
            for await event in stream { self?.append(event) }
        }
        reader.withLock { $0 = task }
    }

    deinit {
        reader.withLock { $0?.cancel() }
    }

    /// Every event so far.
    var events: [LoaderEvent] { state.withLock { $0.events } }

    /// The value `evaluate` finds in the events recorded so far, waiting for one up to the test
    /// deadline. `evaluate` sees every event each time and must not touch this log.
    func satisfy<T: Sendable>(_ what: String, _ evaluate: @escaping @Sendable ([LoaderEvent]) -> T?) async throws -> T {
        let found = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let once = Mutex<CheckedContinuation<Bool, Never>?>(continuation)
            let resume: @Sendable (Bool) -> Void = { value in once.withLock { $0?.resume(returning: value); $0 = nil } }
            let key = state.withLock { state -> Int? in
                if evaluate(state.events) != nil { return nil }
                defer { state.next += 1 }
                state.waiters[state.next] = Waiter(isMet: { evaluate($0) != nil }, resume: resume)
                return state.next
            }
            guard let key else { return resume(true) }
            Task {
                try? await Task.sleep(for: testDeadline)
                _ = state.withLock { $0.waiters.removeValue(forKey: key) }
                resume(false)
            }
        }
        guard found, let value = evaluate(events) else { throw DeadlineExceeded(what: what) }
        return value
    }

    /// The first recorded event `extract` maps to a value, waiting for it up to the test deadline.
    func first<T: Sendable>(_ what: String, _ extract: @escaping @Sendable (LoaderEvent) -> T?) async throws -> T {
        try await satisfy(what) { $0.lazy.compactMap(extract).first }
    }

    /// Waits until every event `loader` emitted so far is recorded: events arrive in order, so
    /// once a marker sent now is recorded, everything before it is too.
    func catchUp(with loader: Loader) async throws {
        let marker = "event-log-marker-\(ObjectIdentifier(self).hashValue)-\(events.count)"
        loader.context.events.emit(.log(LogLine(file: "", photons: [], pid: 0, stream: .stdout, text: marker)))
        try await log(marker)
    }

    /// The first log line containing `text`.
    @discardableResult
    func log(_ text: String) async throws -> LogLine {
        try await first("log line containing '\(text)'") { event in
            if case .log(let line) = event, line.text.contains(text) { return line }
            return nil
        }
    }

    private func append(_ event: LoaderEvent) {
        let ready = state.withLock { state -> [Waiter] in
            state.events.append(event)
            let keys = state.waiters.filter { $0.value.isMet(state.events) }.map(\.key)
            return keys.compactMap { state.waiters.removeValue(forKey: $0) }
        }
        ready.forEach { $0.resume(true) }
    }
}

extension Result {
    /// The error, if this is a failure.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// The result of `body` as a value, so a call can be awaited later with `async let`.
func outcome<T>(_ body: () async throws(LoaderError) -> T) async -> Result<T, LoaderError> {
    do throws(LoaderError) {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}

/// Polls `condition` (cheap, in-memory, or one step of retrying an action) until true, failing after the test deadline.
func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + testDeadline
    while !(try await condition()) {
        guard ContinuousClock.now < deadline else { throw DeadlineExceeded(what: what) }
        await Task.yield()
    }
}
