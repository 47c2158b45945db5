#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// Every misbehaviour of the reliability list, one row each (`ChaosCase.all`): the outcome the
    /// spec promises happens, the host survives, a bystander photon keeps answering, and once the
    /// misbehaving photon is gone no pipe, pidfd or child process of it is left.
    @Suite struct Chaos {
        @Test(.serialized, arguments: ChaosCase.all)
        func misbehaviourIsContained(_ chaos: ChaosCase) async throws {
            try await withLoader(configuration: .fastWithoutRestarts) { loader, folder in
                let bystander = try #require(try await loader.loadPhoton(at: folder.chaos("bystander")).first)
                try await bystander.start()
                let pid = bystander.pid
                let pipes = supervisorPipeCount(), children = Set(Procfs.childPIDs(of: getpid()))
                let victim = Victim(loader: loader, events: EventLog(loader), bystander: bystander,
                                    path: folder.package("victim", arguments: [chaos.mode, "victim"], manifest: chaos.manifest))
                try await chaos.run(victim)
                #expect(try await bystander.call("echo", params: "still here") == "still here")
                #expect(bystander.pid == pid && bystander.state == .started)
                if await loader.photons["victim"] != nil { try await loader.unloadPhoton("victim", forceStop: true) }
                // At most as many as before: what an earlier test left ending may go meanwhile.
                try await waitUntil("the victim's pipes and pidfds closed") { supervisorPipeCount() <= pipes }
                try await waitUntil("the victim's processes reaped") { Set(Procfs.childPIDs(of: getpid())).isSubset(of: children) }
            }
        }
    }
}

/// One misbehaviour: the chaos photon's mode, extra manifest members, and what must happen.
struct ChaosCase: Sendable, CustomTestStringConvertible {
    /// What the photon does wrong, as the reliability list says it.
    let behaviour: String
    /// The chaos photon's mode.
    let mode: String
    /// Members added to the victim's `photon.json` (its own timeouts and heartbeat).
    let manifest: String
    /// Makes the victim misbehave and checks the outcome.
    let run: @Sendable (Victim) async throws -> Void

    init(_ behaviour: String, mode: String = "serve", manifest: String = "", run: @escaping @Sendable (Victim) async throws -> Void) {
        self.behaviour = behaviour
        self.mode = mode
        self.manifest = manifest
        self.run = run
    }

    var testDescription: String { behaviour }
}

/// The misbehaving photon file of one chaos case, and what a case needs to observe it.
struct Victim: Sendable {
    let loader: Loader
    let events: EventLog
    /// A well-behaved photon loaded first, which must not notice anything.
    let bystander: Handler
    /// The victim's package folder.
    let path: String

    /// Loads the victim and, if asked, starts it.
    func load(start: Bool = true) async throws -> Handler {
        let handler = try #require(try await loader.loadPhoton(at: path).first)
        if start { try await handler.start() }
        return handler
    }

    /// The error its load fails with.
    func loadError() async throws -> LoaderError {
        try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
    }

    /// The first `crashed` event of the victim: its pid and exit.
    func crashed() async throws -> (pid: Int32, exit: LuminalSystem.ExitStatus) {
        try await events.first("crashed event") { [path] event in
            if case .crashed(path, _, let pid, let exit) = event { return (pid, exit) }
            return nil
        }
    }

    /// Writes `hex` raw onto the victim's fd 4 (then closes it if asked, and keeps running); the
    /// victim must be killed for a protocol fault whose reason starts with `reason`.
    func breakProtocol(hex: String, close: Bool = false, reason: String) async throws {
        let handler = try await load()
        let pid = handler.pid
        let error = try await #require(throws: LoaderError.self) {
            try await handler.call("raw", params: ["hex": .string(hex), "close": .bool(close)])
        }
        #expect(error.code == .protocolFault)
        #expect(error.message.contains(reason))
        let fault = try await events.first("protocolFault event") { [path] event in
            if case .protocolFault(path, _, _, let why) = event { return why }
            return nil
        }
        #expect(fault.hasPrefix(reason))
        guard case .faulted(let why) = handler.state else { Issue.record("state is \(handler.state)"); return }
        #expect(why.hasPrefix(reason))
        try await waitUntil("faulted worker reaped") { !exists(pid) }
    }
}

extension PhotonFolder {
    /// Writes a package `name` running the chaos photon with `arguments`, never restarted, with
    /// `manifest` (JSON members, possibly empty) added to its `photon.json`.
    @discardableResult
    func package(_ name: String, arguments: [String], manifest: String = "") -> String {
        let args = arguments.map { "\"\($0)\"" }.joined(separator: ", ")
        write("\(name)/photon.json", #"{"exec": "run", "args": [\#(args)], "restart": "never"\#(manifest.isEmpty ? "" : ", " + manifest)}"#)
        script("\(name)/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
        return Paths.join(path, name)
    }
}

/// The signal that ended a process, if one did.
func endingSignal(_ exit: LuminalSystem.ExitStatus?) -> Int32? {
    if case .signaled(let signal, _)? = exit { return signal }
    return nil
}
