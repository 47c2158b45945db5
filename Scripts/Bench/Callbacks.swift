#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalWire

/// Calls that go the other way (PROTOCOL.md §3.4): a Swift photon calling a host function, and
/// calling another Swift photon through the host, one at a time, timed inside the photon;
/// beside them, in the same run, host → photon calls of the same photon, timed in the host.
enum Callbacks {
    static func run(chaos given: String, rounds: Int) async {
        guard let resolved = realpath(given, nil) else { fail("\(given) does not exist") }
        let chaos = String(cString: resolved)
        free(resolved)
        let folder = makeTemporaryFolder()
        defer { removeTree(folder) }
        let loader = Loader()
        loader.registerHostFunction("echo") { params, _ in params }
        let caller = await startedPhoton(at: package(folder, chaos, "caller"), in: loader)
        _ = await startedPhoton(at: package(folder, chaos, "callee"), in: loader)
        let warmUp = min(1000, rounds)
        // Host → photon, the baseline: the round trips CallLatency measures, with no params.
        for _ in 0..<warmUp { _ = await call(caller, "echo", nil) }
        let clock = ContinuousClock()
        var hostToPhoton: [Duration] = []
        hostToPhoton.reserveCapacity(rounds)
        for _ in 0..<rounds {
            let start = clock.now
            _ = await call(caller, "echo", nil)
            hostToPhoton.append(start.duration(to: clock.now))
        }
        _ = await call(caller, "host-rounds", ["count": .int(Int64(warmUp)), "function": "echo"])
        let toHost = durations(await call(caller, "host-rounds", ["count": .int(Int64(rounds)), "function": "echo"]))
        _ = await call(caller, "host-rounds", ["count": .int(Int64(warmUp)), "photon": "callee"])
        let toPhoton = durations(await call(caller, "host-rounds", ["count": .int(Int64(rounds)), "photon": "callee"]))
        await loader.unloadAll()
        var report = Report("callbacks")
        report.add("host_to_photon", Stats(hostToPhoton))
        report.add("photon_to_host", Stats(toHost))
        report.add("photon_to_photon", Stats(toPhoton))
        report.print()
    }

    /// A package in `folder` running the chaos photon `name` (`chaos`, an absolute path).
    private static func package(_ folder: String, _ chaos: String, _ name: String) -> String {
        let path = folder + "/" + name
        mkdir(path, 0o755)
        writeFile(path + "/photon.json", Array(#"{"exec": "run", "args": ["serve", "\#(name)"]}"#.utf8), mode: 0o644)
        writeFile(path + "/run", Array("#!/bin/sh\nexec '\(chaos)' \"$@\"\n".utf8), mode: 0o755)
        return path
    }

    /// The nanoseconds `host-rounds` answered, as durations.
    private static func durations(_ value: JSONValue) -> [Duration] {
        guard let values = value.arrayValue else { fail("host-rounds answered \(value)") }
        return values.map { .nanoseconds($0.intValue ?? 0) }
    }

    private static func call(_ handler: Handler, _ method: String, _ params: JSONValue) async -> JSONValue {
        do {
            return try await handler.call(method, params: params, timeout: .seconds(600))
        } catch {
            fail("call '\(method)' failed: \(error)")
        }
    }
}
