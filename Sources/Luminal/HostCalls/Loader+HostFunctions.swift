import LuminalWire
import LuminalWorker

extension Loader {
    /// The most photons one chain of photon-to-photon calls holds: a call that would add one
    /// more is answered `chain_too_deep` (PROTOCOL.md §3.4).
    public static let longestCallChain = 8

    /// Offers `body` to every photon as the host function `name` (PROTOCOL.md §3.4; a photon
    /// calls it with `context.host.call(name, params)`), replacing the function of that name,
    /// the built-in ones included. Every loader offers two: `call` (a photon calls another
    /// photon's method: `{"photon", "method", "params", "timeout"}`) and `config` (the calling
    /// photon's configuration: its package manifest's `config`, `null` without one).
    public nonisolated func registerHostFunction(_ name: String, _ body: @escaping HostFunction) {
        context.hostFunctions.register(name, body)
    }

    /// Takes the host function `name` away: photons that call it are answered `unknown_function`.
    public nonisolated func unregisterHostFunction(_ name: String) {
        context.hostFunctions.remove(name)
    }

    /// Offers the built-in host functions, `call` and `config`. Both begin on the thread that read
    /// the host call (`call` up to writing the call it makes), unless the host application's
    /// `mayCall`, which `call` asks, is set.
    nonisolated func registerBuiltInHostFunctions() {
        context.hostFunctions.register("config", inline: true) { _, caller in caller.photonFile.configuration }
        context.hostFunctions.register("call", inline: configuration.mayCall == nil) { [weak self] params, caller in
            guard let self else { throw ReplyError(.unavailable, "the host is shutting down") }
            return try await callForPhoton(params, caller)
        }
    }

    /// The built-in `call`: photon `caller.photon` calls a method of another loaded photon,
    /// within its own call chain's deadline, unless that would cycle, run too deep, or call a
    /// photon it may not. A photon loaded but not started yet is waited for (within the deadline,
    /// else the start timeout): photons start side by side, a start routine may call another.
    private nonisolated func callForPhoton(_ params: JSONValue, _ caller: HostCaller) async throws(ReplyError) -> JSONValue {
        let usage = "the host function 'call' takes {\"photon\": name, \"method\": name, \"params\": any JSON, \"timeout\": seconds (optional)}"
        guard let object = params.objectValue, let photon = object["photon"]?.stringValue, let method = object["method"]?.stringValue else {
            throw ReplyError(.invalidParams, usage)
        }
        var timeout = caller.timeout
        if let seconds = object["timeout"], !seconds.isNull {
            guard let value = seconds.doubleValue, value > 0, value <= 86_400 else {
                throw ReplyError(.invalidParams, "'timeout' must be a number of seconds above 0 and at most 86400; \(usage)")
            }
            let asked = Duration.milliseconds(Int64((value * 1000).rounded(.up)))
            timeout = min(timeout ?? asked, asked)
        }
        let from = "photon \(caller.photon) (\(caller.file))"
        if let allowed = caller.photonFile.mayCall, !allowed.contains(photon) {
            throw ReplyError(.notAllowed, "\(from) may not call photon \(photon): its manifest's 'may_call' lists \(allowed.isEmpty ? "no photon" : allowed.sorted().joined(separator: ", "))")
        }
        if let mayCall = configuration.mayCall, !mayCall(caller, photon) {
            throw ReplyError(.notAllowed, "\(from) may not call photon \(photon): the host does not allow it")
        }
        let chain = caller.chain.joined(separator: " → ")
        if caller.chain.contains(photon) {
            throw ReplyError(.callCycle, "\(from) may not call photon \(photon): it waits in the same call chain (\(chain)), which would never end")
        }
        guard caller.chain.count < Self.longestCallChain else {
            throw ReplyError(.chainTooDeep, "\(from) may not call photon \(photon): its call chain (\(chain)) holds \(Self.longestCallChain) photons already, the most it may")
        }
        guard let handler = context.loadedPhotons.handler(named: photon) else {
            throw ReplyError(.unknownPhoton, "\(from) called photon \(photon), which is not loaded")
        }
        let began = ContinuousClock.now
        while true {
            let seen = handler.core.changes.count
            do {
                let left = timeout.map { $0 - began.duration(to: .now) }
                return try await handler.call(method, params: object["params"] ?? .null, timeout: left, chain: caller.chain)
            } catch where error.code == .notStarted && [.ready, .starting, .started].contains(handler.state) {
                // A photon loaded and not started yet (photons start side by side, in any order) is
                // waited for: within the call's deadline, else the loader's start timeout.
                let bound = configuration.startTimeout
                let left = (timeout ?? bound) - began.duration(to: .now)
                guard left > .zero, await handler.core.changes.wait(past: seen, timeout: left) else {
                    throw ReplyError(timeout == nil ? .unavailable : .deadlineExceeded,
                                     "\(from) called photon \(photon), which was not started within \(timeout ?? bound) (it is \(handler.state))", data: ["code": "notStarted"])
                }
            } catch where error.code == .cancelled && !Task.isCancelled {
                // Cancelled by the callee's side (it was stopped while the call ran), not by the caller.
                throw ReplyError(.unavailable, error.message, data: ["code": .string(error.code.rawValue)])
            } catch {
                throw ReplyError(forPhoton: error)
            }
        }
    }
}

extension ReplyError {
    /// How a failed photon-to-photon call is answered: the called photon's own error reply as it
    /// came, or the code that says why the call could not complete, with the loader's code in
    /// `data.code`.
    init(forPhoton error: LoaderError) {
        if let reply = error.reply {
            self = reply
            return
        }
        let code: ErrorCode = switch error.code {
        case .photonNotFound: .unknownPhoton
        case .timeout: .deadlineExceeded
        case .cancelled: .cancelled
        case .overloaded: .overloaded
        case .requestTooLarge: .invalidParams
        default: .unavailable
        }
        self.init(code, error.message, data: ["code": .string(error.code.rawValue)])
    }
}
