#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalWorker

/// Spawn → hello validated for one package four ways, alternating in the same run: held by
/// the process-tree rules (the bare spawn, `posix_spawn`), in a cgroup of its own (the default
/// where the host gives one: the child is created in it), with a limit and no cgroup (the
/// contained spawn's own cost), and with limits, a user, a umask and no_new_privs in a cgroup.
enum SpawnLimits {
    static func run(photon: String, runs: Int) async {
        let folder = makeTemporaryFolder()
        defer { removeTree(folder) }
        chmod(folder, 0o755)
        let variants: [(name: String, keys: String, containment: ContainmentMode)] = [
            ("bare", "", .processTree),
            ("cgroup", "", .automatic),
            ("limits_no_cgroup", #", "limits": {"files": 256}"#, .processTree),
            ("limits_user", #", "limits": {"files": 256, "core": 0, "cpu_time": 3600}, "user": "nobody", "umask": "027", "no_new_privileges": true"#, .automatic),
        ]
        var samples: [[Duration]] = Array(repeating: [], count: variants.count)
        var loaders: [Loader] = []
        var packages: [String] = []
        for (index, variant) in variants.enumerated() {
            let package = folder + "/v\(index)"
            mkdir(package, 0o755)
            copyFile(photon, to: package + "/photon", mode: 0o755)
            writeFile(package + "/photon.json", Array(#"{"exec": "photon", "args": ["serve", "v\#(index)"]\#(variant.keys)}"#.utf8), mode: 0o644)
            var configuration = LoaderConfiguration()
            configuration.containment = variant.containment
            loaders.append(Loader(configuration: configuration))
            packages.append(package)
        }
        let clock = ContinuousClock()
        for _ in 0..<runs {
            for index in variants.indices {
                let start = clock.now
                do {
                    try await loaders[index].loadPhoton(at: packages[index])
                } catch {
                    fail("cannot load \(variants[index].name): \(error)")
                }
                samples[index].append(start.duration(to: clock.now))
                await loaders[index].unloadAll(forceStop: true)
            }
        }
        var report = Report("spawn-limits")
        for (index, variant) in variants.enumerated() { report.add(variant.name, Stats(samples[index])) }
        report.print()
    }
}
