#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWorker

extension Loader {
    /// Stops and unloads the photon file `handler` comes from, with all its photons.
    ///
    /// Graceful: in-flight calls drain (drain timeout), finalizers run and the worker is asked to
    /// exit (stop timeout), then SIGTERM to its tree, then SIGKILL (kill timeout). With `forceStop`
    /// the finalizers are skipped: SIGTERM at once, SIGKILL after the kill timeout.
    @discardableResult
    public func unloadPhoton(_ handler: Handler, forceStop: Bool = false) async throws(LoaderError) -> UnloadOutcome {
        guard records[handler.filePath].loaded?.handlers.contains(handler) == true else {
            throw LoaderError(.photonNotFound, "photon \(handler.name) (\(handler.filePath)) is not loaded", photon: handler.name, file: handler.filePath)
        }
        return await unload([handler.filePath], forceStop: forceStop)[0]
    }

    /// Unloads the photon file of the photon named `nameOrPath`, or the photon file at that path.
    @discardableResult
    public func unloadPhoton(_ nameOrPath: String, forceStop: Bool = false) async throws(LoaderError) -> UnloadOutcome {
        try await unloadPhotons([nameOrPath], forceStop: forceStop)[0]
    }

    /// Unloads the photon files of `handlers` (each file once, all at the same time).
    @discardableResult
    public func unloadPhotons(_ handlers: [Handler], forceStop: Bool = false) async throws(LoaderError) -> [UnloadOutcome] {
        for handler in handlers where records[handler.filePath].loaded?.handlers.contains(handler) != true {
            throw LoaderError(.photonNotFound, "photon \(handler.name) (\(handler.filePath)) is not loaded", photon: handler.name, file: handler.filePath)
        }
        return await unload(Set(handlers.map(\.filePath)), forceStop: forceStop)
    }

    /// Unloads the photon files named by photon names or paths. Nothing is unloaded if one is
    /// unknown. A path of a failed photon file (`failedFiles`) forgets it (ending `notLoaded`).
    @discardableResult
    public func unloadPhotons(_ namesOrPaths: [String], forceStop: Bool = false) async throws(LoaderError) -> [UnloadOutcome] {
        var paths: Set<String> = []
        var forgotten: [FailedFile] = []
        for item in namesOrPaths {
            if let failure = failedFile(at: item) { forgotten.append(failure) } else { paths.insert(try filePath(of: item)) }
        }
        var outcomes: [UnloadOutcome] = []
        for failure in forgotten where records[failure.path].failure != nil {
            forgetFailedFile(failure.path)
            ask(.unload, of: failure.path)
            let outcome = UnloadOutcome(file: failure.path, photons: [], ending: .notLoaded, exit: nil, finalizerErrors: [:])
            context.log(.info, "forgot \(failure.path), which had failed to load", file: failure.path)
            context.events.emit(.stopped(outcome))
            outcomes.append(outcome)
        }
        return outcomes + (paths.isEmpty ? [] : await unload(paths, forceStop: forceStop))
    }

    /// Unloads every photon file. Loads still in progress are abandoned first: their workers,
    /// which have started nothing yet, are killed, and the photon files still being hashed are
    /// given up on, and those loads fail; those still waiting for a bring-up place (`bringUps`)
    /// are not begun, and neither is any other until the loads in progress are over (a watcher's
    /// act that gets a place meanwhile); so nothing registers behind this unload's back.
    @discardableResult
    public func unloadAll(forceStop: Bool = false) async -> [UnloadOutcome] {
        context.hashes.cancelAll()
        unloadsOfAll += 1
        abandonLoads(of: records.loadingPaths, because: "every photon is being unloaded")
        abandonComingUp(of: Set(scalingUp.keys).union(bringingUp.keys))
        while records.loadsInProgress > 0 {
            await withCheckedContinuation { loadWaiters.append($0) }
        }
        unloadsOfAll -= 1
        let outcomes = await unload(records.loadedPaths, forceStop: forceStop)
        forgetFailedFiles()
        recycler?.cancel()
        recycler = nil
        scaler?.cancel()
        scaler = nil
        await context.tasks.waitUntilIdle()
        await killOrphans()
        return outcomes
    }

    /// Abandons the loads in progress of the photon files at `paths`: their workers, which have
    /// started nothing yet, are killed (one not spawned yet as soon as it is), so those loads
    /// fail at once.
    func abandonLoads(of paths: Set<String>, because why: String) {
        for path in paths.sorted() where records[path].load != nil {
            records[path].load?.abandoned = true
            guard let pool = records[path].load?.pool else { continue }
            context.log(.info, "abandoning the load of \(path): \(why)", file: path)
            pool.liveConnections.forEach(context.killNow)
        }
    }

    /// Kills, with their trees, the processes photons left to the supervisor that no worker's
    /// tree took along (one that left its cgroup and its worker's process group, and was never
    /// attributed): with every photon unloaded, none of them has a photon left to belong to.
    private func killOrphans() async {
        let timeout = configuration.killTimeout
        for orphan in ChildRegistry.shared.orphans() {
            context.log(.warning, "killing pid \(orphan.pid), a process a photon left behind that no worker's tree accounted for")
            let tree = ProcessTree(root: orphan.pid, rootStart: orphan.startTime, marker: "", cgroup: nil)
            _ = await tree.terminate(first: SIGKILL, grace: timeout)
        }
        ChildRegistry.shared.sweepOrphans()
    }

    /// The path of the loaded photon file of the photon named `nameOrPath`, or at that path;
    /// otherwise why there is none: the file failed to load, is being loaded, or is unknown.
    package func filePath(of nameOrPath: String) throws(LoaderError) -> String {
        if let handler = records.handler(named: nameOrPath) {
            return handler.filePath
        }
        let path = Paths.absolute(nameOrPath)
        if let failure = records[path].failure {
            throw LoaderError(.notStarted, "photon file \(path) failed to load (\(failure.error.message)), so nothing of it runs; reload or start tries it again, stop holds it, unload forgets it", file: path)
        }
        guard records[path].loaded != nil else {
            // Neither loaded nor unknown: what it will be is known once its load is over.
            if records[path].load != nil { throw Self.beingLoadedError(path) }
            let loaded = photons.keys.sorted().joined(separator: ", ")
            throw LoaderError(.photonNotFound, "no loaded photon is named '\(nameOrPath)' and no loaded photon file is at \(path) (loaded: \(loaded.isEmpty ? "none" : loaded))", file: path)
        }
        return path
    }

    /// Takes the files out of the registry, then stops their workers concurrently, in path order of results.
    package func unload(_ paths: Set<String>, forceStop: Bool) async -> [UnloadOutcome] {
        abandonComingUp(of: paths)
        await enterGate(paths)
        defer { gate.leave(paths) }
        let records = paths.sorted().compactMap { self.records.takeLoaded($0) }
        records.forEach { $0.pool.cores.forEach { $0.discard() } }
        return await withTaskGroup(of: (Int, UnloadOutcome).self) { group in
            for (index, record) in records.enumerated() {
                let timeouts = stopTimeouts(for: record.file)
                group.addTask { [context] in
                    (index, await Self.stop(record, hold: false, forceStop: forceStop, timeouts: timeouts, context: context))
                }
            }
            var outcomes = [UnloadOutcome?](repeating: nil, count: records.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes.compactMap { $0 }
        }
    }

    /// Stops instance `core` of a pool that no longer has it (a reload that lowered the count, or
    /// rolled back an instance it had added; a scale-down): drained, finalized and stopped as an
    /// unload does, and logged with `reason` ("the file runs fewer instances").
    static func stopInstance(_ core: FileCore, because reason: String, timeouts: StopTimeouts, context: LoaderContext) async {
        var exit: ExitStatus?
        for case .stop(let worker, let started) in core.apply(.stopRequested(hold: false)) {
            await worker.drainOrCancel(timeout: context.configuration.drainTimeout, "no longer needed")
            exit = await worker.stop(graceful: true, started: started, timeouts: timeouts).exit
        }
        core.apply(.stopFinished(exit: exit))
        core.discard()
        context.log(.info, "stopped instance \(core.instance) of \(core.path): \(reason)", file: core.path)
    }

    /// Stops the serving generation of each of `record`'s instances, side by side; `hold` keeps
    /// the file loaded (`stopPhoton`), otherwise it has left the registry (an unload). The outcome
    /// is the first instance's (its exit status), `killed` if any instance was, with every
    /// instance's failed finalizers.
    package static func stop(_ record: LoadedFile, hold: Bool, forceStop: Bool, timeouts: StopTimeouts, context: LoaderContext) async -> UnloadOutcome {
        let cores = record.pool.cores
        var stops = [(pid: Int32, report: WorkerStopReport)](repeating: (0, WorkerStopReport(ending: .alreadyEnded, finalizerErrors: [:])), count: cores.count)
        await withTaskGroup(of: (Int, Int32, WorkerStopReport)?.self) { group in
            for (index, core) in cores.enumerated() {
                for case .stop(let worker, let started) in core.apply(.stopRequested(hold: hold)) {
                    group.addTask {
                        if !forceStop { await worker.drainOrCancel(timeout: context.configuration.drainTimeout, hold ? "stopped" : "unloaded") }
                        return (index, worker.pid, await worker.stop(graceful: !forceStop, started: started, timeouts: timeouts))
                    }
                }
            }
            for await case let (index, pid, report)? in group { stops[index] = (pid, report) }
        }
        // A held file keeps its sockets: connections wait for its next worker.
        if hold { keepListening(record.sockets, of: record.file.path, context: context) }
        for (core, stop) in zip(cores, stops) { core.apply(.stopFinished(exit: stop.report.exit)) }
        var report = stops[0].report
        for stop in stops.dropFirst() { report.finalizerErrors.merge(stop.report.finalizerErrors) { first, _ in first } }
        if let killed = stops.first(where: { $0.report.ending == .killed }) { report.ending = killed.report.ending }
        let pid = stops.first(where: { $0.report.ending == .killed })?.pid ?? stops[0].pid
        let outcome = UnloadOutcome(file: record.file.path, photons: record.handlers.map(\.name), ending: report.ending,
                                    exit: report.exit, finalizerErrors: report.finalizerErrors)
        for (photon, reason) in report.finalizerErrors.sorted(by: { $0.key < $1.key }) {
            context.log(.warning, "finalizer of photon \(photon) failed: \(reason)", file: record.file.path)
        }
        context.log(.info, "\(hold ? "stopped" : "unloaded") \(outcome.photons.joined(separator: ", ")) from \(outcome.file): \(outcome.ending.rawValue)\(report.exit.map { ", \($0)" } ?? "")", file: outcome.file)
        if report.ending == .killed {
            context.events.emit(.killed(file: outcome.file, pid: pid, reason: "did not exit within the stop and kill timeouts"))
        }
        context.events.emit(.stopped(outcome))
        return outcome
    }
}
