import LuminalWire
import Synchronization

/// The worker's host calls in flight (PROTOCOL.md §3.4): each waits for the host's one reply,
/// by the worker's own id, counting from 1.
///
/// A caller whose task is cancelled stops waiting at once (it throws `CancellationError`) and
/// the host is told with `host_cancel`; the reply that still comes is dropped, as is any reply to
/// an id nobody waits for.
final class HostCalls: Sendable {
    private typealias Waiter = UnsafeContinuation<Result<JSONValue, any Error>, Never>

    private struct Table {
        var nextID: Int64 = 1
        var waiting: [Int64: Waiter] = [:]
        /// Ids taken and not yet waiting, and whether their caller was cancelled meanwhile (then
        /// the call is not sent at all).
        var unsent: [Int64: Bool] = [:]
    }

    private let table = Mutex(Table())
    private let output: FrameOutput

    init(output: FrameOutput) {
        self.output = output
    }

    /// Calls the host function `function` for `photon`, within host request `within` if the
    /// caller serves one, and waits for its reply.
    func call(photon: String, function: String, params: JSONValue, within: Int64?) async throws -> JSONValue {
        let id = table.withLock { table in
            defer { table.nextID += 1 }
            table.unsent[table.nextID] = false
            return table.nextID
        }
        let frame = WorkerMessage.hostCall(id: id, photon: photon, function: function, params: params, within: within).frame
        guard frame.count - Frame.headerSize <= output.cap else {
            table.withLock { _ = $0.unsent.removeValue(forKey: id) }
            throw PhotonError(.invalidParams, "the host call '\(function)' is \(frame.count - Frame.headerSize) bytes as a frame, over the frame cap of \(output.cap)")
        }
        let outcome = await withTaskCancellationHandler {
            await withUnsafeContinuation { (waiter: Waiter) in
                let send = table.withLock { table in
                    guard table.unsent.removeValue(forKey: id) == false else { return false }
                    table.waiting[id] = waiter
                    return true
                }
                if send { output.send(frame: frame) } else { waiter.resume(returning: .failure(CancellationError())) }
            }
        } onCancel: {
            cancel(id)
        }
        return try outcome.get()
    }

    /// The host's reply to host call `id`; dropped if nobody waits for it.
    func answer(_ id: Int64, _ outcome: Result<JSONValue, ReplyError>) {
        table.withLock { $0.waiting.removeValue(forKey: id) }?.resume(returning: outcome.mapError { $0 })
    }

    /// The caller of host call `id` was cancelled: it stops waiting, and the host is told.
    private func cancel(_ id: Int64) {
        let waiter = table.withLock { table -> Waiter? in
            guard let waiter = table.waiting.removeValue(forKey: id) else {
                if table.unsent[id] != nil { table.unsent[id] = true }
                return nil
            }
            return waiter
        }
        guard let waiter else { return }
        output.send(.hostCancel(id: id))
        waiter.resume(returning: .failure(CancellationError()))
    }
}
