extension Loader {
    /// The loaded photon files by path, with their photons indexed by name: finding a photon or
    /// checking a new file's names for clashes costs the same however many photons are loaded.
    struct LoadedFiles {
        private var records: [String: LoadedFile] = [:]
        private var byName: [String: Handler] = [:]

        /// The loaded file at `path`; setting it replaces that file's photons in the index.
        package subscript(path: String) -> LoadedFile? {
            get { records[path] }
            set {
                for handler in records[path]?.handlers ?? [] where byName[handler.name] === handler {
                    byName[handler.name] = nil
                }
                records[path] = newValue
                for handler in newValue?.handlers ?? [] { byName[handler.name] = handler }
            }
        }

        /// Takes the file at `path` out, returning it.
        package mutating func removeValue(forKey path: String) -> LoadedFile? {
            defer { self[path] = nil }
            return records[path]
        }

        /// The loaded files.
        package var values: Dictionary<String, LoadedFile>.Values { records.values }
        /// Their paths.
        package var keys: Dictionary<String, LoadedFile>.Keys { records.keys }
        /// Every loaded photon by name.
        package var handlers: [String: Handler] { byName }

        /// The loaded photon named `name`.
        package func handler(named name: String) -> Handler? {
            byName[name]
        }
    }
}
