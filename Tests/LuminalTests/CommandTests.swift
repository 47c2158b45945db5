import Dispatch
import Glibc
import Synchronization
import Testing
@testable import Luminal

extension Supervisor {
    /// `luminal run DIR`, run as a real process.
    @Suite struct RunCommand {
        @Test func sigtermStopsEveryPhotonGracefullyAndExitsZero() async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            folder.chaos("first")
            folder.chaos("second")
            let run = try CommandProcess(["run", folder.path])
            let ready = try await run.line { $0.contains("2 of 2 photons started") }
            #expect(ready.contains(folder.path))
            let pids = run.loadedPIDs()
            #expect(pids.count == 2)
            try await run.line { $0.contains("[first] first started") }
            run.process.signal(SIGTERM)
            let status = await run.process.waitForExit(timeout: testDeadline)
            #expect(status == .exited(code: 0))
            try await run.line { $0.contains("[second] second finalizer ran") }
            #expect(pids.allSatisfy { !exists($0) })
        }

        @Test func editingAPhotonFileWhileRunningReloadsIt() async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            let path = folder.chaos("first")
            let run = try CommandProcess(["run", folder.path])
            try await run.line { $0.contains("1 of 1 photons started") && $0.contains("watching for changes") }
            folder.script("first", "# edited\nexec '\(BuildProducts.chaosPhoton)' serve first")
            try await run.line { $0.contains("reloaded \(path): generation 1 → 2") }
            run.process.signal(SIGTERM)
            #expect(await run.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
        }

        @Test func workersDoNotOutliveASupervisorKilledWithSIGKILL() async throws {
            Luminal.Supervisor.prepare() // this test process adopts the orphans, so it can reap them
            let folder = PhotonFolder()
            defer { folder.remove() }
            folder.chaos("swifty")
            symlink(Paths.join(BuildProducts.repository, "protocol/python/example_photon.py"), Paths.join(folder.path, "pythonic.py"))
            let run = try CommandProcess(["run", "--no-watch", "--state", Paths.join(folder.path, ".state"), folder.path])
            try await run.line { $0.contains("2 of 2 photons started") }
            let pids = run.loadedPIDs()
            #expect(pids.count == 2)
            run.process.signal(SIGKILL)
            #expect(await run.process.waitForExit(timeout: testDeadline) == .signaled(signal: SIGKILL, coreDumped: false))
            // Each worker reads end of file on fd 3 and exits on its own.
            // They are re-parented to this process (a subreaper), which reaps them.
            try await waitUntil("workers gone and reaped") {
                ChildRegistry.shared.sweepOrphans()
                return pids.allSatisfy { !exists($0) }
            }
        }

        @Test func nextStartKillsWhatAKilledSupervisorLeftBehindButNoReusedPid() async throws {
            Luminal.Supervisor.prepare()
            let folder = PhotonFolder(), scratch = PhotonFolder()
            defer { folder.remove(); scratch.remove() }
            folder.write("daemon/photon.json", #"{"exec": "run", "protocol": "none", "ready": 0.1}"#)
            folder.script("daemon/run", "exec sleep 3600")
            let state = Paths.join(scratch.path, "luminal.state")
            let run = try CommandProcess(["run", "--no-watch", "--state", state, folder.path])
            try await run.line { $0.contains("1 of 1 photons started") }
            let daemon = try #require(run.loadedPIDs().first)
            run.process.signal(SIGKILL)
            _ = await run.process.waitForExit(timeout: testDeadline)
            #expect(isAlive(daemon)) // a plain executable does not notice its supervisor is gone

            // An unrelated process, as if it had been given a pid the state file names.
            let unrelated = try Spawner.spawn(SpawnRequest(executable: "/bin/sleep", arguments: ["3600"], environment: [:],
                                                          workingDirectory: "/", protocolPipes: false))
            let bystander = ChildProcess(pid: unrelated.pid, pidfd: unrelated.pidfd, queue: DispatchQueue(label: "bystander"))
            defer { [unrelated.stdout, unrelated.stderr].forEach(closeQuietly) }

            var configuration = LoaderConfiguration.fast
            configuration.stateFile = state
            let next = Loader(configuration: configuration)
            #expect(try next.claimStateFile() == [daemon])
            try await waitUntil("survivor gone and reaped") {
                ChildRegistry.shared.sweepOrphans()
                return !exists(daemon)
            }

            folder.write("../\(Paths.name(scratch.path))/luminal.state", "\(unrelated.pid) 1\n")
            let again = Loader(configuration: configuration)
            #expect(try again.claimStateFile().isEmpty)
            #expect(isAlive(unrelated.pid))
            bystander.signal(SIGKILL)
            _ = await bystander.waitForExit(timeout: testDeadline)
            next.releaseStateFile()
        }

        @Test(.enabled(if: getuid() == 0, "a PID namespace needs root"))
        func asPIDOneItReapsEveryOrphanAndStopsOnSIGTERM() async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            folder.write("job/photon.json", #"{"exec": "run", "protocol": "none", "ready": 0.1}"#)
            // The subshell exits at once, so its short sleep is orphaned: only PID 1 can reap it.
            folder.script("job/run", "(sleep 0.2 &)\nexec sleep 3600")
            // --kill-child: should the test fail early, the whole namespace goes with unshare.
            let run = try CommandProcess(["--fork", "--pid", "--mount-proc", "--kill-child", Paths.join(BuildProducts.directory, "luminal"),
                                          "run", "--no-watch", "--state", Paths.join(folder.path, ".state"), folder.path],
                                         program: "/usr/bin/unshare")
            try await run.line { $0.contains("1 of 1 photons started") }
            let supervisor = try #require(Procfs.childPIDs(of: run.process.pid).first)
            try await waitUntil("the orphan reaped") {
                let children = Procfs.childPIDs(of: supervisor)
                return children.count == 1 && children.allSatisfy { Procfs.stat($0)?.state != "Z" }
            }
            kill(supervisor, SIGTERM)
            #expect(await run.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
            try await run.line { $0.contains("unloaded job") && $0.contains("clean") }
        }

        @Test func usageErrorsNameTheBadArgument() async throws {
            let run = try CommandProcess(["run", "--bogus"])
            #expect(await run.process.waitForExit(timeout: testDeadline) == .exited(code: 64))
            try await run.line { $0.contains("unknown option '--bogus'") }
        }
    }
}

/// The `luminal` binary running with captured output lines.
final class CommandProcess: Sendable {
    let process: ChildProcess
    private let queue = DispatchQueue(label: "luminal-command-test")
    private let captured = Mutex<[String]>([])
    private let captures = Mutex<[OutputCapture]>([])

    /// Runs `luminal` with `arguments`, or `program` with them when given.
    init(_ arguments: [String], program: String? = nil) throws {
        let spawned = try Spawner.spawn(SpawnRequest(
            executable: program ?? Paths.join(BuildProducts.directory, "luminal"), arguments: arguments,
            environment: WorkerEnvironment.inherited(), workingDirectory: BuildProducts.repository))
        closeQuietly(spawned.toWorker)
        closeQuietly(spawned.fromWorker)
        process = ChildProcess(pid: spawned.pid, pidfd: spawned.pidfd, queue: queue)
        try queue.sync {
            for (fd, stream) in [(spawned.stdout, OutputStream.stdout), (spawned.stderr, .stderr)] {
                let capture = try OutputCapture(fd: fd, stream: stream, queue: queue) { [weak self] _, line in
                    self?.captured.withLock { $0.append(line) }
                }
                capture.activate()
                captures.withLock { $0.append(capture) }
            }
        }
    }

    deinit {
        process.signal(SIGKILL)
    }

    /// The pids of the photon files loaded so far, from lines like
    /// "luminal: info: loaded first from /tmp/…/first (pid 4242)".
    func loadedPIDs() -> [pid_t] {
        lines.filter { $0.contains("loaded ") }.compactMap { line in
            line.split(separator: "(pid ").last.flatMap { pid_t($0.prefix { $0.isNumber }) }
        }
    }

    /// Every line so far, stdout and stderr interleaved.
    var lines: [String] { captured.withLock { $0 } }

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
