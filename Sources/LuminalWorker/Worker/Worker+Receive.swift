import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWire

extension Worker {
    /// Handles one message from fd 4. Runs on the queue.
    package func receive(_ message: WorkerMessage) {
        let now = Uptime.now()
        switch message {
        case .hello(let hello):
            guard heard(at: now) else { return fault(ProtocolFault(.outOfOrderHello, "a second hello")) }
            finishHandshake(validate(hello))
        case .result(let id, let value):
            complete(id, isPong: false, .success(value), heardAt: now)
        case .error(let id, let reply):
            complete(id, isPong: false, .failure(reply), heardAt: now)
        case .pong(let id):
            complete(id, isPong: true, .success(.null), heardAt: now)
        case .event(let photon, let name, let data):
            guard !heard(at: now) else { return fault(ProtocolFault(.outOfOrderHello, "an event frame before hello")) }
            guard case .success(let hello)? = state.withLock({ $0.hello }),
                  hello.photons.contains(where: { $0.name == photon }) else {
                return fault(ProtocolFault(.invalidMessage, "event '\(name)' names photon '\(photon)', which this worker did not declare"))
            }
            hooks.event(photon, name, data)
        case .hostCall(let id, let photon, let function, let params, let within):
            _ = heard(at: now)
            receiveHostCall(id: id, photon: photon, function: function, params: params, within: within)
        case .hostCancel(let id):
            guard !heard(at: now) else { return fault(ProtocolFault(.outOfOrderHello, "a host_cancel frame before hello")) }
            guard state.withLock({ $0.features.hostCalls }) else {
                return fault(ProtocolFault(.invalidMessage, "host_cancel from a worker that did not declare the host_calls feature"))
            }
            cancelHostCall(id)
        case .part(let id, let value):
            receivePart(id, value, heardAt: now)
        }
    }

    /// A part of streamed call `id` (PROTOCOL.md §3.5), heard at `now`: to its stream, dropped
    /// for a call the host gave up on, a fault for any other id or past the credit granted.
    private func receivePart(_ id: Int64, _ value: JSONValue, heardAt now: UInt64) {
        enum Target { case stream(PartStream), dropped, fault(ProtocolFault) }
        let target = state.withLock { state -> Target in
            state.timers.lastHeard = max(state.timers.lastHeard, now)
            guard state.hello != nil else { return .fault(ProtocolFault(.outOfOrderHello, "a part frame before hello")) }
            if let pending = state.pending[id] {
                guard let parts = pending.parts, parts.isStreamed else {
                    return .fault(ProtocolFault(.invalidMessage, "part for request \(id), which is not a streamed call"))
                }
                return .stream(parts)
            }
            if state.abandoned.contains(id) { return .dropped }
            return .fault(ProtocolFault(.unknownReplyID, "part for request \(id), which is not awaiting a reply"))
        }
        switch target {
        case .stream(let parts):
            if !parts.accept(value) {
                fault(ProtocolFault(.invalidMessage, "part for call \(id) beyond the credit granted (the host holds at most \(parts.window) parts of it)"))
            }
        case .dropped:
            break
        case .fault(let reason):
            fault(reason)
        }
    }

    /// Notes a frame heard at `now` (the heartbeat then does not ping the worker for an
    /// interval); true while the worker is still handshaking.
    private func heard(at now: UInt64) -> Bool {
        state.withLock { state in
            state.timers.lastHeard = max(state.timers.lastHeard, now)
            return state.hello == nil
        }
    }

    /// Checks a well-formed hello for what the host needs: a supported version and usable photons.
    private func validate(_ hello: Hello) -> Result<Hello, LoaderError> {
        func failure(_ code: LoaderError.Code, _ cause: String) -> Result<Hello, LoaderError> {
            .failure(LoaderError(code, "photon file \(file.path) \(cause)", file: file.path))
        }
        guard WireProtocol.supportedVersions.contains(hello.protocolVersion) else {
            let supported = WireProtocol.supportedVersions.map(String.init).joined(separator: ", ")
            return failure(.protocolMismatch, "speaks protocol version \(hello.protocolVersion); this host supports \(supported). Update the photon's runtime or Luminal.")
        }
        guard !hello.photons.isEmpty else { return failure(.invalidHello, "declared no photons in its hello") }
        if let cause = HelloLimits.violation(in: hello) { return failure(.invalidHello, cause) }
        var seen: Set<String> = []
        for photon in hello.photons {
            guard PhotonDescriptor.isValidName(photon.name) else {
                return failure(.invalidHello, "declared the invalid photon name '\(photon.name)' (allowed: letters, digits, '.', '_', '-', starting with a letter or digit, at most 128)")
            }
            guard seen.insert(photon.name).inserted else {
                return failure(.invalidHello, "declared the photon name '\(photon.name)' twice")
            }
            if let method = photon.idempotent.first(where: { !photon.methods.contains($0) }) {
                return failure(.invalidHello, "declared method '\(method)' of photon \(photon.name) idempotent, but not among the photon's methods (\(photon.methods.isEmpty ? "it declared none" : photon.methods.joined(separator: ", ")))")
            }
        }
        return .success(hello)
    }

    /// Records the handshake's outcome and wakes whoever awaits it. Runs on the queue.
    func finishHandshake(_ result: Result<Hello, LoaderError>) {
        let waiters = state.withLock { state -> [@Sendable (Result<Hello, LoaderError>) -> Void] in
            guard state.hello == nil else { return [] }
            state.hello = result
            state.timers.handshakeEnds = nil
            if case .success(let hello) = result { state.features = WorkerFeatures(hello) }
            defer { state.helloWaiters = [] }
            return state.helloWaiters
        }
        // The hello was the largest frame an idle worker sends: its buffer need not stay.
        reader?.releaseBuffer()
        waiters.forEach { $0(result) }
    }

    /// The handshake's time is up (`WorkerClock`), on the queue: a plain executable that stayed
    /// up is ready, any other worker did not say hello in time.
    func handshakeTimeUp() {
        if let plain = file.plain {
            stayedUp(plain)
        } else {
            handshakeTimedOut(after: handshakeTimeout)
        }
    }

    /// A plain executable stayed up for its ready time: its one photon is ready.
    func stayedUp(_ plain: PlainExecutable) {
        guard process.exitStatus == nil else { return }
        finishHandshake(.success(Hello(protocolVersion: WireProtocol.version, pid: Int(pid), runtime: "plain executable",
                                       photons: [PhotonDescriptor(name: plain.name, kinds: [], methods: [])])))
    }

    func handshakeTimedOut(after timeout: Duration) {
        finishHandshake(.failure(LoaderError(
            .handshakeTimeout,
            "photon file \(file.path) did not say hello within \(timeout) (pid \(pid)); is it a Luminal photon? \(outputHint)",
            file: file.path)))
    }

    /// " Its last output: …" when the worker wrote anything, to show why it failed.
    var outputHint: String {
        let lines = recentOutput
        return lines.isEmpty ? "It wrote no output." : "Its last output:\n" + lines.suffix(10).joined(separator: "\n")
    }

    /// The worker broke the protocol: fail everything in flight and report it (its lifecycle then
    /// has its tree killed).
    package func fault(_ fault: ProtocolFault) {
        let pending = state.withLock { state -> [PendingRequest] in
            guard state.fault == nil, !state.exited else { return [] }
            state.fault = fault
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        guard protocolFault == fault else { return }
        reader?.stop()
        writer.close()
        cancelAllHostCalls()
        let error = LoaderError(.protocolFault, "photon file \(file.path) broke the protocol and was killed: \(fault)", file: file.path)
        // Handlers show the fault before any caller hears of it.
        hooks.fault(fault)
        finishHandshake(.failure(error))
        for request in pending {
            request.resume(.failure(LoaderError(.protocolFault, "photon \(request.photon) (\(file.path)) failed \(request.label): its worker broke the protocol and was killed: \(fault)",
                                                photon: request.photon, file: file.path)))
        }
    }

    /// fd 4 ended. A worker that exits at the same time simply exited; one that keeps running
    /// after closing its protocol end (or after a partial frame) has faulted.
    func protocolEnded(_ fault: ProtocolFault?) {
        let reason = fault ?? ProtocolFault(.closedProtocolPipe, "the worker closed fd 4 but kept running")
        queue.asyncAfter(deadline: .now() + .milliseconds(500)) { [weak self] in
            guard let self, self.process.exitStatus == nil, !self.state.withLock({ $0.exited }) else { return }
            self.fault(reason)
        }
    }

    /// The process is gone: read its last words, then fail what is left. Runs on the queue.
    func processExited(_ status: ExitStatus) {
        reader?.readAvailable()
        outputs.forEach { $0.readAvailable() }
        let pending = state.withLock { state -> [PendingRequest] in
            state.exited = true
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        writer.close()
        cancelAllHostCalls()
        stopHeartbeat()
        // Handlers show the exit before any caller hears of it.
        hooks.exited(status, tree.limitThatKilled(status))
        tree.releaseIfEmpty()
        let before = file.plain.map { "within its ready time of \($0.readyAfter)" } ?? "before saying hello"
        finishHandshake(.failure(LoaderError(
            .exitedBeforeHello, "photon file \(file.path) exited \(before) (\(status)). \(outputHint)",
            file: file.path, exit: status)))
        for request in pending {
            request.resume(.failure(LoaderError(
                .workerExited, "photon \(request.photon) (\(file.path)) exited with \(status) while handling \(request.label)",
                photon: request.photon, file: file.path, exit: status)))
        }
    }
}
