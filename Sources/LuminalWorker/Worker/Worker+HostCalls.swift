import LuminalSystem
import LuminalWire

/// A host call a worker's photon made (PROTOCOL.md §3.4), as the worker hands it to its owner.
package struct HostRequest: Sendable {
    /// The photon that asks.
    package let photon: String
    /// The host function it names.
    package let function: String
    /// Its parameters; `null` when it gave none.
    package let params: JSONValue
    /// The photon file of the worker that asks.
    package let file: PhotonFile
    /// That worker's process and generation.
    package let pid: Int32
    package let generation: Int
    /// The photons whose calls led to this one, outermost first, ending with `photon`: the
    /// photons waiting on the request it was made within, and `photon` itself.
    package let chain: [String]
    /// How much longer the request it was made within is awaited; nil when it is awaited without
    /// limit, or the host call names none.
    package let timeout: Duration?
}

/// A host call in flight: the request it was made within, the function it names (for
/// messages), and the task running it.
struct HostCallEntry {
    let parent: Int64?
    let function: String
    var task: Task<Void, Never>?
}

extension Worker {
    /// The most host calls a worker may have in flight; past it a host call is answered
    /// `overloaded` at once (PROTOCOL.md §10).
    package static let hostCallsInFlight = 4_096

    /// A `host_call` from the worker, on the queue: checked, then run by the owner's hook in a
    /// task it starts; its one reply is written when the hook answers (`answerHostCall`), or
    /// sooner if the call is given up on (a task that has answered already is cancelled for
    /// nothing).
    func receiveHostCall(id: Int64, photon: String, function: String, params: JSONValue, within: Int64?) {
        enum Admission { case run(HostRequest), refuse(ReplyError), fault(ProtocolFault) }
        let now = Uptime.now()
        let admission = state.withLock { state -> Admission in
            guard case .success(let hello)? = state.hello else {
                return .fault(ProtocolFault(.outOfOrderHello, "a host_call frame before hello"))
            }
            guard state.features.hostCalls else {
                return .fault(ProtocolFault(.invalidMessage, "host_call from a worker that did not declare the host_calls feature"))
            }
            guard hello.photons.contains(where: { $0.name == photon }) else {
                return .fault(ProtocolFault(.invalidMessage, "host_call \(id) names photon '\(photon)', which this worker did not declare"))
            }
            guard state.hostCalls[id] == nil else {
                return .fault(ProtocolFault(.invalidMessage, "host_call id \(id) is already in flight"))
            }
            guard state.hostCalls.count < Self.hostCallsInFlight else {
                return .refuse(ReplyError(.overloaded, "photon \(photon) (\(file.path)) was refused host call '\(function)': \(state.hostCalls.count) host calls of its worker are in flight; the limit is \(Self.hostCallsInFlight)"))
            }
            var chain: [String] = []
            var deadline: UInt64?
            if let within {
                if let parent = state.pending[within] {
                    chain = parent.chain
                    deadline = parent.deadline
                } else if state.abandoned.contains(within) {
                    return .refuse(ReplyError(.cancelled, "the host gave up on request \(within), which this host call was made within"))
                }
            }
            state.hostCalls[id] = HostCallEntry(parent: within, function: function)
            chain.append(photon)
            let timeout = deadline.map { Duration.nanoseconds(Int64(clamping: $0 > now ? $0 - now : 0)) }
            return .run(HostRequest(photon: photon, function: function, params: params, file: file, pid: pid,
                                    generation: generation, chain: chain, timeout: timeout))
        }
        switch admission {
        case .fault(let reason):
            fault(reason)
        case .refuse(let error):
            writeHostReply(id, .failure(error))
        case .run(let request):
            let task = hooks.hostCall(request) { [weak self] outcome in self?.answerHostCall(id, outcome) }
            let kept = state.withLock { state -> Bool in
                guard state.hostCalls[id] != nil else { return false }
                state.hostCalls[id]?.task = task
                return true
            }
            if !kept { task.cancel() }
        }
    }

    /// The worker's `host_cancel`: the call's task is cancelled and the call answered `cancelled`
    /// at once, unless it was answered already (then it is ignored).
    func cancelHostCall(_ id: Int64) {
        guard let entry = state.withLock({ $0.hostCalls.removeValue(forKey: id) }) else { return }
        entry.task?.cancel()
        writeHostReply(id, .failure(ReplyError(.cancelled, "the photon cancelled host call \(id)")))
    }

    /// The hook's answer to host call `id`; dropped if the call was answered already.
    private func answerHostCall(_ id: Int64, _ outcome: Result<JSONValue, ReplyError>) {
        guard let entry = state.withLock({ $0.hostCalls.removeValue(forKey: id) }) else { return }
        writeHostReply(id, outcome, function: entry.function)
    }

    /// Writes the reply to host call `id` (of `function`), never refused (as a cancel); a reply
    /// too large for the worker's frame cap is answered `host_error` instead.
    private func writeHostReply(_ id: Int64, _ outcome: Result<JSONValue, ReplyError>, function: String? = nil) {
        let message: HostMessage
        switch outcome {
        case .success(let value): message = .hostResult(id: id, value: value)
        case .failure(let error): message = .hostError(id: id, error)
        }
        var frame = message.frame
        if frame.count - Frame.headerSize > limits.frameCap {
            let what = function.map { "host call \(id) ('\($0)')" } ?? "host call \(id)"
            frame = HostMessage.hostError(id: id, ReplyError(.hostError, "the reply to \(what) of photon file \(file.path) is \(frame.count - Frame.headerSize) bytes as a frame, over the worker's frame cap of \(limits.frameCap)")).frame
        }
        _ = writer.send(frame: frame)
    }

    /// Takes out the host calls made within request `parent`, which the host gave up on: each is
    /// answered `cancelled` and its task cancelled by `sendCancels`. Under the state lock.
    func giveUpHostCalls(within parent: Int64, _ state: inout State) {
        guard !state.hostCalls.isEmpty else { return }
        for (id, entry) in state.hostCalls where entry.parent == parent {
            state.hostCalls[id] = nil
            state.givenUpHostCalls.append((id, parent, entry.task))
        }
    }

    /// Answers and cancels the host calls `giveUpHostCalls` took out; outside the state lock.
    func answerGivenUpHostCalls() {
        let calls = state.withLock { state in
            defer { state.givenUpHostCalls = [] }
            return state.givenUpHostCalls
        }
        for (id, parent, task) in calls {
            task?.cancel()
            writeHostReply(id, .failure(ReplyError(.cancelled, "the host gave up on request \(parent), which this host call was made within")))
        }
    }

    /// The worker ended: its host calls' tasks are cancelled; nobody reads their replies.
    func cancelAllHostCalls() {
        let tasks = state.withLock { state in
            defer { state.hostCalls = [:] }
            return state.hostCalls.values.compactMap(\.task)
        }
        tasks.forEach { $0.cancel() }
    }
}
