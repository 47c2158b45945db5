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
            switch step {
            case .wait:
                return [path]
            case .forget:
                forgetFailedFile(path)
            case .unload:
                let names = Set(records[path].loaded?.handlers.map(\.name) ?? [])
                _ = try? await unloadPhoton(path)
                again += failuresClashing(with: names)
            case .failReload(let version):
                // Fails at its first step, as `seen` did, and is recorded as a failed reload.
                _ = try? await reloadPhoton(path)
                noteFailedVersion(version, of: path)
            case .failLoad(let version, let record):
                if record, case .unusable(let error, _, _) = seen {
                    reportLoadFailure(error, file: path)
                    recordFailedLoad(path, error, selection: watcher.selection)
                }
                noteFailedVersion(version, of: path)
            case .endFailedReload:
                noteServingVersionOnDisk(of: path)
            case .reload:
                guard case .readable(let version) = seen else { continue }
                if (try? await reload([path], versions: [path: version])) == nil { noteFailedVersion(version.checksum, of: path) }
            case .load:
                guard case .readable(let version) = seen else { continue }
                let loaded = await HashCancellation.$scope.withValue([watcher.hashes]) {
                    (try? await loadAndStart(path, selection: watcher.selection, version: version, watched: true)) != nil
                }
                // Abandoned as this watcher stopped, the version did not fail: it is tried again when watched again.
                if !loaded, self.watcher === watcher { noteFailedVersion(version.checksum, of: path) }
            }
        }
        return again
    }

    /// Abandons the loads that reconciling a watched folder started (its watcher stops), and
    /// returns their paths.
    func abandonWatchedLoads() -> Set<String> {
        let paths = records.loadingPaths.filter { records[$0].load?.watched == true }
        abandonLoads(of: paths, because: "the folder is no longer watched")
        return paths
    }
}
