import LuminalSystem

extension Loader {
    /// Brings the record of the photon file at `path` in step with what `watcher` read there
    /// (`seen`), as `FileCondition.steps` decides: loads, reloads, unloads or forgets it, records
    /// a failure, or does nothing when the bytes are those serving (or those that failed last).
    /// `early`: a finished save made the file ready before its quiet period. Returns the files to
    /// be looked at again after their quiet period: this one, sent back, or the files that failed
    /// only as their photons were named like those of the file unloaded. A watcher that is no
    /// longer this loader's changes nothing.
    package func reconcile(_ path: String, seen: FileObservation, early: Bool, by watcher: PhotonWatcher) async -> [String] {
        guard self.watcher === watcher else { return [] }
        var again: [String] = []
        for step in records[path].condition.steps(seeing: seen.outline, early: early) {
            again += await carryOut(step, of: path, seen: seen, by: watcher)
            if step == .wait { break }
        }
        return again
    }

    /// Carries out one step of `reconcile`, returning the files to be looked at again. Each step
    /// that waits long has a function of its own: a thousand first loads wait for their hellos
    /// at once, each with the frames of every function on its way there.
    private func carryOut(_ step: ReconcileStep, of path: String, seen: FileObservation, by watcher: PhotonWatcher) async -> [String] {
        switch step {
        case .wait:
            return [path]
        case .forget:
            forgetFailedFile(path)
        case .unload:
            return await unloadGone(path)
        case .failReload(let version):
            await failReload(path, version: version)
        case .failLoad(let version, let record):
            if record, case .unusable(let error, _, _) = seen {
                reportLoadFailure(error, file: path)
                recordFailedLoad(path, error, selection: watcher.selection)
            }
            noteFailedVersion(version, of: path)
        case .endFailedReload:
            noteServingVersionOnDisk(of: path)
        case .reload:
            if case .readable(let version) = seen { await reload(path, from: version) }
        case .load:
            if case .readable(let version) = seen { await bringUp(path, from: version, by: watcher) }
        }
        return []
    }

    /// Unloads the photon file at `path`, gone from disk, and returns the failed files that
    /// failed only as their photons were named like its photons, or (if it held sockets) as an
    /// address was in use: a package moved is seen new before it is seen gone.
    private func unloadGone(_ path: String) async -> [String] {
        let names = Set(records[path].loaded?.handlers.map(\.name) ?? [])
        let heldSockets = records[path].loaded?.sockets.isEmpty == false
        _ = try? await unloadPhoton(path)
        return failuresClashing(with: names, orSockets: heldSockets)
    }

    /// Reloads the photon file at `path`, whose `version` cannot be used: the reload fails at its
    /// first step, as the watcher's read did, and is recorded as a failed reload.
    private func failReload(_ path: String, version: String) async {
        _ = try? await reloadPhoton(path)
        noteFailedVersion(version, of: path)
    }

    /// Reloads the photon file at `path` from `version`; if that fails, the version is noted as
    /// failed, unless the file is stopped (held): a restart checks the disk again once it is over.
    private func reload(_ path: String, from version: FileVersion) async {
        do {
            _ = try await reload([path], versions: [path: version])
        } catch where error.code == .notStarted && isHeld(path) {
            // Not a failure of the version: it is what a start (or the restart under way) runs.
            context.log(.info, "photon file \(path) changed while it is stopped; the change is run when it is started", file: path)
        } catch {
            noteFailedVersion(version.checksum, of: path)
        }
    }

    /// Loads the photon file at `path` from `version` and starts its photons; if that fails, the
    /// version is noted as failed, unless the load was abandoned as `watcher` stopped (it is
    /// tried again when watched again).
    private func bringUp(_ path: String, from version: FileVersion, by watcher: PhotonWatcher) async {
        let loaded = (try? await loadAndStart(path, selection: watcher.selection, version: version, watched: true)) != nil
        if !loaded, self.watcher === watcher { noteFailedVersion(version.checksum, of: path) }
    }

    /// Abandons the loads that reconciling a watched folder started (its watcher stops), and
    /// returns their paths.
    func abandonWatchedLoads() -> Set<String> {
        let paths = records.loadingPaths.filter { records[$0].load?.watched == true }
        abandonLoads(of: paths, because: "the folder is no longer watched")
        return paths
    }
}
