extension Loader {
    /// The loader's records: one per photon file path (`FileRecord`), with the loaded photons
    /// indexed by name (`LoadedPhotons`, which readers off the loader's actor use too), so that
    /// finding a photon or checking a new file's names for clashes costs the same however many
    /// photons are loaded.
    package struct FileRecords {
        private var records: [String: FileRecord] = [:]
        private let byName: LoadedPhotons
        /// Records whose loaded photons are indexed in `byName`.
        init(indexingIn byName: LoadedPhotons) {
            self.byName = byName
        }

        /// Records with a load in progress (`FileRecord.isLoading`).
        private(set) var loadsInProgress = 0
        /// The records in order, until one changes.
        private var kept: FileListing?

        /// The record of the photon file at `path` (empty when none); setting it keeps the name
        /// index in step with its loaded photons, and drops a record left empty.
        package subscript(path: String) -> FileRecord {
            get { records[path] ?? FileRecord() }
            set {
                let old = records[path]
                let before = old?.loaded?.handlers ?? []
                let after = newValue.loaded?.handlers ?? []
                if !before.elementsEqual(after, by: ===) {
                    byName.replace(before, with: after)
                }
                loadsInProgress += (newValue.isLoading ? 1 : 0) - (old?.isLoading == true ? 1 : 0)
                records[path] = newValue.isEmpty ? nil : newValue
                kept = nil
            }
        }

        /// The records in order (kept until one changes).
        mutating func listing() -> FileListing {
            if let kept { return kept }
            let listing = FileListing(self)
            kept = listing
            return listing
        }

        /// Takes the loaded file at `path` out, returning it.
        package mutating func takeLoaded(_ path: String) -> LoadedFile? {
            defer { self[path].loaded = nil }
            return records[path]?.loaded
        }

        /// The loaded files, read as they are iterated (a burst of loads asks after every load).
        package var loaded: some Sequence<LoadedFile> {
            records.values.lazy.compactMap(\.loaded)
        }

        /// The paths of the loaded files.
        package var loadedPaths: Set<String> {
            Set(records.compactMap { $0.value.loaded == nil ? nil : $0.key })
        }

        /// The failed files (nothing of them loaded).
        package var failures: [FailedFile] {
            records.values.compactMap { $0.loaded == nil ? $0.failure : nil }
        }

        /// The files whose first load is under way: nothing of them is loaded, and they have not failed.
        package var firstLoads: [LoadingFile] {
            records.compactMap { path, record in
                guard record.loaded == nil, record.failure == nil, let load = record.load else { return nil }
                return LoadingFile(path: path, since: load.since)
            }
        }

        /// The paths with a load under way (a supervisor's bring-up or a load in progress).
        package var loadingPaths: Set<String> {
            Set(records.compactMap { $0.value.load == nil ? nil : $0.key })
        }

        /// Every loaded photon by name.
        package var handlers: [String: Handler] { byName.all }

        /// The loaded photon named `name`.
        package func handler(named name: String) -> Handler? {
            byName.handler(named: name)
        }
    }
}
