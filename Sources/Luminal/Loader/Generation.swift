import LuminalWire
import LuminalWorker

/// Which of a worker's photons a load takes: those of kind `base`, and those named in `otherClasses`.
package struct PhotonSelection: Sendable {
    /// The kind asked for; `nil` takes every photon the worker declares.
    package let base: String?
    let otherClasses: [String]

    func chooses(_ photon: PhotonDescriptor) -> Bool {
        guard let base else { return true }
        return photon.kinds.contains(base) || otherClasses.contains(photon.name)
    }
}

/// A photon file as the watcher resolved and hashed it: handed to the load or reload it starts,
/// so that the file is not resolved and hashed a second time (a file saved less than a second ago
/// is always hashed again, whatever the digest cache remembers). Should the file change after it
/// was read, the change brings the watcher back. A restart hands the file it checked.
package struct FileVersion: Sendable {
    let file: PhotonFile
    let checksum: String
}

/// A photon file hashed and with its sockets held, ready for its instances' generations to be
/// spawned from.
struct ReadyFile: Sendable {
    let file: PhotonFile
    let checksum: String
    /// The file's held sockets (`Loader.holdSockets(of:)`), handed to each generation.
    let sockets: [HeldSocket]
}

/// A new generation of a photon file that said a valid hello; not registered yet.
struct PreparedGeneration: Sendable {
    let file: PhotonFile
    let worker: Worker
    /// The photons the selection took.
    let photons: [PhotonDescriptor]
    let checksum: String
    /// The file's held sockets it was spawned with, which the file keeps once it serves.
    let sockets: [HeldSocket]
}

/// Why a new generation could not be brought up, and at which step.
struct GenerationFailure: Error {
    let step: ReloadStep
    let error: LoaderError

    init(_ step: ReloadStep, _ error: LoaderError) {
        self.step = step
        self.error = error
    }
}
