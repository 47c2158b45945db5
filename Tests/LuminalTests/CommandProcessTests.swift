#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import Testing

extension Supervisor {
    /// The test helper that runs commands: a command still running at its deadline fails the
    /// test by name, not as an exit code of -1 once it has printed its result anyway.
    @Suite struct CommandProcessHelper {
        @Test func aCommandStillRunningAtItsDeadlineFailsNamingIt() async throws {
            let sleeper = try CommandProcess(["3600"], program: try program("sleep"))
            do {
                let status = try await sleeper.finish(within: .milliseconds(100))
                Issue.record("an hour-long sleep finished with \(status)")
            } catch let error as DeadlineExceeded {
                #expect(error.description == "no exit of `sleep 3600` (its last lines: []) within 0.1 seconds")
            }
            // Released, it is killed and reaped (`CommandProcess.deinit`).
        }
    }
}
