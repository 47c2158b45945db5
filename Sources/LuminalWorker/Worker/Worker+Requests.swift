import Dispatch
import LuminalSystem
import LuminalWire
import Synchronization

/// A request sent to a worker and not yet answered.
package struct PendingRequest: Sendable {
    /// The photon it is for.
    package let photon: String
    /// What it is.
    package let kind: WorkerRequest.Kind
    /// Where its outcome goes.
    package let slot: RequestSlot
    /// The photons waiting on this request, outermost first: those whose calls, through their
    /// host, led to it (empty for a request of the host's own).
    package let chain: [String]
    /// When its caller stops waiting (`Uptime`); nil for no limit.
    let deadline: UInt64?
    /// Where the parts of a streamed call go (PROTOCOL.md §3.5); nil for a call whose result
    /// comes whole, and for a call to a worker that does not stream.
    let parts: PartStream?

    /// What it is, for messages: "call 'greet'", "start", "stop", "ping".
    package var label: String { kind.label }
    /// Whether the reply must be a pong.
    var isPing: Bool { kind == .ping }

    /// Delivers the outcome; only the first one counts.
    package func resume(_ outcome: Result<JSONValue, LoaderError>) {
        slot.resume(outcome)
    }
}

/// A request a worker can be sent.
package enum WorkerRequest: Sendable {
    case start(photon: String)
    case stop(photon: String)
    case call(photon: String, method: String, params: JSONValue)
    case ping

    /// The message for this request sent as `id`; a call carries `deadline` (milliseconds) and
    /// `stream` (its credit) if given.
    package func message(id: Int64, deadline: Int64? = nil, stream: Int64? = nil) -> HostMessage {
        switch self {
        case .start(let photon): .start(id: id, photon: photon)
        case .stop(let photon): .stop(id: id, photon: photon)
        case .call(let photon, let method, let params):
            .call(id: id, photon: photon, method: method, params: params, deadline: deadline, stream: stream)
        case .ping: .ping(id: id)
        }
    }

    package var photon: String {
        switch self {
        case .start(let photon), .stop(let photon), .call(let photon, _, _): photon
        case .ping: ""
        }
    }

    /// Whether this is a call (not start, stop or ping).
    var isCall: Bool { kind.isCall }

    /// What a request is, without its parameters.
    package enum Kind: Sendable, Equatable {
        case start, stop, call(method: String), ping

        /// Whether this is a call.
        var isCall: Bool {
            if case .call = self { return true }
            return false
        }

        /// For messages: "call 'greet'", "start", "stop", "ping".
        package var label: String {
            switch self {
            case .start: "start"
            case .stop: "stop"
            case .call(let method): "call '\(method)'"
            case .ping: "ping"
            }
        }
    }

    package var kind: Kind {
        switch self {
        case .start: .start
        case .stop: .stop
        case .call(_, let method, _): .call(method: method)
        case .ping: .ping
        }
    }

    package var label: String { kind.label }
}

extension Worker {
    /// Waits for the validated hello (or the handshake's failure).
    package func awaitHello() async throws(LoaderError) -> Hello {
        // Resumed once: by the ready hello here, or by `finishHandshake`, which takes the waiters.
        try await withUnsafeContinuation { (continuation: UnsafeContinuation<Result<Hello, LoaderError>, Never>) in
            let ready = state.withLock { state -> Result<Hello, LoaderError>? in
                if let hello = state.hello { return hello }
                state.helloWaiters.append { continuation.resume(returning: $0) }
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }.get()
    }

    /// Sends `request` and waits for its reply, or the worker's end. After `timeout`, or when the
    /// awaiting task is cancelled, the request is abandoned: the caller gets `timeout` or
    /// `cancelled`, and a late reply is dropped.
    ///
    /// `chain` names the photons waiting on it when a photon's call through the host led to it
    /// (PROTOCOL.md §3.4): host calls made within it carry it on. A call given `parts` is
    /// streamed to a worker that streams (§3.5): its parts go there, with `parts.window` as their
    /// first credit; its final value is returned here as for any call.
    package func send(_ request: WorkerRequest, timeout: Duration?, chain: [String] = [], parts: PartStream? = nil) async throws(LoaderError) -> JSONValue {
        let slot = RequestSlot()
        let outcome = await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                slot.arm(continuation)
                submit(request, timeout: timeout, chain: chain, parts: parts, slot: slot)
            }
        } onCancel: {
            if let id = slot.id { abandonCancelled(id) }
        }
        return try outcome.get()
    }

    /// Registers and writes `request`; its one outcome goes to `slot`.
    private func submit(_ request: WorkerRequest, timeout: Duration?, chain: [String], parts: PartStream?, slot: RequestSlot) {
        let admittedAt = timeout == nil ? 0 : Uptime.now()
        let deadline = timeout.map { Uptime.after($0, from: admittedAt) }
        let pending = PendingRequest(photon: request.photon, kind: request.kind, slot: slot, chain: chain, deadline: deadline, parts: parts)
        enum Admission { case sent(Int64, deadline: Bool, streams: Bool), retired, gone, tooMany(Int) }
        let admission = state.withLock { state -> Admission in
            // A call that reached a replaced worker, even one that has since exited, is retried
            // by its handler on the current one: it must not be lost.
            if request.isCall, state.closedToCalls { return .retired }
            guard !state.exited, state.fault == nil else { return .gone }
            if request.isCall, state.pending.count >= limits.callsInFlight { return .tooMany(state.pending.count) }
            let id = state.nextID
            state.nextID += 1
            state.pending[id] = pending
            if let timeout, let deadline { addDeadline(.init(deadline: deadline, id: id, timeout: timeout), &state) }
            return .sent(id, deadline: state.features.deadline, streams: state.features.streams)
        }
        let id: Int64
        let deadlineMilliseconds: Int64?
        var credit: Int64?
        switch admission {
        case .sent(let sent, let carriesDeadline, let streams):
            id = sent
            deadlineMilliseconds = carriesDeadline ? timeout.map(Self.milliseconds) : nil
            if streams, let parts {
                // Before the call is written: its first part may come back at once.
                credit = Int64(parts.window)
                parts.streams { [weak self] more in _ = self?.writer.send(frame: HostMessage.credit(id: sent, parts: more).frame) }
            }
        case .retired: return slot.resume(.failure(LoaderError(.retired, "generation \(generation) of \(file.path) takes no new calls", photon: request.photon, file: file.path)))
        case .gone: return slot.resume(.failure(gone(request)))
        case .tooMany(let count):
            return slot.resume(.failure(overloaded(request, "\(count) requests are in flight on it; the limit is \(limits.callsInFlight)")))
        }
        // Only calls count against the queue's limit: start, stop and ping are small and few.
        let frame = request.message(id: id, deadline: deadlineMilliseconds, stream: credit).frame
        guard frame.count - 4 <= limits.frameCap else {
            let error = LoaderError(.requestTooLarge, "photon \(request.photon) (\(file.path)) was not sent \(request.label): it is \(frame.count - 4) bytes as a frame, and its worker reads frames of at most \(limits.frameCap) bytes (LoaderConfiguration.frameCap)",
                                    photon: request.photon, file: file.path)
            if let refused = state.withLock({ $0.pending.removeValue(forKey: id) }) { refused.resume(.failure(error)) }
            return
        }
        switch writer.send(frame: frame, tag: id, limit: request.isCall ? limits.queuedCallBytes : nil) {
        case .sent:
            break
        case .closed:
            if let lost = state.withLock({ $0.pending.removeValue(forKey: id) }) { lost.resume(.failure(gone(request))) }
            return
        case .overLimit(let queued):
            let why = "\(queued) bytes of requests wait to be written to it, and this one's \(frame.count) would pass the limit of \(limits.queuedCallBytes) bytes"
            if let refused = state.withLock({ $0.pending.removeValue(forKey: id) }) { refused.resume(.failure(overloaded(request, why))) }
            return
        }
        slot.sent(id)
        if Task.isCancelled { abandonCancelled(id) }
    }

    /// Adds a request's deadline, for the clock to expire (`expireRequests`). Answered requests'
    /// entries are dropped when they pass twice the requests in flight (plus a few, so that a
    /// worker with one or two requests at a time does not rebuild the heap for each).
    private func addDeadline(_ entry: RequestDeadlines.Entry, _ state: inout State) {
        if state.timers.deadlines.count > 2 * state.pending.count + 16 {
            state.timers.deadlines = RequestDeadlines(heapifying: state.timers.deadlines.entries.filter { state.pending[$0.id] != nil })
        }
        state.timers.deadlines.push(entry)
        look(by: entry.deadline, &state)
    }

    /// Takes out the requests whose deadline is `now` or earlier, with their timeouts, and the
    /// answered requests' entries before the next live one. Under the state lock.
    func expireRequests(now: UInt64, _ state: inout State) -> [(PendingRequest, Duration)] {
        var expired: [(PendingRequest, Duration)] = []
        while let first = state.timers.deadlines.first, first.deadline <= now || state.pending[first.id] == nil {
            state.timers.deadlines.removeFirst()
            if first.deadline <= now, let request = withdraw(first.id, &state) { expired.append((request, first.timeout)) }
        }
        return expired
    }

    private func abandonCancelled(_ id: Int64) {
        queue.async { [weak self] in
            self?.abandon(id) { LoaderError(.cancelled, "the caller of \($0.label) on photon \($0.photon) (\($1)) was cancelled", photon: $0.photon, file: $1) }
        }
    }

    /// Gives up on every call in flight, because `reason` (e.g. "its drain timeout of 10 s passed
    /// while it was being unloaded"): each caller gets `cancelled`, and a worker that reads
    /// `cancel` is told of each. Starts, stops and pings carry on.
    func cancelCalls(because reason: String) {
        let cancelled = state.withLock { state -> [PendingRequest] in
            let ids = state.pending.compactMap { id, request in request.kind.isCall ? id : nil }
            return ids.compactMap { withdraw($0, &state) }
        }
        sendCancels()
        for request in cancelled {
            request.resume(.failure(LoaderError(.cancelled, "\(request.label) on photon \(request.photon) (\(file.path)) was cancelled: \(reason)",
                                                photon: request.photon, file: file.path)))
        }
    }

    /// Writes the cancels that withdrawing calls queued (`withdraw`), and answers the host calls
    /// made within them; outside the state lock.
    func sendCancels() {
        let (ids, hostCalls) = state.withLock { state -> ([Int64], Bool) in
            defer { state.unsentCancels = [] }
            return (state.unsentCancels, !state.givenUpHostCalls.isEmpty)
        }
        for id in ids { _ = writer.send(frame: HostMessage.cancel(id: id).frame) }
        if hostCalls { answerGivenUpHostCalls() }
    }

    /// `duration` in whole milliseconds, rounded up (a call's `deadline_ms`).
    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        // A wait past 2^53 - 1 ms (any Duration a host application may give) is written as that.
        guard seconds < Self.longestDeadline / 1000 else { return Self.longestDeadline }
        return min(Self.longestDeadline, max(0, seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000))
    }

    /// The largest `deadline_ms` written (PROTOCOL.md §3.3): 2^53 - 1, exact in any JSON reader.
    static let longestDeadline: Int64 = (1 << 53) - 1

    /// The error for a call refused because the worker has too much waiting: `why`.
    private func overloaded(_ request: WorkerRequest, _ why: String) -> LoaderError {
        LoaderError(.overloaded, "photon \(request.photon) (\(file.path)) refused \(request.label) at once: its worker is not keeping up with its requests (\(why)); it and its other calls carry on",
                    photon: request.photon, file: file.path)
    }

    private func gone(_ request: WorkerRequest) -> LoaderError {
        let why = protocolFault.map { "broke the protocol (\($0))" } ?? process.exitStatus.map { "exited with \($0)" } ?? "is shutting down"
        return LoaderError(.workerExited, "photon \(request.photon) (\(file.path)) cannot take \(request.label): its worker \(why)",
                           photon: request.photon, file: file.path, exit: process.exitStatus)
    }

    /// Gives up on request `id` if it is still waiting: its caller gets `error(request, file)`.
    /// A frame not yet started is dropped from fd 3's queue; the worker never sees it.
    private func abandon(_ id: Int64, with error: (PendingRequest, String) -> LoaderError) {
        let pending = state.withLock { withdraw(id, &$0) }
        sendCancels()
        if let pending { pending.resume(.failure(error(pending, file.path))) }
    }

    /// Takes request `id` out if it is still waiting: its frame leaves fd 3's queue if none of it
    /// was written, else a late reply to it will be dropped and, for a call to a worker that
    /// reads `cancel`, a cancel is queued for `sendCancels`. Under the state lock.
    private func withdraw(_ id: Int64, _ state: inout State) -> PendingRequest? {
        guard let pending = state.pending.removeValue(forKey: id) else { return nil }
        giveUpHostCalls(within: id, &state)
        if !writer.withdraw(id) {
            state.abandoned.insert(id)
            if state.features.cancel, pending.kind.isCall { state.unsentCancels.append(id) }
        }
        return pending
    }

    /// Delivers a reply heard at `now`. Runs on the queue. A reply nobody awaits is a protocol
    /// fault, except for a request the host abandoned after its timeout; the heartbeat's pong is
    /// taken here too. A reply to a call, even a late one, shows the worker answers its calls
    /// (`CallResponsiveness`). Any frame shows the worker is alive: the heartbeat does not ping
    /// it for an interval.
    package func complete(_ id: Int64, isPong: Bool, _ reply: Result<JSONValue, ReplyError>, heardAt now: UInt64) {
        enum Match { case found(PendingRequest, CallResponsiveness.Change), dropped(CallResponsiveness.Change), unknown, wrongKind, beforeHello }
        let match = state.withLock { state -> Match in
            state.timers.lastHeard = max(state.timers.lastHeard, now)
            guard state.hello != nil else { return .beforeHello }
            if !isPong { answeredCalls.add(1, ordering: .relaxed) }
            if let pending = state.pending[id] {
                guard pending.isPing == isPong else { return .wrongKind }
                state.pending[id] = nil
                return .found(pending, pending.kind.isCall ? state.responsiveness.answered() : .none)
            }
            if state.timers.ping?.id == id {
                guard isPong else { return .wrongKind }
                heardPong(&state)
                return .dropped(.none)
            }
            guard state.abandoned.take(id) else { return .unknown }
            return .dropped(isPong ? .none : state.responsiveness.answered())
        }
        switch match {
        case .beforeHello:
            let type = isPong ? "pong" : (try? reply.get()) == nil ? "error" : "result"
            fault(ProtocolFault(.outOfOrderHello, "a \(type) frame before hello"))
        case .dropped(let change):
            report(change)
        case .unknown:
            fault(ProtocolFault(.unknownReplyID, "reply to id \(id), which is not awaiting a reply"))
        case .wrongKind:
            fault(ProtocolFault(.unknownReplyID, "\(isPong ? "a pong" : "a result or error") answering request \(id), which expects \(isPong ? "a result or error" : "a pong")"))
        case .found(let pending, let change):
            report(change)
            pending.resume(reply.mapError { error in
                LoaderError(.photonError, "photon \(pending.photon) (\(file.path)) failed \(pending.label): [\(error.code)] \(error.message)",
                            photon: pending.photon, file: file.path, reply: error)
            })
        }
    }
}

/// Where a request's one outcome goes (its caller's continuation), and the id it was sent with,
/// for a cancellation that may come from another thread.
package final class RequestSlot: Sendable {
    private let state = Mutex<(continuation: UnsafeContinuation<Result<JSONValue, LoaderError>, Never>?, id: Int64?)>((nil, nil))

    /// The id it was sent with, once it was.
    package var id: Int64? { state.withLock { $0.id } }

    /// Gives it the caller's continuation; before anything can resume it.
    package func arm(_ continuation: UnsafeContinuation<Result<JSONValue, LoaderError>, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    /// The request went out with `id`.
    package func sent(_ id: Int64) {
        state.withLock { $0.id = id }
    }

    /// Resumes the caller with `outcome`; later outcomes are dropped.
    package func resume(_ outcome: Result<JSONValue, LoaderError>) {
        state.withLock { state in
            state.continuation?.resume(returning: outcome)
            state.continuation = nil
        }
    }
}
