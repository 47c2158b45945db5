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
    /// A function, and whether it may begin on the thread that read its host call.
    private struct Entry {
        let body: HostFunction
        let inline: Bool
    }

    private let functions = Mutex<[String: Entry]>([:])

    /// Offers `body` as `name`, replacing the function of that name if there is one. An `inline`
    /// one (the host's own, which runs no user code before it first suspends) begins on the
    /// thread that read the host call, saving a thread hand-off; any other begins in a task of
    /// its own.
    func register(_ name: String, inline: Bool = false, _ body: @escaping HostFunction) {
        functions.withLock { $0[name] = Entry(body: body, inline: inline) }
    }

    /// Takes the function `name` away; photons calling it are answered `unknown_function`.
    func remove(_ name: String) {
        functions.withLock { $0[name] = nil }
    }

    /// Starts the task that runs the host call `request` and hands `answer` what its worker is
    /// to be answered (`WorkerHooks.hostCall`).
    func start(_ request: HostRequest, answer: @escaping @Sendable (Result<JSONValue, ReplyError>) -> Void) -> Task<Void, Never> {
        let entry = functions.withLock { $0[request.function] }
        let work: @Sendable () async -> Void = { [self] in answer(await run(request, entry?.body)) }
        return entry?.inline == true ? Task.immediate(operation: work) : Task(operation: work)
    }

    /// Runs `body` for the host call `request` (nil: no function of its name), and says what its
    /// worker is to be answered.
    private func run(_ request: HostRequest, _ body: HostFunction?) async -> Result<JSONValue, ReplyError> {
        guard let body else {
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
