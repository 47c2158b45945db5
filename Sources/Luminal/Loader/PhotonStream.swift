import LuminalWire
import LuminalWorker

/// The parts of a streamed call's result (`Handler.stream`), in the order the photon sent them,
/// then its final value unless it is `null`; iterating throws the call's error once the parts
/// before it were taken.
///
/// Flow control is by credit (PROTOCOL.md §3.5): the photon sends no more than the stream's
/// window of parts beyond what the consumer has taken, so what the supervisor holds for a stream
/// never exceeds its window, however slowly it is consumed. Dropping the stream before its end
/// (every copy of it and of its iterators) cancels the call in the worker; so does cancelling the
/// task that iterates it while it waits.
public struct PhotonStream: AsyncSequence, Sendable {
    /// An element: one part, or the final value.
    public typealias Element = JSONValue
    /// What iterating throws: the call's error.
    public typealias Failure = LoaderError

    let call: StreamedCall

    /// An iterator over the parts.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let call: StreamedCall

        /// The next part, or the final value, or nil at the end.
        public mutating func next() async throws(LoaderError) -> JSONValue? {
            try await call.next()
        }

        /// As `next()`, on the given actor.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(LoaderError) -> JSONValue? {
            try await call.next()
        }
    }

    /// An iterator over the parts.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(call: call)
    }
}

/// A streamed call under way: its parts, and the task that sends it and awaits its final reply,
/// cancelled when the last reference to it goes.
final class StreamedCall: Sendable {
    let parts: PartStream
    let task: Task<Void, Never>

    init(parts: PartStream, task: Task<Void, Never>) {
        self.parts = parts
        self.task = task
    }

    /// The next element; a cancelled consumer gives the call up.
    func next() async throws(LoaderError) -> JSONValue? {
        let outcome: Result<JSONValue?, LoaderError> = await withTaskCancellationHandler {
            do throws(LoaderError) {
                return .success(try await parts.next())
            } catch {
                return .failure(error)
            }
        } onCancel: {
            task.cancel()
        }
        return try outcome.get()
    }

    deinit {
        task.cancel()
    }
}
