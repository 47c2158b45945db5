/// Finds photon files on disk, as the seed's `_scan_module` and `_find_modules` did.
///
/// A photon file is an executable regular file, or a package: a folder holding `photon.json`.
/// In a folder scan, hidden entries and editor leftovers are ignored, non-executable files are
/// skipped (and reported), packages are never descended into, and plain sub-folders are
/// descended into only when `recursive`.
enum PhotonScan {
    /// One thing a folder scan found.
    enum Entry: Sendable, Equatable {
        /// A photon file's absolute path.
        case photonFile(String)
        /// A file passed over, and why.
        case skipped(String, reason: String)
    }

    /// Resolves one photon file path for loading.
    static func resolve(_ rawPath: String) throws(LoaderError) -> PhotonFile {
        let path = Paths.absolute(rawPath)
        switch Paths.kind(path) {
        case .missing:
            throw LoaderError(.photonNotFound, "photon file \(path) does not exist", file: path)
        case .other:
            throw LoaderError(.notAPhotonFile, "\(path) is not a regular file or folder, so it cannot be a photon file", file: path)
        case .directory:
            guard Paths.kind(Paths.join(path, Manifest.fileName)) == .regular else {
                throw LoaderError(.notAPhotonFile, "\(path) is a folder without \(Manifest.fileName); load a folder of photons with loadPhotons(in:), or add a manifest to make it a package", file: path)
            }
            return try Manifest.load(package: path)
        case .regular:
            guard Paths.isExecutable(path) else {
                throw LoaderError(.notExecutable, "photon file \(path) is not executable; run chmod +x on it", file: path)
            }
            return PhotonFile(path: path, executable: path, arguments: [], environment: [:],
                              workingDirectory: Paths.parent(path), contentPaths: [path], timeouts: ManifestTimeouts())
        }
    }

    /// True for a folder that is a photon package.
    static func isPackage(_ path: String) -> Bool {
        Paths.kind(Paths.join(path, Manifest.fileName)) == .regular
    }

    /// The photon files in `directory`, in name order.
    static func scan(_ rawDirectory: String, recursive: Bool) throws(LoaderError) -> [Entry] {
        let directory = Paths.absolute(rawDirectory)
        guard Paths.kind(directory) == .directory, let names = Paths.entries(of: directory) else {
            throw LoaderError(.directoryNotFound, "photon folder \(directory) does not exist or is not a readable folder", file: directory)
        }
        var found: [Entry] = []
        for name in names where !isIgnored(name) {
            let path = Paths.join(directory, name)
            switch Paths.kind(path) {
            case .directory where isPackage(path):
                found.append(.photonFile(path))
            case .directory where recursive:
                found += try scan(path, recursive: true)
            case .regular where Paths.isExecutable(path):
                found.append(.photonFile(path))
            case .regular:
                found.append(.skipped(path, reason: "not executable"))
            default:
                continue
            }
        }
        return found
    }

    /// Hidden files and the leftovers editors write beside the files they save.
    static func isIgnored(_ name: String) -> Bool {
        name.hasPrefix(".") || name.hasSuffix("~") || name == "4913"
            || [".swp", ".swo", ".swx", ".tmp", ".bak", ".orig"].contains { name.hasSuffix($0) }
    }
}
