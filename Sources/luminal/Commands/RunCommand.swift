import Dispatch
import Glibc
import Luminal

/// `luminal run DIR`: load and start every photon in DIR, and (unless --no-watch) keep them in
/// step with the folder, until SIGINT or SIGTERM.
enum RunCommand {
    struct Options {
        var directory: String?
        var recursive = false
        var quiet = false
        var watch = true
        var stateFile: String?
    }

    static func main(_ arguments: [String]) -> Never {
        var options = Options()
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "--state":
                guard let path = remaining.popFirst() else { Usage.fail("run: --state needs a file path") }
                options.stateFile = path
            case "-r", "--recursive": options.recursive = true
            case "-q", "--quiet": options.quiet = true
            case "--no-watch": options.watch = false
            case "-h", "--help":
                print(Usage.text)
                exit(0)
            case _ where argument.hasPrefix("-"):
                Usage.fail("run: unknown option '\(argument)' (options: --recursive, --no-watch, --state PATH, --quiet)")
            case _ where options.directory == nil:
                options.directory = argument
            default:
                Usage.fail("run: one folder only, got '\(options.directory!)' and '\(argument)'")
            }
        }
        guard let directory = options.directory else { Usage.fail("run: which folder? e.g. luminal run photons") }
        let quiet = options.quiet
        var configuration = LoaderConfiguration()
        configuration.stateFile = options.stateFile ?? defaultStateFile(for: directory)
        let loader = Loader(logging: true, suppressErrors: true, configuration: configuration, logSink: { record in
            if record.tag != nil {
                Console.out("[\(record.tag!)] \(record.message)")
            } else if !quiet || record.level >= .warning {
                Console.error("luminal: \(record.level): \(record.message)")
            }
        })
        let stopSignals = installStopSignals(loader)
        Task {
            do {
                try loader.claimStateFile()
                if options.watch {
                    try await loader.watchPhotons(in: directory, recursive: options.recursive)
                } else {
                    for handler in try await loader.loadPhotons(in: directory, recursive: options.recursive) {
                        do { try await handler.start() } catch { /* logged by the loader */ }
                    }
                }
                let handlers = await loader.photons.values
                let started = handlers.filter { $0.state == .started }.count
                loader.flushLog() // every "loaded …" line comes before the summary
                Console.error("luminal: \(started) of \(handlers.count) photons started from \(directory)\(options.watch ? ", watching for changes" : ""); Ctrl-C stops them")
            } catch {
                Console.error("luminal: \(error)")
                exit(66)
            }
        }
        withExtendedLifetime(stopSignals) { dispatchMain() }
    }

    /// `$XDG_RUNTIME_DIR` (or /tmp)/luminal-UID-<folder>.state: one per supervised folder and user.
    private static func defaultStateFile(for directory: String) -> String {
        let runtime = getenv("XDG_RUNTIME_DIR").map { String(cString: $0) } ?? "/tmp"
        var absolute = directory
        if !directory.hasPrefix("/"), let cwd = getcwd(nil, 0) {
            absolute = String(cString: cwd) + "/" + directory
            free(cwd)
        }
        let folder = String(absolute.map { $0.isLetter || $0.isNumber ? $0 : "_" })
        return "\(runtime)/luminal-\(getuid())-\(folder).state"
    }

    /// On SIGINT or SIGTERM, unload every photon gracefully and exit 0.
    private static func installStopSignals(_ loader: Loader) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
            source.setEventHandler { @Sendable in
                Console.error("luminal: \(number == SIGINT ? "SIGINT" : "SIGTERM"): stopping every photon")
                Task {
                    await loader.stopWatchingPhotons()
                    await loader.unloadAll()
                    loader.releaseStateFile()
                    loader.flushLog()
                    exit(0)
                }
            }
            source.activate()
            return source
        }
    }
}
