import LuminalWire

/// Which of a worker's photons a load takes: those of kind `base`, and those named in `otherClasses`.
struct PhotonSelection: Sendable {
    /// The kind asked for; `nil` takes every photon the worker declares.
    let base: String?
    let otherClasses: [String]

    func chooses(_ photon: PhotonDescriptor) -> Bool {
        guard let base else { return true }
        return photon.kinds.contains(base) || otherClasses.contains(photon.name)
    }
}

/// A new generation of a photon file that said a valid hello; not registered yet.
struct PreparedGeneration: Sendable {
    let file: PhotonFile
    let worker: Worker
    /// The photons the selection took.
    let photons: [PhotonDescriptor]
    let checksum: String
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

/// The steps of bringing up a new generation, as a rolled-back reload names them.
public enum ReloadStep: String, Sendable, Hashable {
    /// Reading the photon file as it is now (gone, not executable, bad manifest).
    case resolve
    /// Starting the process.
    case spawn
    /// Waiting for a valid hello (exit, timeout, wrong protocol, bad hello, protocol fault).
    case handshake
    /// Choosing its photons (none of the base, a name another file uses).
    case validate
    /// Running the start routines of the photons that were started.
    case start
    /// Another photon file of the same group reload failed.
    case group
}
