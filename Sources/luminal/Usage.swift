import Glibc

/// The command's help text and argument errors.
enum Usage {
    static let text = """
        luminal — supervise photons: plug-in workers in their own processes.

        Usage:
          luminal run DIR [--recursive] [--no-watch] [--state PATH] [--quiet]
                      Load and start every photon in DIR, print their output, reload a photon
                      file when it changes (new ones are loaded, deleted ones unloaded), and stop
                      them all gracefully on Ctrl-C or SIGTERM (exit status 0).
          luminal --version
          luminal --help

        Options of run:
          -r, --recursive   also load photons from plain sub-folders of DIR
              --no-watch    load once; do not follow changes to DIR
              --state PATH  where this run records itself, so that the next run kills what
                            it left behind if it was killed outright (default: one file per
                            folder in $XDG_RUNTIME_DIR, else /tmp)
          -q, --quiet       print photon output only, not Luminal's own messages
        """

    /// Prints `message` and a pointer to the help on stderr, exits 64 (EX_USAGE).
    static func fail(_ message: String) -> Never {
        Console.error("luminal: \(message)\nRun 'luminal --help' for usage.")
        exit(64)
    }
}

/// The version of this build.
enum Version {
    /// Semantic version.
    static let current = "0.1.0"
}
