import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWire
import Synchronization

/// One client on the control socket: reads request frames, answers each in turn, and ends when
/// the client hangs up or sends bytes that are not frames (after an error reply). Hanging up
/// cancels the request in progress: a `logs -f` or `events` stream, or a call.
///
/// Bounded (`ControlServer`'s limits): a client that lets `outputLimit` bytes of replies wait
/// unread, or has more than `requestsInFlightLimit` requests waiting for their replies, is
/// disconnected, and the supervisor logs it once with the client's pid.
final class ControlConnection: Sendable {
    private let queue = DispatchQueue(label: "luminal.control.connection")
    private let writer: FrameWriter
    private let reader: FrameReader<JSONMembers>
    private let lifecycle: ControlLifecycle

    /// Takes ownership of the connected socket `fd` of client `pid`; `ended` runs once the connection is over.
    init(fd: Int32, pid: pid_t, dispatcher: ControlDispatcher, ended: @escaping @Sendable () -> Void) throws(SystemError) {
        let (stream, continuation) = AsyncStream.makeStream(of: Result<ControlRequest, ProtocolFault>.self)
        let second = dup(fd)
        guard second >= 0 else {
            let failure = SystemError(errno: errno, "dup control connection")
            closeQuietly(fd)
            throw failure
        }
        do throws(SystemError) {
            writer = try FrameWriter(fd: second, queue: queue)
        } catch {
            closeQuietly(fd)
            throw error
        }
        let lifecycle = ControlLifecycle(pid: pid, requests: continuation, writer: writer) { dispatcher.loader.context.log.limited(.warning, "control.disconnected", $0) }
        self.lifecycle = lifecycle
        reader = try FrameReader(fd: fd, cap: ControlServer.requestCap, queue: queue,
                                 decode: { decoder throws(ProtocolFault) in try decoder.nextMembers() },
                                 onMessage: { object in
                                     guard lifecycle.admitRequest() else { return }
                                     do throws(ProtocolFault) {
                                         continuation.yield(.success(try ControlRequest(object: object.dictionary)))
                                     } catch {
                                         continuation.yield(.failure(error))
                                     }
                                 },
                                 onFault: { fault in
                                     // Answered, then the connection closes: the stream cannot be resynchronised.
                                     if lifecycle.admitRequest() { continuation.yield(.failure(fault)) }
                                     continuation.finish()
                                 },
                                 onEnd: { _ in
                                     // The client hung up: nobody waits for the request in progress.
                                     continuation.finish()
                                     lifecycle.cancelTask()
                                 })
        let reader = self.reader
        lifecycle.onCut { [queue, weak reader] in
            guard let reader else { return }
            queue.async { reader.stop() }
        }
        let task = Task { [writer] in
            for await request in stream {
                // The client hung up or was disconnected: the requests it left queued are not run.
                if Task.isCancelled { break }
                switch request {
                case .success(let request):
                    let streams = request.command == .events || (request.command == .logs && request.follow)
                    if streams { lifecycle.streaming(true) }
                    var reply = await dispatcher.perform(request) { await Self.deliver($0, paced: $1, to: writer, lifecycle) }
                    if streams { lifecycle.streaming(false) }
                    if let reason = lifecycle.evictionReason { reply = .failure(.init(.limitExceeded, reason)) }
                    _ = await Self.deliver(reply, paced: false, inParts: request.parts, to: writer, lifecycle)
                case .failure(let fault):
                    _ = await Self.deliver(.failure(.init(.badRequest, "bad control request: \(fault)")), paced: false, to: writer, lifecycle)
                }
                lifecycle.answered()
            }
            writer.finish()
            ended()
        }
        lifecycle.setTask(task)
        queue.sync { reader.activate() }
    }

    /// What the client is doing now.
    var activity: ControlLifecycle.Activity { lifecycle.activity }

    /// Closes the connection to make room for another client: an idle one at once, a stream
    /// after a `limitExceeded` reply saying `reason`.
    func evict(_ reason: String) {
        lifecycle.evict(reason)
    }

    /// Hangs up on the client.
    func close() {
        queue.sync { reader.stop() }
        lifecycle.finishRequests()
        writer.close()
    }

    /// Writes `reply` for the client, unless it is gone. A final reply larger than a client
    /// accepts is replaced by a `limitExceeded` error; an item that large is not sent
    /// (`tooLarge`: the dispatcher sends what stands for it). `paced` waits until the client has
    /// read most of what waits for it; otherwise a client too far behind is disconnected. With
    /// `inParts`, a final reply too large for a frame is sent in parts instead.
    private static func deliver(_ reply: ControlReply, paced: Bool, inParts: Bool = false, to writer: FrameWriter,
                                _ lifecycle: ControlLifecycle) async -> ControlDispatcher.Delivery {
        var frame = Frame.encode(reply.json)
        let size = frame.count - Frame.headerSize
        if size > ControlServer.replyCap {
            if case .item = reply { return .tooLarge(bytes: size) }
            if inParts { return await deliverInParts(frame.dropFirst(Frame.headerSize), to: writer, lifecycle) }
            frame = Frame.encode(ControlReply.failure(.init(
                .limitExceeded, "the reply is \(size) bytes, over the control protocol's limit of \(ControlServer.replyCap) bytes for one reply; ask for less (e.g. `luminal status NAME`), or use a client that reads replies in parts (this version of `luminal`)",
                details: ["bytes": .int(Int64(size)), "limit": .int(Int64(ControlServer.replyCap))])).json)
        }
        return await write(frame, paced: paced, to: writer, lifecycle)
    }

    /// Sends the reply `text` (JSON) as `{"part": …}` frames of at most `ControlServer.partBytes`
    /// bytes of it each, cut between UTF-8 sequences, the last with `"end": true`, each once the
    /// client has read most of what came before.
    private static func deliverInParts(_ text: ArraySlice<UInt8>, to writer: FrameWriter,
                                       _ lifecycle: ControlLifecycle) async -> ControlDispatcher.Delivery {
        var start = text.startIndex
        while start < text.endIndex {
            var end = min(start + ControlServer.partBytes, text.endIndex)
            while end < text.endIndex, text[end] & 0xC0 == 0x80 { end -= 1 }
            var part: [String: JSONValue] = ["part": .string(String(decoding: text[start..<end], as: UTF8.self))]
            if end == text.endIndex { part["end"] = true }
            let delivery = await write(Frame.encode(.object(part)), paced: true, to: writer, lifecycle)
            guard delivery == .sent else { return delivery }
            start = end
        }
        return .sent
    }

    /// Writes `frame`, after waiting for the client to read most of what waits if `paced`.
    private static func write(_ frame: [UInt8], paced: Bool, to writer: FrameWriter,
                              _ lifecycle: ControlLifecycle) async -> ControlDispatcher.Delivery {
        if paced, !(await writer.waitUntilQueued(below: ControlServer.outputLimit / 4)) { return .gone }
        switch writer.send(frame: frame, limit: ControlServer.outputLimit) {
        case .sent:
            return .sent
        case .closed:
            return .gone
        case .overLimit(let queued):
            lifecycle.cut("it did not read its replies (\(queued) bytes waited for it; the limit is \(ControlServer.outputLimit))")
            return .gone
        }
    }
}
