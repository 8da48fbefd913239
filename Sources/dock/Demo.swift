import ArgumentParser
import Client
import Foundation
import Suite
import SuiteCore
import SuiteStorage

/// The README's main job: a tour of the Client module on the embedded SQLite file.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a Client demo on the embedded SQLite database (safe to run again).")
    @OptionGroup var database: DatabaseOptions

    /// When each demo client signed up, in days before today: a few busy days, a few quiet ones.
    static let daysAgo: [Int64] = [13, 13, 12, 10, 10, 10, 7, 5, 5, 3, 1, 0]

    func run() async throws {
        try await runReporting {
            let db = try database.open()
            do {
                try await tour(db)
                try await db.close()
            } catch {
                try? await db.close()
                throw error
            }
        }
    }

    private func tour(_ db: any SuiteStorage.Database) async throws {
        print("== Installing the Client module into \(database.location)")
        for report in try await SuiteDatabase.install(["client"], on: db) {
            print("client: version \(report.version)\(report.appliedVersions.isEmpty ? " (already installed)" : " (installed)")")
        }

        let today = CivilDate(Date())
        let clock = ManualWallClock(now: today.startOfDay)
        let clients = Clients(database: db, configuration: try await ClientConfiguration.load(file: database.config), clock: clock)
        let run = Refid.generate(prefix: "").rawValue.prefix(6).lowercased()

        print("\n== Registering clients over the last 14 days (run \(run))")
        let names = ["Acme Corporation", "Globex", "Initech", "Umbrella Health", "Stark Industries", "Wayne Logistics",
                     "Hooli", "Pied Piper", "Vandelay Imports", "Soylent Foods", "Tyrell Systems", "Cyberdyne"]
        var created: [Client] = []
        for (index, name) in names.enumerated() {
            let day = CivilDate(dayNumber: today.dayNumber - Self.daysAgo[index])
            clock.set(day.startOfDay.addingTimeInterval(9 * 3600 + Double(index) * 60))
            let slug = name.lowercased().replacingOccurrences(of: " ", with: "-")
            created.append(try await clients.make()
                .name(name).email("billing+\(run)@\(slug).example")
                .metadata(["segment": index % 3 == 0 ? "Enterprise" : "SMB", "seats": .int(Int64(5 + index * 3))])
                .create(actor: "demo"))
        }
        clock.set(Date())

        print("\n== Moving them through the lifecycle")
        for client in created.prefix(8) { try await clients.activate(client.refid, actor: "demo") }
        try await clients.suspend(created[2].refid, actor: "demo", reason: "payment overdue")
        try await clients.deactivate(created[9].refid, actor: "demo", reason: "churned")
        do {
            try await clients.suspend(created[10].refid, actor: "demo")
        } catch let error as ClientError {
            print("refused as expected: \(error)")
        }

        print("\n== This run's clients")
        var mine: [Client] = []
        for client in created { mine.append(try await clients.find(client.refid)) }
        printClients(mine)

        print("\n== Audit trail of \(created[2].name)")
        printTable(["EVENT", "FROM", "TO", "ACTOR", "REASON"], try await clients.auditTrail(of: created[2].refid).map {
            [$0.event, $0.fromStatus?.rawValue ?? "-", $0.toStatus?.rawValue ?? "-", $0.actor, $0.reason ?? "-"]
        })

        let analytics = clients.analytics()
        print("\n== Status breakdown (all clients in this database)")
        let breakdown = try await analytics.statusBreakdown()
        printTable(["STATUS", "CLIENTS"], ClientStatus.allCases.map { [$0.rawValue, String(breakdown[$0])] })

        print("\n== Signups per day, last 14 days")
        let points = try await analytics.daily().signupTrends(from: CivilDate(dayNumber: today.dayNumber - 13), to: today)
        let maximum = points.map(\.count).max() ?? 0
        printTable(["DAY", "SIGNUPS", ""], points.map { [$0.bucket, String($0.count), bar($0.count, of: maximum)] })

        let segments = try await analytics.segmentation()
        print("\n== Segmentation: \(segments.standalone.count) standalone (\(segments.standalone.percentage)%), "
              + "\(segments.resold.count) resold (\(segments.resold.percentage)%)")
        print("\nTry: swift run dock client list --status active    |    swift run dock client show \(created[0].refid)")
    }
}
