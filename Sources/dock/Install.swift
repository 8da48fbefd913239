import ArgumentParser
import Suite
import SuiteStorage

struct Install: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install (or upgrade) modules' tables. Safe to run again.",
        discussion: "Modules: \(SuiteDatabase.schemas.keys.sorted().joined(separator: ", ")). All of them when none is named.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Modules to install.") var modules: [String] = []

    func run() async throws {
        try await runReporting {
            let db = try database.open()
            let reports: [InstallReport]
            do {
                reports = try await SuiteDatabase.install(modules, on: db)
                try await db.close()
            } catch {
                try? await db.close()
                throw error
            }
            if output.json {
                try printJSON(reports.map { ["module": $0.module, "version": String($0.version),
                                              "applied": $0.appliedVersions.map(String.init).joined(separator: ",")] })
            } else {
                for report in reports {
                    let what = report.appliedVersions.isEmpty
                        ? "already up to date"
                        : "applied migration\(report.appliedVersions.count == 1 ? "" : "s") \(report.appliedVersions.map(String.init).joined(separator: ", "))"
                    print("\(report.module): version \(report.version) (\(what))")
                }
            }
        }
    }
}
