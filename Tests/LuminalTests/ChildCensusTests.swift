import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import Synchronization
import Testing

extension Supervisor {
    /// `ChildRegistry`'s census of the supervisor's children while a spawn is under way.
    @Suite struct ChildCensus {
        /// `/bin/sleep 600`, a child of this process in its process group (so no sweep reaps it).
        static func sleeper() -> pid_t {
            var pid: pid_t = 0
            var argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("600"), nil]
            defer { argv.forEach { free($0) } }
            let rc = posix_spawn(&pid, "/bin/sleep", nil, nil, &argv, environ)
            return rc == 0 ? pid : -1
        }

        static func end(_ pid: pid_t) {
            guard pid > 0 else { return }
            _ = kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }

        /// A worker's exit runs a census before it is reaped: it must not wait for a spawn (which
        /// lasts until the child's exec), nor take the child being spawned for an orphan.
        @Test func aCensusNeitherWaitsForASpawnNorCountsTheChildBeingSpawned() async throws {
            let registry = ChildRegistry()
            let earlier = Self.sleeper()
            defer { Self.end(earlier) }
            try #require(earlier > 0)
            // A census leaves out children started in the clock tick a spawn began in, or later.
            let earlierStart = try #require(Procfs.stat(earlier)?.startTime)
            while Procfs.ticksSinceBoot() <= earlierStart { sched_yield() }
            let outcome = try await withinDeadline("a census while a spawn is under way") {
                await withCheckedContinuation { (done: CheckedContinuation<(during: ChildRegistry.Census?, after: ChildRegistry.Census, pid: pid_t), Never>) in
                    DispatchQueue(label: "census-test-spawn").async {
                        let during = Mutex<ChildRegistry.Census?>(nil)
                        let pid = registry.spawning { () -> pid_t in
                            let pid = Self.sleeper()
                            let counted = DispatchSemaphore(value: 0)
                            DispatchQueue(label: "census-test-census").async {
                                let census = registry.census()
                                during.withLock { $0 = census }
                                counted.signal()
                            }
                            counted.wait()
                            return pid
                        }
                        done.resume(returning: (during.withLock { $0 }, registry.census(), pid))
                    }
                }
            }
            defer { Self.end(outcome.pid) }
            try #require(outcome.pid > 0)
            let during = try #require(outcome.during)
            #expect(during.others.contains { $0.pid == earlier })
            #expect(!during.others.contains { $0.pid == outcome.pid })
            #expect(!during.workers.contains(outcome.pid))
            #expect(outcome.after.workers.contains(outcome.pid))
            #expect(!outcome.after.others.contains { $0.pid == outcome.pid })
            #expect(outcome.after.others.contains { $0.pid == earlier })
        }
    }
}
