import Dispatch
import Glibc
import LuminalWire
import Synchronization

/// One client on the control socket: reads request frames, answers each in turn, and ends when
/// the client hangs up or sends bytes that are not frames (after an error reply). Hanging up
/// cancels the request in progress: a `logs -f` or `events` stream, or a call.
final class ControlConnection: Sendable {
    private let queue = DispatchQueue(label: "luminal.control.connection")
    private let writer: FrameWriter
    private let reader: FrameReader
    private let requests: AsyncStream<Result<ControlRequest, ProtocolFault>>.Continuation
    /// The task answering requests, until it is done.
    private let current = TaskSlot()

    /// Holds a task that callbacks created before it may cancel.
    private final class TaskSlot: Sendable {
        private let task = Mutex<Task<Void, Never>?>(nil)

        func set(_ value: Task<Void, Never>) {
            task.withLock { $0 = value }
        }

        func cancel() {
            task.withLock { $0?.cancel() }
        }
    }

    /// Takes ownership of the connected socket `fd`; `ended` runs once the connection is over.
    init(fd: Int32, dispatcher: ControlDispatcher, ended: @escaping @Sendable () -> Void) throws(SystemError) {
        let (stream, continuation) = AsyncStream.makeStream(of: Result<ControlRequest, ProtocolFault>.self)
        requests = continuation
        let second = dup(fd)
        guard second >= 0 else {
            closeQuietly(fd)
            throw SystemError("dup control connection")
        }
        do throws(SystemError) {
            writer = try FrameWriter(fd: second, queue: queue)
        } catch {
            closeQuietly(fd)
            throw error
        }
        reader = try FrameReader(fd: fd, cap: ControlServer.requestCap, queue: queue,
                                 onObject: { object in
                                     do throws(ProtocolFault) {
                                         continuation.yield(.success(try ControlRequest(object: object)))
                                     } catch {
                                         continuation.yield(.failure(error))
                                     }
                                 },
                                 onFault: { fault in
                                     // Answered, then the connection closes: the stream cannot be resynchronised.
                                     continuation.yield(.failure(fault))
                                     continuation.finish()
                                 },
                                 onEnd: { [current] _ in
                                     // The client hung up: nobody waits for the request in progress.
                                     continuation.finish()
                                     current.cancel()
                                 })
        let writer = self.writer
        let task = Task {
            for await request in stream {
                switch request {
                case .success(let request):
                    let reply = await dispatcher.perform(request) { writer.send(object: $0.json) }
                    writer.send(object: reply.json)
                case .failure(let fault):
                    writer.send(object: ControlReply.failure(.init(.badRequest, "bad control request: \(fault)")).json)
                }
            }
            writer.finish()
            ended()
        }
        current.set(task)
        queue.sync { reader.activate() }
    }

    /// Hangs up on the client.
    func close() {
        queue.sync { reader.stop() }
        requests.finish()
        writer.close()
    }
}
