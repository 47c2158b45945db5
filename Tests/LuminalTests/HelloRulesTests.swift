import Glibc
import Synchronization
import Testing
@testable import Luminal
import LuminalWire

extension Supervisor {
    /// What the host accepts in a hello (PROTOCOL.md §3.1, §5), with real workers.
    @Suite struct HelloRules {
        @Test func luminalRunLoadsEveryPhotonWhateverItsKinds() async throws {
            let supervisor = try await SupervisedFolder {
                // Written from the spec alone: "kinds" may be empty.
                $0.python("bare.py", "p = Photon('bare')\n@p.method()\ndef echo(params, ctx):\n    return params\nrun(p)")
                $0.chaos("other", mode: "no-base")
            }
            try await supervisor.run.line { $0.contains("2 of 2 photons started") }
            #expect(try await supervisor.client("call", "bare", "echo", "7").output == ["7"])
            try await supervisor.stop()
        }

        @Test func theLoaderAPIStillFiltersByBaseWhenAsked() async throws {
            try await withLoader { loader, folder in
                let path = folder.python("bare.py", "run(Photon('bare'))")
                #expect(try await loader.loadPhoton(at: path, base: nil).map(\.name) == ["bare"])
                await loader.unloadAll()
                let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
                #expect(error.code == .noPhotonOfBase)
            }
        }

    }
}
