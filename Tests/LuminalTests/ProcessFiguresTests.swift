@testable import Luminal
import LuminalSystem
import Testing

/// How often a scrape reads `/proc` for the photon files' process trees: once a period, again
/// at once when a file's workers change, and the age of what it serves is exported.
@Suite struct ProcessFiguresRule {
    private func scrape(_ loader: Loader) async throws -> Exposition {
        try Exposition(await loader.metrics())
    }

    @Test func aReadingIsServedForItsPeriodUntilAFilesWorkersChange() async throws {
        var configuration = LoaderConfiguration.fast
        configuration.processFiguresPeriod = .seconds(3600)
        try await withLoader(configuration: configuration) { loader, folder in
            let path = folder.chaos("alpha")
            let alpha = try #require(try await loader.loadPhoton(at: path).first)
            try await alpha.start()
            let first = try await scrape(loader)
            #expect(first.value("luminal_process_figures_age_seconds") == 0)
            #expect(try #require(first.value("luminal_file_processes", ["file": path])) >= 1)
            let second = try await scrape(loader)
            #expect(try #require(second.value("luminal_process_figures_age_seconds")) > 0)
            #expect(second.value("luminal_file_processes", ["file": path]) == first.value("luminal_file_processes", ["file": path]))
            // A reload puts a new worker in place: the next scrape reads its tree, not the old one's.
            _ = try await loader.reloadPhoton(alpha)
            #expect(alpha.generation == 2)
            let third = try await scrape(loader)
            #expect(third.value("luminal_process_figures_age_seconds") == 0)
            #expect(try #require(third.value("luminal_file_processes", ["file": path])) >= 1)
        }
    }

    @Test func aPeriodOfZeroReadsAtEveryScrape() async throws {
        var configuration = LoaderConfiguration.fast
        configuration.processFiguresPeriod = .zero
        try await withLoader(configuration: configuration) { loader, folder in
            let path = folder.chaos("alpha")
            try await #require(try await loader.loadPhoton(at: path).first).start()
            for _ in 0..<2 {
                #expect(try await scrape(loader).value("luminal_process_figures_age_seconds") == 0)
            }
        }
    }
}
