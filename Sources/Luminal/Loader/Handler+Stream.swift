import LuminalWire
import LuminalWorker

extension Handler {
    /// The largest window a stream may have: the parts of one stream the supervisor may hold, each
    /// at most a frame (`LoaderConfiguration.frameCap`).
    public static let largestStreamWindow = 1024

    /// Calls `method` with `params` as a streamed call (PROTOCOL.md §3.5): its result comes as
    /// the parts the method sends, then its final value unless that is `null`. At most `window`
    /// parts (1...`largestStreamWindow`) wait in the supervisor; the photon sends no more until
    /// the consumer has taken some. A photon whose worker does not stream (no `streams` feature)
    /// answers as for `call`: its result is the one element.
    ///
    /// The call starts at once. `timeout` (else the file's `timeouts.call`, else
    /// `LoaderConfiguration.callTimeout`) bounds the whole stream; a stream is never sent again
    /// after a crash, idempotent or not (its parts were taken). Dropping the stream, or cancelling
    /// the task iterating it, cancels the call in the worker.
    public func stream(_ method: String, params: JSONValue = nil, window: Int = 16, timeout: Duration? = nil) -> PhotonStream {
        let parts = PartStream(window: min(max(window, 1), Self.largestStreamWindow))
        let task = Task { [self] in
            let began = calls.began()
            do throws(LoaderError) {
                let value = try await deliverStream(method, params: params, timeout: timeout, parts: parts)
                calls.ended(.ok, since: began)
                parts.finish(.success(value))
            } catch {
                calls.ended(CallOutcome(error.code), since: began)
                parts.finish(.failure(error))
            }
        }
        return PhotonStream(call: StreamedCall(parts: parts, task: task))
    }

    /// Sends the streamed call to the serving generation (again to the one serving now if it met
    /// one being replaced, which never saw it) and returns its final value.
    private func deliverStream(_ method: String, params: JSONValue, timeout asked: Duration?, parts: PartStream) async throws(LoaderError) -> JSONValue {
        let timeout = asked ?? defaultCallTimeout
        var (_, worker) = try await callTarget(method, deadline: timeout.map { ContinuousClock.now + $0 }, timeout: timeout)
        while true {
            do {
                return try await worker.send(.call(photon: name, method: method, params: params), timeout: timeout, parts: parts)
            } catch where error.code == .retired {
                (_, worker) = try replacement(of: worker, method)
            }
        }
    }
}
