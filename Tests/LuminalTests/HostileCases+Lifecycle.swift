#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension HostileCase {
    /// Saves that break photon files, serving and new, and photons the supervisor tries again on
    /// the operator's behalf.
    static let lifecycle: [HostileCase] = [
        HostileCase("a serving package's manifest saved with a typo'd key, then cut short, then as a folder", prepare: { folder in
            folder.write("web/photon.json", #"{"exec": "run", "args": ["serve", "web"]}"#)
            folder.script("web/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
        }) { supervisor in
            let pid = try await supervisor.startedPID("web")
            let manifest = Paths.join(supervisor.photons.path, "web/photon.json")
            for (round, broken) in [#"{"exec": "run", "restrat": "always"}"#, #"{"exec": "ru"#, ""].enumerated() {
                if broken.isEmpty {
                    unlink(manifest)
                    mkdir(manifest, 0o755)
                } else {
                    supervisor.photons.write("web/photon.json.tmp", broken)
                    rename(manifest + ".tmp", manifest)
                }
                try await waitUntil("the failed reload \(round + 1) shown") {
                    try await supervisor.client("status", "--json", "web").json()[0]?["reloadFailure"]?["failures"]?.intValue == Int64(round + 1)
                }
                #expect(try await supervisor.client("status", "--json", "web").json()[0]?["pid"]?.intValue == pid)
                #expect(try await supervisor.client("call", "web", "echo", #""up""#).output == ["up"])
            }
            #expect(try await supervisor.client("status", "--check").code == 0)
            rmdir(manifest)
        },
        HostileCase("a new package with a manifest cut short, added while watching") { supervisor in
            supervisor.photons.write("cut/photon.json", #"{"exec": "#)
            let cut = Paths.join(supervisor.photons.path, "cut")
            try await waitUntil("the cut package listed as failed") {
                try await supervisor.client("status", "--json", cut).json()[0]?["state"] == "failed"
            }
            let check = try await supervisor.client("status", "--check")
            #expect(check.code == 3 && check.output.contains { $0.hasPrefix(cut) }, "\(check.output)")
            #expect(try await supervisor.client("unload", cut).code == 0)
        },
        HostileCase("a photon whose start crashes its worker every time, never started", prepare: { folder in
            folder.chaos("doomed", mode: "crash-on-start")
        }) { supervisor in
            let path = Paths.join(supervisor.photons.path, "doomed")
            // Meant to run, it is started again by each restart, at the backoff's pace, until quarantined.
            try await supervisor.run.line { $0.contains("photon file \(path) failed 8 times in a row") }
            let attempts = supervisor.run.lines.filter { $0.contains("photon file \(path) failed (") }
            #expect(attempts.count == 7, "\(attempts)")
            let state = try await supervisor.client("status", "--json", "doomed").json()[0]?["state"]?.stringValue
            #expect(state?.contains("quarantined") == true, "\(state ?? "no state")")
        },
    ]
}
