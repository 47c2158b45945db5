import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Synchronization

/// The `luminal` binary running with captured output lines.
final class CommandProcess: Sendable {
    let process: ChildProcess
    let queue = DispatchQueue(label: "luminal-command-test")
    private let captured = Mutex<[(stream: OutputStream, line: String)]>([])
    let captures = Mutex<[OutputCapture]>([])
    /// The command line, for failure messages.
    let commandLine: String

    /// Runs `luminal` with `arguments`, or `program` with them when given, with `environment`
    /// added to this process's.
    init(_ arguments: [String], program: String? = nil, environment: [String: String] = [:]) throws {
        let executable = program ?? Paths.join(BuildProducts.directory, "luminal")
        commandLine = ([Paths.name(executable)] + arguments).joined(separator: " ")
        let spawned = try Spawner.spawn(SpawnRequest(
            executable: executable, arguments: arguments,
            environment: WorkerEnvironment.inherited().merging(environment) { $1 }, workingDirectory: BuildProducts.repository))
        closeQuietly(spawned.toWorker)
        closeQuietly(spawned.fromWorker)
        process = ChildProcess(pid: spawned.pid, pidfd: spawned.pidfd, queue: queue)
        try queue.sync {
            for (fd, stream) in [(spawned.stdout, OutputStream.stdout), (spawned.stderr, .stderr)] {
                let capture = try OutputCapture(fd: fd, stream: stream, queue: queue) { [weak self] stream, line in
                    self?.captured.withLock { $0.append((stream, line)) }
                }
                capture.activate()
                captures.withLock { $0.append(capture) }
            }
        }
    }

    deinit {
        process.signal(SIGKILL)
        // Reaped here if its watcher has not: the pidfd closes with it, and a test that failed
        // half-way must not leave a zombie for the next test's census.
        if process.exitStatus == nil {
            var status: Int32 = 0
            _ = waitpid(process.pid, &status, 0)
        }
    }

    /// The pids of the photon files loaded so far, from lines like
    /// "luminal: info: loaded first from /tmp/…/first (pid 4242)".
    func loadedPIDs() -> [pid_t] {
        lines.filter { $0.contains("loaded ") }.compactMap { line in
            line.split(separator: "(pid ").last.flatMap { pid_t($0.prefix { $0.isNumber }) }
        }
    }

    /// Every line so far, stdout and stderr interleaved.
    var lines: [String] { captured.withLock { $0.map(\.line) } }

    /// The standard output lines so far.
    var output: [String] { captured.withLock { $0.filter { $0.stream == .stdout }.map(\.line) } }

    /// The first line matching `predicate`, waiting for it up to the test deadline.
    @discardableResult
    func line(_ predicate: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + testDeadline
        while true {
            if let match = lines.first(where: predicate) { return match }
            guard ContinuousClock.now < deadline else { throw DeadlineExceeded(what: "matching output line; got \(lines)") }
            await Task.yield()
        }
    }
}

extension CommandProcess {
    /// Waits for the process to exit and for its output to be read to the end, each up to
    /// `deadline`. A process still running at the deadline fails the test, named with its last
    /// lines (it is killed when released).
    func finish(within deadline: Duration = testDeadline) async throws -> ExitStatus {
        guard let status = await process.waitForExit(timeout: deadline) else {
            throw DeadlineExceeded(what: "exit of `\(commandLine)` (its last lines: \(lines.suffix(5)))", after: deadline)
        }
        try await waitUntil("output of `\(commandLine)` read to the end") {
            queue.sync { captures.withLock { $0.allSatisfy { !$0.open } } }
        }
        return status
    }
}

/// One run of a `luminal` client command, finished.
struct ClientRun {
    /// How it exited.
    let status: ExitStatus
    /// Its standard output lines.
    let output: [String]
    /// Standard output and standard error, interleaved.
    let lines: [String]

    /// Its exit code (-1 if it was ended by a signal).
    var code: Int32 {
        if case .exited(let code) = status { return code }
        return -1
    }

    /// Standard output parsed as one JSON value, as deep as a control reply may be.
    func json() throws -> JSONValue {
        try JSONValue.parse(Array(output.joined(separator: "\n").utf8), maxDepth: JSONValue.controlMaxDepth)
    }
}

/// Runs `luminal arguments…` to the end.
func luminal(_ arguments: String...) async throws -> ClientRun {
    let run = try CommandProcess(arguments)
    let status = try await run.finish()
    return ClientRun(status: status, output: run.output, lines: run.lines)
}
