#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import Testing

extension Supervisor {
    /// A supervisor recognises what its own runs left by the run's identity (boot, pid, start
    /// time), never by a pid that another run may have been given since.
    @Suite struct RunIdentity {
        /// Starts `make` until the supervisor it returns got `pid` (the previous one is free), by
        /// writing `pid - 1` to /proc/sys/kernel/ns_last_pid just before; other processes of the
        /// machine may take it first, so it tries again.
        func startWithPID(_ pid: pid_t, _ make: () async throws -> SupervisedFolder) async throws -> SupervisedFolder {
            for _ in 0..<200 {
                let fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC)
                try #require(fd >= 0, "cannot open ns_last_pid: \(errno)")
                let text = Array("\(pid - 1)".utf8)
                _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
                let supervisor = try await make()
                if supervisor.run.process.pid == pid { return supervisor }
                let other = supervisor.run.process.pid
                supervisor.run.process.signal(SIGKILL)
                _ = await supervisor.run.process.waitForExit(timeout: testDeadline)
                removeCgroupsLeft(by: other)
            }
            throw DeadlineExceeded(what: "a supervisor with pid \(pid) (others kept taking it)")
        }

        @Test(.enabled(if: getuid() == 0, "writing ns_last_pid needs root"))
        func aRunThatGotTheDeadRunsPIDKeepsItsWorkers() async throws {
            // A: a worker that leaves a daemon (carrying A's marker) behind; killed outright.
            let first = try await SupervisedFolder { photons in
                photons.write("leaver/photon.json", #"{"exec": "run", "protocol": "none", "ready": 0.1}"#)
                photons.script("leaver/run", "sleep 1011 &\necho $! > daemon.tmp && mv daemon.tmp daemon.pid\nexec sleep 1010")
            }
            let daemonFile = Paths.join(first.photons.path, "leaver/daemon.pid")
            var daemonPID: pid_t?
            try await waitUntil("the daemon's pid written") {
                daemonPID = (try? Paths.read(daemonFile)).flatMap { pid_t(String(decoding: $0, as: UTF8.self).filter(\.isNumber)) }
                return daemonPID != nil
            }
            let daemon = try ProcessWatch(daemonPID!)
            let deadPID = first.run.process.pid
            first.run.process.signal(SIGKILL)
            _ = await first.run.process.waitForExit(timeout: testDeadline)
            // B: another folder and state file, with A's pid.
            let second = try await startWithPID(deadPID) {
                try await SupervisedFolder(awaitingStartup: false) { photons in
                    photons.write("bystander/photon.json", #"{"exec": "run", "protocol": "none", "ready": 0.1}"#)
                    photons.script("bystander/run", "exec sleep 1012")
                }
            }
            try await second.run.line { $0.contains("photons started from") }
            let bystander = try ProcessWatch(pid_t(try await second.startedPID("bystander")))
            // C: A's folder and state file.
            let control = Paths.join(first.scratch.path, "again.sock")
            let third = try CommandProcess(["run", first.photons.path, "--no-watch", "--control", control,
                                            "--state", Paths.join(first.scratch.path, "state")])
            try await third.line { $0.contains("photons started from") }
            try await daemon.awaitEnd("A's daemon killed by C's cleanup")
            #expect(!bystander.ended, "C killed a worker of B, which only shares A's pid; C said: \(third.lines)")
            third.process.signal(SIGTERM)
            #expect(await third.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
            try await second.stop()
            removeCgroupsLeft(by: deadPID)
        }
    }
}
