#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension HostileCase {
    /// Values from manifests and workers that must be refused whole, or passed on whole.
    static let values: [HostileCase] = [
        HostileCase("a package whose photon.json has an env name with '='", prepare: { folder in
            folder.write("altered/photon.json", #"{"exec": "run", "env": {"A=B": "x"}}"#)
            folder.script("altered/run", "exec '\(BuildProducts.chaosPhoton)' serve altered")
        }) { supervisor in
            try await supervisor.reported(Paths.join(supervisor.photons.path, "altered"), saying: "'env'")
        },
        HostileCase("a package another user owns that asks to run as root", prepare: { folder in
            folder.write("nobodys/photon.json", #"{"exec": "run", "user": "root"}"#)
            folder.script("nobodys/run", "exec '\(BuildProducts.chaosPhoton)' serve nobodys")
            let nobody = getpwnam("nobody")?.pointee.pw_uid ?? 65534
            for path in ["nobodys", "nobodys/photon.json", "nobodys/run"] { lchown(Paths.join(folder.path, path), nobody, gid_t(nobody)) }
        }) { supervisor in
            try await supervisor.reported(Paths.join(supervisor.photons.path, "nobodys"), saying: "would run as root")
        },
        HostileCase("a worker that fails with and emits values nested 511 deep while events are followed") { supervisor in
            let events = try await supervisor.subscribedEvents(through: "bystander")
            let failed = try await supervisor.client("call", "bystander", "deep", #"{"depth": 511, "as": "error"}"#, "--json")
            let data = try failed.json()["error"]?["details"]?["photonError"]?["data"]
            #expect(failed.code == 1 && data != nil, "\(failed.lines.suffix(3))")
            #expect(try await supervisor.client("call", "bystander", "deep", #"{"depth": 511, "as": "event"}"#).code == 0)
            try await events.line { $0.contains(#""name":"deep""#) }
            events.process.signal(SIGTERM)
            _ = try await events.finish()
        },
    ]
}
