/// Everything the loader knows of one photon file, from the moment it is seen (loaded, being
/// loaded, or found and failed) until it is forgotten (unloaded, or gone from disk). A path has
/// one record, whatever its condition (`condition`).
package struct FileRecord {
    /// The loaded file: its generations' lifecycle, its handlers and what its load chose; nil
    /// until a generation first registers.
    package var loaded: Loader.LoadedFile?
    /// Why it failed to load, while nothing of it is loaded (`FailedFile`).
    package var failure: FailedFile? {
        get { failureBox?.failure }
        set { failureBox = newValue.map(FailureBox.init) }
    }
    /// The failure, out of line: most records have none, and a thousand loaded files' records
    /// should not each carry room for one.
    private var failureBox: FailureBox?
    /// The load under way, until it registers or fails.
    package var load: FileLoad?
    /// The version of the file on disk that last failed to load or reload, as the watcher read
    /// it (`Loader.failedVersion(of:)`), until a generation of another version serves. It goes
    /// with the record: an unloaded file's failed bytes are looked at again.
    package var failedVersion: String?

    /// Whether nothing of the file is known: the record is dropped (its failed version with it).
    var isEmpty: Bool {
        loaded == nil && failure == nil && load == nil
    }

    /// Whether a load of the file (not yet registered) is in progress.
    package var isLoading: Bool {
        load?.pool != nil
    }

    /// The checksum of the loaded generation.
    var servingChecksum: String? {
        loaded?.handlers.first?.checksum
    }

    /// Whether the operator stopped the file while nothing of it was loaded (`FailedFile.stopped`).
    var isHeldFailure: Bool {
        loaded == nil && failure?.stopped == true
    }

    /// Where the file stands, for reconciling it with the disk.
    var condition: FileCondition {
        FileCondition(serving: servingChecksum, failedVersion: failedVersion, held: isHeldFailure, loading: load != nil)
    }
}

/// A load of a photon file under way: by an operator (`loadPhoton`), or by the supervisor
/// (`Loader.loadAndStart`) from the moment it resolves the file.
package struct FileLoad {
    /// The file's instances, once `load` made them (nil while the file is resolved or hashed).
    package var pool: InstancePool?
    /// What the operator asked of the file meanwhile (it was a failed file), which holds once the
    /// load is over.
    var request: FailedFileRequest?
    /// The load was abandoned (`Loader.abandonLoads`): its worker is killed as soon as it is spawned.
    var abandoned = false
    /// The load was started by reconciling a watched folder: stopping the watcher abandons it.
    var watched = false
    /// When it began.
    var since = ContinuousClock.now

    /// The supervisor gave the load up (abandoned with nothing asked of the file: its watcher
    /// stopped, or every photon is being unloaded): how it ended says nothing of the file.
    var givenUp: Bool {
        abandoned && request == nil
    }
}

/// What the operator asked of a failed photon file while it was being brought up.
enum FailedFileRequest: Sendable {
    case stop
    case unload
}

/// A `FailedFile` held by reference (`FileRecord.failure`).
private final class FailureBox: Sendable {
    let failure: FailedFile

    init(_ failure: FailedFile) {
        self.failure = failure
    }
}
