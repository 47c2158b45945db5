import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import Synchronization
import Testing

extension Supervisor {
    /// `luminal run DIR`, run as a real process.
    @Suite struct RunCommand {
        @Test func sigtermStopsEveryPhotonGracefullyAndExitsZero() async throws {
            let folder = PhotonFolder(), scratch = PhotonFolder()
            defer { folder.remove(); scratch.remove() }
            folder.chaos("first")
            folder.chaos("second")
            let run = try CommandProcess(["run", folder.path, "--control", Paths.join(scratch.path, "control.sock")])
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
            let folder = PhotonFolder(), scratch = PhotonFolder()
            defer { folder.remove(); scratch.remove() }
            let path = folder.chaos("first")
            let run = try CommandProcess(["run", folder.path, "--control", Paths.join(scratch.path, "control.sock")])
            try await run.line { $0.contains("1 of 1 photons started") && $0.contains("watching for changes") }
            folder.script("first", "# edited\nexec '\(BuildProducts.chaosPhoton)' serve first")
            try await run.line { $0.contains("reloaded \(path): generation 1 → 2") }
            run.process.signal(SIGTERM)
            #expect(await run.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
        }

        @Test func workersDoNotOutliveASupervisorKilledWithSIGKILL() async throws {
            ProcessSetup.prepare() // this test process adopts the orphans, so it can reap them
            let folder = PhotonFolder()
            defer { folder.remove() }
            folder.chaos("swifty")
            symlink(Paths.join(BuildProducts.repository, "protocol/python/example_photon.py"), Paths.join(folder.path, "pythonic.py"))
            let run = try CommandProcess(["run", "--no-watch", "--state", Paths.join(folder.path, ".state"),
                                          "--control", Paths.join(folder.path, ".control"), folder.path])
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
            ProcessSetup.prepare()
            let folder = PhotonFolder(), scratch = PhotonFolder()
            defer { folder.remove(); scratch.remove() }
            folder.write("daemon/photon.json", #"{"exec": "run", "protocol": "none", "ready": 0.1}"#)
            // The worker dies with its supervisor; what it started, carrying its marker, does not.
            folder.script("daemon/run", "sleep 3600 &\necho $! > left.tmp && mv left.tmp left.pid\nexec sleep 3601")
            let state = Paths.join(scratch.path, "luminal.state")
            let run = try CommandProcess(["run", "--no-watch", "--state", state, "--control", Paths.join(scratch.path, "control.sock"), folder.path])
            try await run.line { $0.contains("1 of 1 photons started") }
            var left: pid_t?
            try await waitUntil("the daemon's pid written") {
                left = (try? Paths.read(Paths.join(folder.path, "daemon/left.pid"))).flatMap { pid_t(String(decoding: $0, as: UTF8.self).filter(\.isNumber)) }
                return left != nil
            }
            let daemon = left!
            run.process.signal(SIGKILL)
            _ = await run.process.waitForExit(timeout: testDeadline)
            #expect(isAlive(daemon))

            // An unrelated process, as if it had been given a pid the state file names, carrying
            // the marker an older version gave the workers of a supervisor with that pid.
            let unrelated = try Spawner.spawn(SpawnRequest(executable: "/bin/sh", arguments: ["-c", "export LUMINAL_WORKER=$$.1; exec sleep 3600"],
                                                          environment: [:], workingDirectory: "/", protocolPipes: false))
            let bystander = ChildProcess(pid: unrelated.pid, pidfd: unrelated.pidfd, queue: DispatchQueue(label: "bystander"))
            defer { [unrelated.stdout, unrelated.stderr].forEach(closeQuietly) }
            try await waitUntil("the bystander marked") { Procfs.environment(of: unrelated.pid, hasPrefix: "LUMINAL_WORKER=\(unrelated.pid).") }

            var configuration = LoaderConfiguration.fast
            configuration.stateFile = state
            let next = Loader(configuration: configuration)
            #expect(try next.claimStateFile() == [daemon])
            try await waitUntil("survivor gone and reaped") {
                ChildRegistry.shared.sweepOrphans()
                return !exists(daemon)
            }
            removeCgroupsLeft(by: run.process.pid)

            // A run that is gone, whose pid the bystander has now; then the same in the older
            // format, which names the pid alone: nothing is signalled either way.
            for record in ["\(ProcessIdentity.currentBoot) \(ProcessIdentity.currentNamespace) \(unrelated.pid) 1\n", "\(unrelated.pid) 1\n"] {
                folder.write("../\(Paths.name(scratch.path))/luminal.state", record)
                let again = Loader(configuration: configuration)
                #expect(try again.claimStateFile().isEmpty)
                #expect(isAlive(unrelated.pid), "killed for the record \(record)")
            }
            bystander.signal(SIGKILL)
            _ = await bystander.waitForExit(timeout: testDeadline)
            next.releaseStateFile()
        }

        /// `luminal run` on `folder` as PID 1 of a pid namespace of its own, its state file and
        /// control socket (`.control`) in the folder. `--kill-child`: should the test fail early,
        /// the whole namespace goes with unshare.
        static func runAsPIDOne(_ folder: PhotonFolder) throws -> CommandProcess {
            try CommandProcess(["--fork", "--pid", "--mount-proc", "--kill-child", Paths.join(BuildProducts.directory, "luminal"),
                                "run", "--no-watch", "--state", Paths.join(folder.path, ".state"),
                                "--control", Paths.join(folder.path, ".control"), folder.path],
                               program: "/usr/bin/unshare")
        }

        /// A supervisor in a pid namespace of its own (a container without a cgroup namespace)
        /// and supervisors outside it see each other's cgroup folders: none takes the other's
        /// for a dead run's and kills its workers.
        @Test(.enabled(if: getuid() == 0, "a PID namespace needs root"))
        func supervisorsInAndOutOfAPIDNamespaceKeepEachOthersWorkers() async throws {
            let inside = PhotonFolder()
            defer { inside.remove() }
            inside.write("job/photon.json", #"{"exec": "run", "protocol": "none", "ready": 0.1}"#)
            inside.script("job/run", "exec sleep 3600")
            let control = Paths.join(inside.path, ".control")
            let before = try await SupervisedFolder { $0.chaos("outside-before") }
            let namespaced = try Self.runAsPIDOne(inside)
            try await namespaced.line { $0.contains("1 of 1 photons started") }
            let after = try await SupervisedFolder { $0.chaos("outside-after") }
            for (supervisor, name) in [(before, "outside-before"), (after, "outside-after")] {
                #expect(try await supervisor.client("call", name, "echo", #"{"x": 1}"#).code == 0)
            }
            let job = try await luminal("status", "job", "--json", "--control", control).json()
            #expect(job[0]?["restarts"] == 0 && job[0]?["state"] == "started", "\(job)")
            #expect(try await before.client("status", "outside-before", "--json").json()[0]?["restarts"] == 0)
            let supervisor = try #require(Procfs.childPIDs(of: namespaced.process.pid).first)
            kill(supervisor, SIGTERM)
            #expect(await namespaced.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
            try await after.stop()
            try await before.stop()
        }

        @Test(.enabled(if: getuid() == 0, "a PID namespace needs root"))
        func asPIDOneItReapsEveryOrphanAndStopsOnSIGTERM() async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            folder.write("job/photon.json", #"{"exec": "run", "protocol": "none", "ready": 0.1}"#)
            // The subshell exits at once, so its short sleep is orphaned: only PID 1 can reap it.
            folder.script("job/run", "(sleep 0.2 &)\nexec sleep 3600")
            let run = try Self.runAsPIDOne(folder)
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
            for (address, says) in [("::1:9464", "an IPv6 address goes in brackets"), ("::1", "an IPv6 address goes in brackets"),
                                    ("[::1]9464", "must be followed by :PORT"), ("[]:9464", "the brackets hold no address"), ("localhost:0", "'localhost' is not an IPv4 or IPv6 address"),
                                    ("127.0.0.1:70000", "got '127.0.0.1:70000'")] {
                let folder = PhotonFolder()
                defer { folder.remove() }
                let bad = try await luminal("run", folder.path, "--metrics", address, "--control", Paths.join(folder.path, "c.sock"))
                #expect(bad.code == 64, "\(address)")
                #expect(bad.lines.contains { $0.contains("--metrics needs [ADDRESS:]PORT") && $0.contains(says) }, "\(address): \(bad.lines)")
                // Refused before anything is made: no control socket is left.
                #expect(access(Paths.join(folder.path, "c.sock"), F_OK) != 0)
            }
        }

        @Test func metricsServeOnAnIPv6AddressInBracketsAndTheURLSaysSo() async throws {
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--metrics", "[::1]:0"]) { $0.chaos("first") }
            try await supervisor.run.line { $0.contains("luminal: metrics on http://[::1]:") && $0.hasSuffix("/metrics") }
            try await supervisor.stop()
        }
    }
}

extension Supervisor.RunCommand {
    @Test func sigtermEndsSlowFinalizersAndPhotonsIgnoringItWithinTheTimeouts() async throws {
        let supervisor = try await SupervisedFolder(options: ["--no-watch", "--stop-timeout", "0.3", "--kill-timeout", "0.3"]) {
            $0.chaos("slow", mode: "slow-stop")
            $0.write("stubborn/photon.json", #"{"exec": "run", "protocol": "none", "ready": 0.1}"#)
            $0.script("stubborn/run", "trap '' TERM\nexec sleep 3600") // SIGTERM stays ignored across exec
        }
        let pids = supervisor.run.loadedPIDs()
        #expect(pids.count == 2)
        try await supervisor.stop()
        try await supervisor.run.line { $0.contains("unloaded slow") && $0.contains("terminated") }
        try await supervisor.run.line { $0.contains("unloaded stubborn") && $0.contains("killed") }
        #expect(pids.allSatisfy { !exists($0) })
    }

    @Test func aSecondSignalKillsEveryWorkerAtOnce() async throws {
        // With an hour to finish, only the second signal can end this stop within the test deadline.
        let supervisor = try await SupervisedFolder(options: ["--no-watch", "--stop-timeout", "3600"]) { $0.chaos("slow", mode: "slow-stop") }
        let pid = try #require(supervisor.run.loadedPIDs().first)
        supervisor.run.process.signal(SIGINT)
        try await supervisor.run.line { $0.contains("stopping every photon") }
        try await supervisor.stop()
        try await supervisor.run.line { $0.contains("unloaded slow") && $0.contains("killed") }
        #expect(!exists(pid))
    }

    @Test func speaksTheNotifyProtocolAndHidesItFromWorkers() async throws {
        let scratch = PhotonFolder()
        defer { scratch.remove() }
        let socketPath = Paths.join(scratch.path, "notify.sock")
        let fd = try UnixSocket.make(Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue))
        defer { close(fd) }
        #expect(try UnixSocket.withAddress(socketPath) { bind(fd, $0, $1) } == 0)
        var received: [String] = []
        func datagram(_ wanted: String) async throws -> String {
            try await waitUntil("notify message \(wanted)") {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 { received.append(String(decoding: buffer.prefix(n), as: UTF8.self)) }
                return received.contains { $0.split(separator: "\n").contains(Substring(wanted)) }
            }
            return received.first { $0.split(separator: "\n").contains(Substring(wanted)) }!
        }

        let supervisor = try await SupervisedFolder(environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "100000"]) { $0.chaos("first") }
        let ready = try await datagram("READY=1")
        #expect(ready.contains("STATUS=1 of 1 photons started"))
        _ = try await datagram("WATCHDOG=1")
        let environment = try await supervisor.client("call", "first", "inspect", "--json").json()["environment"]?.arrayValue ?? []
        #expect(!environment.isEmpty)
        #expect(!environment.contains("NOTIFY_SOCKET") && !environment.contains("WATCHDOG_USEC"))
        try await supervisor.stop()
        _ = try await datagram("STOPPING=1")
    }

    @Test func everyCommandHasHelpAndTheVersionIsShown() async throws {
        let version = try await luminal("--version").output
        // "luminal 0.2.0 (commit unknown)": a plain `swift build` is not told its commit (Scripts/install is).
        #expect(version.count == 1)
        let words = version.first?.split(separator: " ") ?? []
        #expect(words.count == 4 && words[0] == "luminal" && words[2] == "(commit" && words[3] == "unknown)")
        #expect(words.count > 1 && words[1].split(separator: ".").count == 3 && words[1].split(separator: ".").allSatisfy { UInt($0) != nil })
        let overview = try await luminal("--help")
        #expect(overview.code == 0)
        for command in ["run", "status", "start", "stop", "restart", "reload", "load", "unload", "call", "logs", "events"] {
            #expect(overview.output.contains { $0.hasPrefix("  \(command) ") })
            let help = try await luminal(command, "--help")
            #expect(help.code == 0)
            #expect(help.output.first?.hasPrefix("Usage: luminal \(command)") == true)
        }
        let typo = try await luminal("stop", "--forse")
        #expect(typo.code == 64)
        #expect(typo.lines.contains { $0.contains("unknown option '--forse'; did you mean '--force'?") })
        let command = try await luminal("relaod", "x")
        #expect(command.code == 64)
        #expect(command.lines.contains { $0.contains("did you mean 'reload'?") })
        let operands = try await luminal("call", "only-a-photon")
        #expect(operands.code == 64)
        #expect(operands.lines.contains { $0.contains("takes 2 to 3 arguments") })
    }
}
