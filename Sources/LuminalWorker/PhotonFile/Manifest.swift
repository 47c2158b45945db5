#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWire

/// A photon package's manifest, `photon.json`:
///
/// ```json
/// {"exec": "bin/worker", "args": ["--fast"], "env": {"MODE": "demo"},
///  "timeouts": {"handshake": 10, "stop": 5, "kill": 5}, "watch": ["../../build/worker"]}
/// ```
/// `exec` (required) is relative to the package folder and must stay inside it; timeouts are in
/// seconds; `watch` lists files (relative to the package, and allowed outside it because they are
/// only read) whose bytes count in the checksum and whose changes reload the package, such as
/// the binary a build writes. Unknown keys are refused so that a typo never goes unnoticed. Only
/// a regular file of at most 1 MiB (`maxBytes`) is read.
package enum Manifest {
    /// The manifest's file name inside a package folder.
    package static let fileName = "photon.json"
    private static let keys = ["exec", "args", "env", "timeouts", "watch", "restart", "health", "protocol", "name", "ready", "signal",
                               "limits", "user", "group", "umask", "no_new_privileges", "recycle", "control", "essential",
                               "config", "may_call", "sockets", "instances"]
    private static let signals: [String: Int32] = ["TERM": SIGTERM, "INT": SIGINT, "HUP": SIGHUP, "QUIT": SIGQUIT, "USR1": SIGUSR1, "USR2": SIGUSR2]
    private static let timeoutKeys = ["handshake", "stop", "kill", "call"]
    /// The largest manifest read: a manifest is a few hundred bytes, and a bigger file is refused
    /// before it is parsed.
    package static let maxBytes = 1 << 20

    /// Reads and checks the manifest of the package at `package`.
    package static func load(package: String) throws(LoaderError) -> PhotonFile {
        let path = Paths.join(package, fileName)
        func invalid(_ cause: String) -> LoaderError {
            LoaderError(.invalidManifest, "manifest \(path): \(cause)", file: package)
        }
        let object: [String: JSONValue]
        do {
            let bytes = try Paths.read(path, limit: maxBytes + 1)
            guard bytes.count <= maxBytes else { throw invalid("is larger than 1 MiB, the most a manifest may hold") }
            guard let parsed = try JSONValue.parse(bytes).objectValue else {
                throw invalid("the top level must be a JSON object")
            }
            object = parsed
        } catch let error as LoaderError {
            throw error
        } catch {
            throw invalid("cannot be read as JSON (\(error))")
        }
        for key in object.keys.sorted() where !keys.contains(key) {
            throw invalid("key '\(key)' is not allowed (allowed: \(keys.joined(separator: ", ")))")
        }
        guard let exec = object["exec"]?.stringValue, !exec.isEmpty else {
            throw invalid("key 'exec' is required and must be a non-empty string: the program to run, relative to the package folder")
        }
        guard !exec.utf8.contains(0) else { throw invalid("key 'exec' must not contain a NUL character") }
        let executable = try containedExecutable(exec, in: package, manifest: path)
        let arguments = try strings(object["args"], key: "args", manifest: path)
        var environment: [String: String] = [:]
        if let env = object["env"] {
            guard let entries = env.objectValue else { throw invalid("key 'env' must be an object of strings") }
            for (name, value) in entries.sorted(by: { $0.key < $1.key }) {
                let shown = JSONValue.string(name).description
                guard !name.isEmpty, !name.utf8.contains(UInt8(ascii: "=")), !name.utf8.contains(0) else {
                    throw invalid("key 'env' has the name \(shown): a variable's name must be non-empty and hold neither '=' nor a NUL character")
                }
                guard let text = value.stringValue else { throw invalid("env '\(name)' must be a string") }
                guard !text.utf8.contains(0) else { throw invalid("env '\(name)' must not contain a NUL character") }
                guard !DeclaredSocket.reservedVariables.contains(name) else {
                    throw invalid("env '\(name)' is set by Luminal for the sockets it holds (key 'sockets'); a manifest cannot set it")
                }
                environment[name] = text
            }
        }
        let timeouts = try parseTimeouts(object["timeouts"], invalid: invalid)
        let watched = try strings(object["watch"], key: "watch", manifest: path).map { Paths.absolute($0, relativeTo: package) }
        var file = PhotonFile(path: package, executable: executable, arguments: arguments, environment: environment,
                              workingDirectory: package, contentPaths: [path, executable] + watched.filter { Paths.kind($0) == .regular },
                              timeouts: timeouts)
        file.watchedPaths = watched
        if let restart = object["restart"] {
            guard let mode = restart.stringValue.flatMap(RestartPolicy.Mode.init) else {
                throw invalid("key 'restart' must be one of \"always\", \"on-failure\", \"never\"")
            }
            file.restart = mode
        }
        if let health = object["health"] {
            file.health = try parseHealth(health, invalid: invalid)
        }
        if let signal = object["signal"] {
            // "TERM" or "SIGTERM", as systemd's KillSignal= writes it.
            guard let number = signal.stringValue.flatMap({ signals[$0.hasPrefix("SIG") ? String($0.dropFirst(3)) : $0] }) else {
                throw invalid("key 'signal' must be one of \(signals.keys.sorted().joined(separator: ", ")), with or without SIG (the signal that asks it to stop)")
            }
            file.stopSignal = number
        }
        if let essential = object["essential"] {
            guard let flag = essential.boolValue else { throw invalid("key 'essential' must be true or false") }
            file.essential = flag
        }
        file.configuration = object["config"] ?? .null
        if let mayCall = object["may_call"] {
            let names = mayCall.arrayValue?.compactMap(\.stringValue) ?? []
            guard let items = mayCall.arrayValue, names.count == items.count else {
                throw invalid("key 'may_call' must be an array of photon names: the photons this package's photons may call")
            }
            if let bad = names.first(where: { !PhotonDescriptor.isValidName($0) }) {
                throw invalid("key 'may_call' names \(JSONValue.string(bad)), which is not a photon name (letters, digits, '.', '_', '-', starting with a letter or digit, at most 128)")
            }
            if let twice = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
                throw invalid("key 'may_call' names \(JSONValue.string(twice)) twice")
            }
            file.mayCall = Set(names)
        }
        file.plain = try parsePlain(object, package: package, invalid: invalid)
        if let sockets = object["sockets"] {
            let folderName = Paths.name(package)
            let name = file.plain?.name ?? (PhotonDescriptor.isValidName(folderName) ? folderName : "socket")
            file.sockets = try parseSockets(sockets, package: package, defaultName: name, invalid: invalid)
        }
        if let instances = object["instances"] {
            file.instances = try parseInstances(instances, invalid: invalid)
            if file.plain != nil, file.instances?.scales == true {
                throw invalid("key 'instances' gives a range, but a plain executable (\"protocol\": \"none\") takes no calls through Luminal, which cannot tell when its instances are busy: give a count")
            }
        }
        try parseContainment(object, into: &file, invalid: invalid)
        return file
    }

    private static func containedExecutable(_ exec: String, in package: String, manifest: String) throws(LoaderError) -> String {
        let candidate = Paths.absolute(exec, relativeTo: package)
        guard let real = Paths.resolved(candidate) else {
            throw LoaderError(.invalidManifest, "manifest \(manifest): 'exec' names \(candidate), which does not exist", file: package)
        }
        let root = Paths.resolved(package) ?? package
        guard real.hasPrefix(root + "/") else {
            throw LoaderError(.invalidManifest, "manifest \(manifest): 'exec' (\(exec)) resolves to \(real), outside the package \(root); the program must live inside the package folder", file: package)
        }
        guard Paths.kind(real) == .regular, Paths.isExecutable(real) else {
            throw LoaderError(.notExecutable, "manifest \(manifest): 'exec' \(candidate) is not an executable file (chmod +x it)", file: package)
        }
        return candidate
    }

    private static func strings(_ value: JSONValue?, key: String, manifest: String) throws(LoaderError) -> [String] {
        guard let value else { return [] }
        guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
            throw LoaderError(.invalidManifest, "manifest \(manifest): key '\(key)' must be an array of strings", file: Paths.parent(manifest))
        }
        let texts = items.compactMap(\.stringValue)
        if let index = texts.firstIndex(where: { $0.utf8.contains(0) }) {
            throw LoaderError(.invalidManifest, "manifest \(manifest): key '\(key)' item \(index) contains a NUL character, which no argument or path can hold", file: Paths.parent(manifest))
        }
        return texts
    }

    /// `"protocol": "none"` with its `name` and `ready` time; nil for a protocol photon.
    private static func parsePlain(_ object: [String: JSONValue], package: String, invalid: (String) -> LoaderError) throws(LoaderError) -> PlainExecutable? {
        switch object["protocol"]?.stringValue {
        case nil where object["protocol"] == nil, "luminal":
            for key in ["name", "ready"] where object[key] != nil {
                throw invalid("key '\(key)' is only for plain executables (\"protocol\": \"none\")")
            }
            return nil
        case "none":
            let name = object["name"].map { $0.stringValue ?? "" } ?? Paths.name(package)
            guard PhotonDescriptor.isValidName(name) else {
                throw invalid("'name' (\(name)) must be letters, digits, '.', '_' or '-', starting with a letter or digit, at most 128")
            }
            var ready = Duration.milliseconds(500)
            if let value = object["ready"] {
                guard let seconds = value.doubleValue, seconds > 0, seconds <= 3600 else {
                    throw invalid("'ready' must be the seconds a plain executable must stay up to count as ready, above 0 and at most 3600")
                }
                ready = .milliseconds(Int64(seconds * 1000))
            }
            return PlainExecutable(name: name, readyAfter: ready)
        default:
            throw invalid("key 'protocol' must be \"luminal\" (the default) or \"none\" (a plain executable, supervised for liveness only)")
        }
    }

    /// `{"interval": seconds or null (off), "timeout": seconds, "unresponsive": seconds or null (never)}`.
    private static func parseHealth(_ value: JSONValue, invalid: (String) -> LoaderError) throws(LoaderError) -> HealthCheck {
        guard let entries = value.objectValue else { throw invalid("key 'health' must be an object (keys: interval, timeout, unresponsive)") }
        var check = HealthCheck()
        for (key, seconds) in entries.sorted(by: { $0.key < $1.key }) {
            guard ["interval", "timeout", "unresponsive"].contains(key) else {
                throw invalid("key 'health.\(key)' is not allowed (allowed: interval, timeout, unresponsive)")
            }
            if key != "timeout", seconds.isNull {
                if key == "interval" { check.interval = nil } else { check.unresponsive = nil }
                continue
            }
            let nullMeans = ["interval": ", or null to turn heartbeats off", "unresponsive": ", or null never to replace an unresponsive worker"]
            guard let number = seconds.doubleValue, number > 0, number <= 86_400 else {
                throw invalid("'health.\(key)' must be a number of seconds above 0 and at most 86400\(nullMeans[key] ?? "")")
            }
            let duration = Duration.milliseconds(Int64(number * 1000))
            switch key {
            case "interval": check.interval = duration
            case "timeout": check.timeout = duration
            default: check.unresponsive = duration
            }
        }
        return check
    }

    /// `timeouts.call`: seconds above 0 up to 86400, or `null` for no timeout.
    private static func parseCallTimeout(_ value: JSONValue, invalid: (String) -> LoaderError) throws(LoaderError) -> Duration? {
        if value.isNull { return nil }
        guard let number = value.doubleValue, number > 0, number <= 86_400 else {
            throw invalid("'timeouts.call' must be a number of seconds above 0 up to 86400, or null for no timeout")
        }
        return .milliseconds(Int64((number * 1000).rounded(.up)))
    }

    private static func parseTimeouts(_ value: JSONValue?, invalid: (String) -> LoaderError) throws(LoaderError) -> ManifestTimeouts {
        var timeouts = ManifestTimeouts()
        guard let value else { return timeouts }
        guard let entries = value.objectValue else { throw invalid("key 'timeouts' must be an object") }
        for (key, seconds) in entries.sorted(by: { $0.key < $1.key }) {
            guard timeoutKeys.contains(key) else {
                throw invalid("key 'timeouts.\(key)' is not allowed (allowed: \(timeoutKeys.joined(separator: ", ")))")
            }
            if key == "call" {
                timeouts.call = try parseCallTimeout(seconds, invalid: invalid)
                continue
            }
            guard let number = seconds.doubleValue, number >= 0, number <= 86_400 else {
                throw invalid("'timeouts.\(key)' must be a number of seconds from 0 to 86400")
            }
            let duration = Duration.milliseconds(Int64(number * 1000))
            switch key {
            case "handshake": timeouts.handshake = duration
            case "stop": timeouts.stop = duration
            default: timeouts.kill = duration
            }
        }
        return timeouts
    }
}
