import LuminalSystem
import LuminalWire
import LuminalWorker
import Synchronization

/// A function a host offers its photons (PROTOCOL.md §3.4): it takes the host call's parameters
/// and who called, and returns the result. It runs in a task of its own, never on the thread
/// that reads the worker's pipe. It throws a `ReplyError` to answer with a code of its own
/// (`ReplyError(.invalidParams, "…")`); any other error is answered `host_error` with its
/// description. Its task is cancelled when the photon gives up on the call, when the request the
/// photon is serving is given up on, and when the worker ends.
public typealias HostFunction = @Sendable (_ params: JSONValue, _ caller: HostCaller) async throws -> JSONValue

/// The host functions a loader offers its photons, by name: the built-in ones (`call`, `config`)
/// and those the host application registered.
final class HostFunctions: Sendable {
    private let functions = Mutex<[String: HostFunction]>([:])

    /// Offers `body` as `name`, replacing the function of that name if there is one.
    func register(_ name: String, _ body: @escaping HostFunction) {
        functions.withLock { $0[name] = body }
    }

    /// Takes the function `name` away; photons calling it are answered `unknown_function`.
    func remove(_ name: String) {
        functions.withLock { $0[name] = nil }
    }

    /// Runs the host call `request`, and says what its worker is to be answered.
    func run(_ request: HostRequest) async -> Result<JSONValue, ReplyError> {
        guard let body = functions.withLock({ $0[request.function] }) else {
            let names = functions.withLock { $0.keys.sorted() }.joined(separator: ", ")
            return .failure(ReplyError(.unknownFunction, "photon \(request.photon) (\(request.file.path)) called the host function '\(request.function)', which this host does not offer (it offers: \(names.isEmpty ? "none" : names))"))
        }
        do {
            return .success(try await body(request.params, HostCaller(request)))
        } catch let error as ReplyError {
            return .failure(error)
        } catch is CancellationError {
            return .failure(ReplyError(.cancelled, "host function '\(request.function)' was cancelled"))
        } catch {
            return .failure(ReplyError(.hostError, "host function '\(request.function)' failed: \(error)"))
        }
    }
}
