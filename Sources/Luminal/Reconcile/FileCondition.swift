/// Where a photon file's record stands, as far as reconciling it with the disk goes.
package struct FileCondition: Equatable, Sendable {
    /// The checksum of the generation serving (nil: nothing of the file is loaded).
    package var serving: String?
    /// The version on disk that last failed (`FileRecord.failedVersion`).
    package var failedVersion: String?
    /// The operator stopped the file while nothing of it was loaded: it is left as it is.
    package var held = false
    /// A load of it is under way.
    package var loading = false

    package init(serving: String? = nil, failedVersion: String? = nil, held: Bool = false, loading: Bool = false) {
        self.serving = serving
        self.failedVersion = failedVersion
        self.held = held
        self.loading = loading
    }

    /// What bringing the file in step with what was `seen` on disk takes, in order. Only a file
    /// that is gone is unloaded: a loaded file whose new version cannot be used is a failed
    /// reload, and its serving generation keeps serving. A version that failed is not tried again
    /// until the disk changes. `early` (a finished save made the file ready before its quiet
    /// period) puts back a file that is gone or unusable: the next step of the save (a rename
    /// after a removal) may still be on its way. Another load of the file (an operator's, a
    /// retry's) decides first, whatever was seen: the file is looked at again once it is over, as
    /// what it loads (from bytes since removed, say) is known only then.
    package func steps(seeing seen: FileObservation.Outline, early: Bool) -> [ReconcileStep] {
        if loading { return [.wait] }
        switch seen {
        case .gone:
            if early { return [.wait] }
            // Its records go with it, whatever comes under its name next.
            return serving == nil ? [.forget] : [.forget, .unload]
        case .passedOver:
            if early { return [.wait] }
            return serving == nil ? [] : [.unload]
        case .unusable(let version, let reported):
            if early { return [.wait] }
            guard version != failedVersion, !held else { return [] }
            return [serving == nil ? .failLoad(version: version, record: !reported) : .failReload(version: version)]
        case .readable(let checksum):
            let over: [ReconcileStep] = checksum == serving && failedVersion != nil ? [.endFailedReload] : []
            guard checksum != serving, checksum != failedVersion, !held else { return over }
            return over + [serving == nil ? .load : .reload]
        }
    }
}

/// One step of reconciling a photon file with the disk (`FileCondition.steps`).
package enum ReconcileStep: Equatable, Sendable {
    /// Look again after the quiet period.
    case wait
    /// Forget the file's failure: it is gone.
    case forget
    /// Unload the loaded file.
    case unload
    /// Reload the loaded file, which fails at its first step as the version read cannot be used;
    /// the serving generation keeps serving, and `version` is noted as failed.
    case failReload(version: String)
    /// Note `version` as failed, and unless the folder's scan reported it already (`record`
    /// false), report the failed load and record the file as failed.
    case failLoad(version: String, record: Bool)
    /// The disk holds the serving version again: a failed reload of another version is over.
    case endFailedReload
    /// Reload the loaded file from the version read; if that fails, the version is noted as failed.
    case reload
    /// Load the file from the version read and start its photons; if that fails, the version is
    /// noted as failed.
    case load
}
