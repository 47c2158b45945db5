@testable import LuminalSystem
import Testing

extension Supervisor.RunCommand {
    /// `pip install ./protocol/python` (offline: its build backend needs nothing from the index)
    /// gives a photon file `luminal_photon` with no copy of the runtime beside it.
    @Test func anInstalledPythonRuntimeServesAPhotonWithNoCopyBesideIt() async throws {
        let environment = PhotonFolder()
        defer { environment.remove() }
        let venv = Paths.join(environment.path, "venv")
        for (program, arguments) in [("/usr/bin/python3", ["-m", "venv", venv]),
                                     (Paths.join(venv, "bin/pip"), ["install", "-q", "--no-index", Paths.join(BuildProducts.repository, "protocol/python")])] {
            let step = try CommandProcess(arguments, program: program)
            #expect(try await step.finish() == .exited(code: 0), "\(step.commandLine): \(step.lines)")
        }
        let supervisor = try await SupervisedFolder { folder in
            folder.write("installed.py", """
                #!\(Paths.join(venv, "bin/python"))
                from luminal_photon import Photon, run
                p = Photon("installed")
                @p.method()
                def where(params, ctx):
                    import luminal_photon
                    return luminal_photon.__file__
                run(p)
                """, mode: 0o755)
        }
        let reply = try await supervisor.client("call", "installed", "where")
        #expect(reply.code == 0 && reply.output.first?.hasPrefix(Paths.join(venv, "lib/")) == true, "\(reply.lines)")
        #expect(supervisor.run.lines.allSatisfy { !$0.contains("skipped") }, "\(supervisor.run.lines)")
        try await supervisor.stop()
    }
}
