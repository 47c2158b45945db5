#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import Synchronization

/// A command running in a detached tmux session of a fixed size, on a tmux server of its own
/// (so no other tmux is touched); the server goes when the session is released.
final class TmuxSession: Sendable {
    private static let serial = Atomic<Int>(0)
    let server: String

    /// Starts `command` (a shell command line) in a `columns` × `rows` session.
    init(_ command: String, columns: Int = 120, rows: Int = 30) async throws {
        server = "luminal-test-\(getpid())-\(Self.serial.wrappingAdd(1, ordering: .relaxed).newValue)"
        try await tmux("new-session", "-d", "-s", "top", "-x", String(columns), "-y", String(rows), command)
    }

    deinit {
        // Ends the session, the command in it and the server, whatever the test did.
        _ = try? CommandProcess(["-L", server, "kill-server"], program: Self.program)
    }

    /// The screen as text; with `escapes`, with its colours and attributes.
    func screen(escapes: Bool = false) async throws -> [String] {
        try await tmux(["capture-pane", "-p", "-t", "top"] + (escapes ? ["-e"] : []))
    }

    /// Types `keys` (tmux key names).
    func send(_ keys: String...) async throws {
        try await tmux(["send-keys", "-t", "top"] + keys)
    }

    /// The screen once `predicate` holds for it, waiting up to the test deadline.
    @discardableResult
    func screen(escapes: Bool = false, until predicate: ([String]) -> Bool) async throws -> [String] {
        var last: [String] = []
        do {
            try await waitUntil("the screen to show what is expected") {
                last = try await screen(escapes: escapes)
                return predicate(last)
            }
        } catch {
            throw ProbeError("\(error); the screen:\n\(last.joined(separator: "\n"))")
        }
        return last
    }

    @discardableResult
    private func tmux(_ arguments: String...) async throws -> [String] {
        try await tmux(arguments)
    }

    @discardableResult
    private func tmux(_ arguments: [String]) async throws -> [String] {
        let run = try CommandProcess(["-L", server] + arguments, program: Self.program)
        let status = try await run.finish()
        guard status == .exited(code: 0) else { throw ProbeError("tmux \(arguments) ended with \(status): \(run.lines)") }
        return run.output
    }

    /// tmux, from the PATH.
    static let program: String = {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { Paths.join(String($0), "tmux") }.first { access($0, X_OK) == 0 } ?? "/usr/bin/tmux"
    }()
}
