#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWorker

extension PhotonWatcher {
    /// Reads the photon file at `ready.path` and has the loader reconcile the file's record with
    /// what it read (`Loader.reconcile`); the files the loader sends back wait for their quiet period.
    func act(on ready: ChangeDebouncer.Settled) async {
        guard let loader, let seen = await observe(ready.path), !stopped else { return }
        for path in await loader.reconcile(ready.path, seen: seen, early: ready.early, by: self) { wait(path) }
    }

    /// What is at the photon file path `path` now: resolved and hashed when usable; nil when this
    /// watcher stopped while it hashed.
    private func observe(_ path: String) async -> FileObservation? {
        let file: PhotonFile
        do throws(LoaderError) {
            file = try await PhotonScan.resolving(path)
        } catch {
            if Paths.kind(path) == .missing { return .gone }
            return .unusable(error, version: await fingerprint(of: path, failure: error), reported: skips[path] != nil)
        }
        if skips[path] != nil { return .passedOver }
        do throws(SystemError) {
            return .readable(FileVersion(file: file, checksum: try await FileDigest.digest(of: file.contentPaths, cancellations: [hashes])))
        } catch {
            guard error.errno != ECANCELED else { return nil }
            // Too large, or gone in the meantime.
            let reason = "cannot be read: \(error)"
            return .unusable(LoaderError(.photonNotFound, "photon file \(path) \(reason)", file: path), version: reason, reported: false)
        }
    }

    /// What an unusable photon file is now: why it cannot be used, and the checksum of its
    /// manifest (or of the file itself), so that any change gets it looked at again.
    private func fingerprint(of path: String, failure: LoaderError) async -> String {
        let own = Paths.kind(path) == .directory ? Paths.join(path, Manifest.fileName) : path
        return "\(failure.message) \((try? await FileDigest.digest(of: [own], cancellations: [hashes])) ?? "")"
    }
}
