#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import Testing

extension Supervisor {
    /// No worker outlives its supervisor, even one killed outright (`kill -9`): each has SIGKILL
    /// as its parent-death signal.
    @Suite struct SupervisorDeath {
        /// As root, once as root (workers in cgroups, one switching to `nobody`) and once as
        /// `nobody` (no cgroup: only the process-tree rules and the death signal hold them).
        @Test(arguments: [false, true])
        func everyKindOfWorkerDiesWithAKilledSupervisor(supervisorAsNobody: Bool) async throws {
            guard getuid() == 0 || !supervisorAsNobody else { return }
            let asRoot = getuid() == 0 && !supervisorAsNobody
            let supervisor = try await SupervisedFolder(uid: supervisorAsNobody ? 65534 : nil) { photons in
                // Nothing here writes anything or reads fd 3: only the death signal can end them.
                photons.write("quiet/photon.json", #"{"exec": "run", "protocol": "none", "ready": 0.1}"#)
                photons.script("quiet/run", "exec sleep 1001")
                photons.write("limited/photon.json", #"{"exec": "run", "protocol": "none", "ready": 0.1, "limits": {"files": 64}}"#)
                photons.script("limited/run", "exec sleep 1002")
                photons.write("deaf/photon.json", #"{"exec": "run"}"#)
                photons.chaos("deaf/run", mode: "raw", photon: "deaf")
                if asRoot {
                    // The identity switch clears a parent-death signal set before it.
                    chmod(photons.path, 0o755)
                    photons.write("nobody/photon.json", #"{"exec": "run", "protocol": "none", "ready": 0.1, "user": "nobody"}"#)
                    photons.script("nobody/run", "exec sleep 1003")
                }
            }
            let names = ["quiet", "limited", "deaf"] + (asRoot ? ["nobody"] : [])
            var watches: [String: ProcessWatch] = [:]
            for name in names { watches[name] = try ProcessWatch(pid_t(try await supervisor.startedPID(name))) }
            // The raw worker answers, then stops reading fd 3: it would never see the end of file.
            #expect(try await supervisor.client("call", "deaf", "deafen").code == 0)
            let killed = supervisor.run.process.pid
            supervisor.run.process.signal(SIGKILL)
            #expect(await supervisor.run.process.waitForExit(timeout: testDeadline) == .signaled(signal: SIGKILL, coreDumped: false))
            for name in names {
                try await watches[name]!.awaitEnd("\(name)'s worker (pid \(watches[name]!.pid)) to die with its supervisor")
            }
            removeCgroupsLeft(by: killed)
        }
    }
}
