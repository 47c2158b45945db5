#if canImport(Glibc)
import Glibc
#endif
import LuminalWire

/// Routes host requests to photons and writes exactly one reply per request.
struct RequestDispatcher: Sendable {
    let photons: [String: Photon]
    let output: FrameOutput
    private let states = PhotonStates()
    private let running = RunningCalls()
    private let hostCalls: HostCalls
    private let credits = StreamCredits()

    init(photons: [Photon], output: FrameOutput) {
        self.photons = Dictionary(photons.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.output = output
        hostCalls = HostCalls(output: output)
    }

    /// Handles one request on the calling thread (the reader). Pings are answered at once. A
    /// start, stop or call runs in its own task, started with `Task.immediate`: on this thread
    /// until its first suspension, then on the global executor. A method that does not suspend
    /// thus costs no thread wake-up; one that blocks this thread is covered by `ReaderToken`. A
    /// `cancel` cancels the call's task (an unknown or finished id is ignored). The host's reply to
    /// a host call resumes its caller.
    func handle(_ message: HostMessage) {
        switch message {
        case .hostResult(let id, let value):
            hostCalls.answer(id, .success(value))
        case .hostError(let id, let error):
            hostCalls.answer(id, .failure(error))
        case .credit(let id, let parts):
            credits.grant(id, parts: parts)
        case .ping(let id):
            output.send(.pong(id: id))
        case .shutdown:
            // Replies already computed in this batch may still be written (PROTOCOL.md §3, shutdown).
            output.uncork()
            exit(0)
        case .unknown(let type, let id?):
            reply(id, .failure(PhotonError(.unsupported, "this worker does not implement '\(type)' requests")))
        case .unknown(_, nil):
            return
        case .start(let id, let name):
            guard let photon = photon(name, id: id) else { return }
            guard states.beginStart(name) else {
                let why = states.phase(name) == .stopped ? "was stopped; it cannot be started again in this worker process" : "is already started"
                return reply(id, .failure(PhotonError(.invalidState, "photon \(name) \(why)")))
            }
            Task.immediate {
                do {
                    try await photon.start?(context(name, request: id))
                    states.endStart(name, succeeded: true)
                    reply(id, .success(nil))
                } catch {
                    states.endStart(name, succeeded: false)
                    reply(id, .failure(error))
                }
            }
        case .stop(let id, let name):
            guard let photon = photon(name, id: id) else { return }
            states.stop(name)
            Task.immediate {
                do {
                    try await photon.stop?(context(name, request: id))
                    reply(id, .success(nil))
                } catch {
                    reply(id, .failure(error))
                }
            }
        case .cancel(let id):
            running.cancel(id)
        case .call(let id, let name, let method, let params, let deadline, let stream):
            guard let photon = photon(name, id: id) else { return }
            guard states.phase(name) == .started else {
                return reply(id, .failure(PhotonError(.invalidState, "photon \(name) is not started (\(states.phase(name) == .stopped ? "it was stopped" : "no start has succeeded"))")))
            }
            guard let body = photon.methods[method] else {
                return reply(id, .failure(PhotonError(.unknownMethod, "photon \(name) has no method '\(method)' (it has: \(photon.descriptor.methods.joined(separator: ", ")))")))
            }
            var context = context(name, request: id, deadline: deadline.map { .now + .milliseconds($0) })
            if let stream {
                credits.begin(id, parts: stream)
                context.parts = PartSender(id: id, credits: credits, output: output)
            }
            Task.immediate {
                running.begin(id)
                let outcome: Result<JSONValue, any Error>
                do {
                    outcome = .success(try await body(params, context))
                } catch {
                    outcome = .failure(error)
                }
                // No part may follow the reply: senders still at work are refused, or waited for.
                if stream != nil { await credits.end(id) }
                reply(id, outcome)
                running.end(id)
            }
        }
    }

    private func context(_ photon: String, request: Int64, deadline: ContinuousClock.Instant? = nil) -> PhotonContext {
        PhotonContext(photon: photon, output: output, hostCalls: hostCalls, request: request, deadline: deadline)
    }

    private func photon(_ name: String, id: Int64) -> Photon? {
        if let photon = photons[name] { return photon }
        reply(id, .failure(PhotonError(.unknownPhoton, "this worker hosts no photon named '\(name)'")))
        return nil
    }

    private func reply(_ id: Int64, _ outcome: Result<JSONValue, any Error>) {
        switch outcome {
        case .success(let value):
            output.send(.result(id: id, value: value), oversize: { size in
                Self.errorReply(id, PhotonError(.photonError, "the result is \(size) bytes, over the frame cap"))
            })
        case .failure(let error):
            output.send(Self.errorReply(id, error))
        }
    }

    private static func errorReply(_ id: Int64, _ error: any Error) -> WorkerMessage {
        if error is CancellationError { return .error(id: id, ReplyError(.cancelled, "the call was cancelled")) }
        return .error(id: id, error as? ReplyError ?? ReplyError(.photonError, "\(error)"))
    }
}
