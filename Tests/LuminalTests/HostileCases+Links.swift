#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension HostileCase {
    /// Second paths to a serving photon file appearing and going while watching.
    static let links: [HostileCase] = [
        HostileCase("a hard link to a serving photon file, named to be found first, then the file saved in place and removed", prepare: { folder in
            folder.chaos("web")
        }) { supervisor in
            let web = Paths.join(supervisor.photons.path, "web"), link = Paths.join(supervisor.photons.path, "aa-link")
            let pid = try await supervisor.startedPID("web")
            #expect(Glibc.link(web, link) == 0)
            try await supervisor.reported(link, saying: "the same file as \(web)")
            // Saved in place through its own path: the loaded path reloads, nothing fails.
            supervisor.photons.script("web", "# v2\nexec '\(BuildProducts.chaosPhoton)' serve web")
            try await waitUntil("web reloaded") {
                let status = try await supervisor.client("status", "--json", "web").json()[0]
                return status?["file"]?.stringValue == web && status?["state"] == "started" && status?["pid"]?.intValue != pid
            }
            #expect(try await supervisor.client("status", "--check").code == 0)
            // Its path removed, the link takes over.
            unlink(web)
            try await waitUntil("web served from the link") {
                let status = try await supervisor.client("status", "--json", "web").json()[0]
                return status?["file"]?.stringValue == link && status?["state"] == "started"
            }
            #expect(try await supervisor.client("status", "--check").code == 0)
        },
    ]
}
