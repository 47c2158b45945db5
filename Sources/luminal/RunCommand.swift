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
    }

    static func main(_ arguments: [String]) -> Never {
        var options = Options()
        for argument in arguments {
            switch argument {
            case "-r", "--recursive": options.recursive = true
            case "-q", "--quiet": options.quiet = true
            case "--no-watch": options.watch = false
            case "-h", "--help":
                print(Usage.text)
                exit(0)
            case _ where argument.hasPrefix("-"):
                Usage.fail("run: unknown option '\(argument)' (options: --recursive, --no-watch, --quiet)")
            case _ where options.directory == nil:
                options.directory = argument
            default:
                Usage.fail("run: one folder only, got '\(options.directory!)' and '\(argument)'")
            }
        }
        guard let directory = options.directory else { Usage.fail("run: which folder? e.g. luminal run photons") }
        let quiet = options.quiet
        let loader = Loader(logging: true, suppressErrors: true, logSink: { record in
            if record.tag != nil {
                Console.out("[\(record.tag!)] \(record.message)")
            } else if !quiet || record.level >= .warning {
                Console.error("luminal: \(record.level): \(record.message)")
            }
        })
        let stopSignals = installStopSignals(loader)
        Task {
            do {
                if options.watch {
                    try await loader.watchPhotons(in: directory, recursive: options.recursive)
                } else {
                    for handler in try await loader.loadPhotons(in: directory, recursive: options.recursive) {
                        do { try await handler.start() } catch { /* logged by the loader */ }
                    }
                }
                let handlers = await loader.photons.values
                let started = handlers.filter { $0.state == .started }.count
                Console.error("luminal: \(started) of \(handlers.count) photons started from \(directory)\(options.watch ? ", watching for changes" : ""); Ctrl-C stops them")
            } catch {
                Console.error("luminal: \(error)")
                exit(66)
            }
        }
        withExtendedLifetime(stopSignals) { dispatchMain() }
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
                    loader.flushLog()
                    exit(0)
                }
            }
            source.activate()
            return source
        }
    }
}
