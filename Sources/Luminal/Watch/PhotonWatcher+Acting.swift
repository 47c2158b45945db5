#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWorker

extension PhotonWatcher {
    /// What a photon file that cannot be hashed is now, for `failed`.
    private func unreadable(_ error: SystemError) -> String {
        "cannot be read: \(error)"
    }

    /// What an unusable photon file is now: why it cannot be used, and the checksum of its
    /// manifest (or of the file itself), so that any change gets it looked at again.
    private func fingerprint(of path: String, failure: LoaderError) async -> String {
        let own = Paths.kind(path) == .directory ? Paths.join(path, Manifest.fileName) : path
        return "\(failure.message) \((try? await FileDigest.digest(of: [own], cancellations: [hashes])) ?? "")"
    }

    /// Brings the photon file at `ready.path` in step with the disk: loads, reloads or unloads it,
    /// or does nothing when its bytes are those loaded (or those that failed last). Only a file
    /// that is gone is unloaded: a loaded file that became unusable (a typo in its manifest, a
    /// folder that became a file) is a failed reload, and its serving generation keeps serving. A
    /// file that a finished save made ready early and that is now gone or unusable waits for the
    /// quiet period instead: the next step of the save (a rename after a removal) may still be on
    /// its way.
    func act(on ready: ChangeDebouncer.Settled) async {
        let path = ready.path
        guard let loader else { return }
        let loadedChecksum = await loader.checksum(ofFile: path)
        let failedVersion = await loader.failedVersion(of: path)
        // A failed file the operator stopped stays as it is until started (or gone).
        let held = loadedChecksum == nil ? await loader.failedFile(at: path)?.stopped == true : false
        let file: PhotonFile
        do throws(LoaderError) {
            file = try await PhotonScan.resolving(path)
            if skips[path] != nil {
                // A usable file the scan passes over: another path to a photon file loaded once.
                if ready.early { return wait(path) }
                if loadedChecksum != nil { _ = try? await loader.unloadPhoton(path) }
                return
            }
        } catch {
            if ready.early { return wait(path) }
            if Paths.kind(path) == .missing {
                // Gone: its records go with it, whatever comes under its name next.
                await loader.forgetFailedFile(path)
                if loadedChecksum != nil { _ = try? await loader.unloadPhoton(path) }
                return
            }
            // A photon file that cannot be used as it is (say, a bad manifest): reported once per version.
            let fingerprint = await fingerprint(of: path, failure: error)
            guard failedVersion != fingerprint, !held, !stopped else { return }
            if loadedChecksum != nil {
                // Fails at its first step, as the error says; the serving generation keeps serving.
                _ = try? await loader.reloadPhoton(path)
            } else if skips[path] == nil {
                // (An entry the scan passes over was reported by the scan.)
                loader.reportLoadFailure(error, file: path)
                await loader.recordFailedLoad(path, error, selection: selection)
            }
            await loader.noteFailedVersion(fingerprint, of: path)
            return
        }
        let checksum: String
        do throws(SystemError) {
            checksum = try await FileDigest.digest(of: file.contentPaths, cancellations: [hashes])
        } catch {
            // Too large, or gone in the meantime: reported once per reason; abandoned: not at all.
            if error.errno != ECANCELED, ready.early { return wait(path) }
            guard error.errno != ECANCELED, !held, !stopped, failedVersion != unreadable(error) else { return }
            if loadedChecksum != nil {
                // Fails as the hash did, and is recorded as a failed reload; the serving generation keeps serving.
                _ = try? await loader.reloadPhoton(path)
            } else {
                let failure = LoaderError(.photonNotFound, "photon file \(path) \(unreadable(error))", file: path)
                loader.reportLoadFailure(failure, file: path)
                await loader.recordFailedLoad(path, failure, selection: selection)
            }
            await loader.noteFailedVersion(unreadable(error), of: path)
            return
        }
        if checksum == loadedChecksum, failedVersion != nil {
            // Back to the bytes that serve: a failed reload of other bytes is over.
            await loader.noteServingVersionOnDisk(of: path)
        }
        guard checksum != loadedChecksum, checksum != failedVersion, !held, !stopped else { return }
        let succeeded: Bool
        let version = FileVersion(file: file, checksum: checksum)
        if loadedChecksum != nil {
            succeeded = (try? await loader.reload([path], versions: [path: version])) != nil
        } else {
            loading.insert(path)
            succeeded = await HashCancellation.$scope.withValue([hashes]) { (try? await loader.loadAndStart(path, selection: selection, version: version)) != nil }
            loading.remove(path)
        }
        if !succeeded { await loader.noteFailedVersion(checksum, of: path) }
    }
}
