#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem

/// The path of `name` on PATH; a test that needs a program which is missing fails, naming it
/// (`.ci/run` installs the programs the suite needs).
func program(_ name: String) throws -> String {
    let folders = (getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin").split(separator: ":")
    guard let found = folders.map({ Paths.join(String($0), name) }).first(where: Paths.isExecutable) else {
        throw MissingProgram(name: name)
    }
    return found
}

/// A program the suite runs is not installed.
struct MissingProgram: Error, CustomStringConvertible {
    let name: String
    var description: String { "\(name) is not on PATH; the suite runs it for real (.ci/run installs it)" }
}

/// Runs the program `name` (found on PATH) with `arguments` to the end.
func run(_ name: String, _ arguments: [String]) async throws -> ClientRun {
    let process = try CommandProcess(arguments, program: try program(name))
    let status = try await process.finish()
    return ClientRun(status: status, output: process.output, lines: process.lines)
}
