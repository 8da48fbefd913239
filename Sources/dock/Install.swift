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
            let durability: CommitDurability
            do {
                reports = try await SuiteDatabase.install(modules, on: db)
                durability = try await db.commitDurability()
                try await db.close()
            } catch {
                try? await db.close()
                throw error
            }
            if output.json {
                try printJSON(InstallJSON(
                    modules: reports.map { .init(module: $0.module, version: $0.version, applied: $0.appliedVersions) },
                    durability: durability))
            } else {
                for report in reports {
                    let what = report.appliedVersions.isEmpty
                        ? "already up to date"
                        : "applied migration\(report.appliedVersions.count == 1 ? "" : "s") \(report.appliedVersions.map(String.init).joined(separator: ", "))"
                    print("\(report.module): version \(report.version) (\(what))")
                }
                print("durability: \(durability)")
            }
        }
    }
}

/// `dock install --json`: what each module is at, and the commit durability in force.
private struct InstallJSON: Encodable {
    struct Module: Encodable {
        var module: String
        var version: Int
        var applied: [Int]
    }

    var modules: [Module]
    var durability: CommitDurability
}
