import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// `ProcessTree.signal` and `terminate` on real process trees: `/bin/sh` running a script,
    /// spawned the way a worker is (a group of its own, watched through its pidfd).
    @Suite struct ProcessTreeKills {
        /// A shell running `script`, with the tree it starts.
        struct Shell {
            let process: ChildProcess
            let tree: ProcessTree
            private let spawned: SpawnedProcess

            init(_ script: String) throws {
                ProcessSetup.prepare()
                let serial = WorkerMarker.next()
                var environment = WorkerEnvironment.inherited()
                environment[WorkerMarker.variable] = serial
                spawned = try Spawner.spawn(SpawnRequest(executable: "/bin/sh", arguments: ["-c", script], environment: environment,
                                                         workingDirectory: "/", protocolPipes: false))
                process = ChildProcess(pid: spawned.pid, pidfd: spawned.pidfd, queue: DispatchQueue(label: "process-tree-test"))
                tree = ProcessTree(root: spawned.pid, rootStart: process.startTime, marker: "\(WorkerMarker.variable)=\(serial)")
            }

            /// Waits until the shell has started `count` children, and returns them.
            func children(_ count: Int) async throws -> [pid_t] {
                try await waitUntil("\(count) children of the shell") { Procfs.childPIDs(of: process.pid).count == count }
                return Procfs.childPIDs(of: process.pid)
            }

            /// Kills whatever is left, waits until the shell is reaped (its pid is registered as a
            /// worker's, which the orphan sweep leaves alone), reaps the members that died after it
            /// (re-parented to this process, which is a subreaper) and closes the output pipes.
            func finish() async {
                _ = await tree.terminate(first: SIGKILL, grace: testDeadline)
                #expect(await process.waitForExit(timeout: testDeadline) != nil)
                for child in Procfs.childPIDs(of: getpid()) where child != process.pid {
                    if let stat = Procfs.stat(child), stat.pgid == process.pid, stat.state == "Z" { _ = waitpid(child, nil, WNOHANG) }
                }
                [spawned.stdout, spawned.stderr].forEach(closeQuietly)
            }
        }

        @Test func aMemberIgnoringSIGTERMIsKilledOnceTheGraceIsOver() async throws {
            let shell = try Shell("trap '' TERM; sleep 1000 & wait")
            let member = try #require(try await shell.children(1).first)
            let gentle = try await withinDeadline("terminate") { await shell.tree.terminate(first: SIGTERM, grace: .milliseconds(300)) }
            #expect(!gentle)
            #expect(await shell.process.waitForExit(timeout: testDeadline) == .signaled(signal: SIGKILL, coreDumped: false))
            try await waitUntil("the member that ignored SIGTERM gone") { !isAlive(member) }
            await shell.finish()
        }

        @Test func killingAtOnceEndsTheTree() async throws {
            let shell = try Shell("trap '' TERM; sleep 1000 & sleep 1000 & wait")
            let members = try await shell.children(2)
            let gentle = try await withinDeadline("terminate") { await shell.tree.terminate(first: SIGKILL, grace: testDeadline) }
            #expect(gentle)
            #expect(await shell.process.waitForExit(timeout: testDeadline) == .signaled(signal: SIGKILL, coreDumped: false))
            try await waitUntil("every member gone") { !members.contains(where: isAlive) }
            await shell.finish()
        }

        @Test func signalReportsTrueOnlyOnceEveryMemberExited() async throws {
            let pidfds = supervisorPipeCount()
            let shell = try Shell("sleep 1000 & sleep 1000 & sleep 1000 & wait")
            _ = try await shell.children(3)
            let exited = try await withinDeadline("every member's exit") { await shell.tree.signal(SIGTERM, waitingUpTo: testDeadline) }
            #expect(exited)
            // Every pidfd was readable: what is left of the tree is zombies.
            #expect(shell.tree.members().allSatisfy { $0.state == "Z" })
            #expect(await shell.process.waitForExit(timeout: testDeadline) == .signaled(signal: SIGTERM, coreDumped: false))
            await shell.finish()
            #expect(supervisorPipeCount() == pidfds, "\(supervisorPipes())")
        }

        @Test func signalGivesUpWhenTheTimeoutPasses() async throws {
            let shell = try Shell("trap '' TERM; sleep 1000 & wait")
            let member = try #require(try await shell.children(1).first)
            let exited = try await withinDeadline("the timeout") { await shell.tree.signal(SIGTERM, waitingUpTo: .milliseconds(100)) }
            #expect(!exited)
            #expect(isAlive(shell.process.pid) && isAlive(member))
            await shell.finish()
        }
    }
}

/// The value of `body`, or `DeadlineExceeded` if it takes longer than the test deadline (the
/// body is then left running).
func withinDeadline<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async -> T) async throws -> T {
    let value = await awaitCallback(timeout: testDeadline) { deliver in
        Task { deliver(await body()) }
    }
    guard let value else { throw DeadlineExceeded(what: what) }
    return value
}
