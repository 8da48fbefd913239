import Client
import Foundation
import SuiteCore
import SuiteSQLite
import SuiteStorage

/// `clients.analytics().monthly().signupTrends(from:to:)` over a growing seeded database.
///
/// Every seeding round spreads its clients over the same ~3 years of days (like `dock client seed`:
/// a `ManualWallClock` set per client, 1,000 creates per write transaction), so the two measurements
/// differ only in the number of clients, not in the number of days the range covers.
struct SignupTrends {
    static let days = 3 * 365
    static let batchSize = 1_000

    private let database: SQLiteDatabase
    private let clients: Clients
    private let clock: ManualWallClock
    private let end: Date
    private(set) var seeded = 0

    init(path: String) async throws {
        database = try SQLiteDatabase(path: path, durability: .normal)
        try await Clients.install(on: database)
        end = Date()
        clock = ManualWallClock(now: end)
        clients = Clients(database: database, clock: clock)
    }

    /// The whole seeded range, first day to last day.
    var range: (from: CivilDate, to: CivilDate) {
        (CivilDate(end.addingTimeInterval(-.days(Self.days))), CivilDate(end))
    }

    /// Adds clients until the database holds `total`, spreading this round's clients evenly over the range.
    mutating func seed(upTo total: Int) async throws {
        let round = total - seeded
        guard round > 0 else { return }
        var progress = Progress("seeding \(grouped(total)) clients", total: total, from: seeded)
        let (clients, clock, end, first) = (clients, clock, end, seeded)
        let span = TimeInterval.days(Self.days)
        var done = 0
        while done < round {
            let size = min(Self.batchSize, round - done)
            let offset = done
            try await database.write { tx in
                for position in offset..<(offset + size) {
                    let index = first + position
                    clock.set(end.addingTimeInterval(-span + span * Double(position) / Double(round)))
                    _ = try clients.make().name("Seed Client \(index)").email("seed-\(index)@bench.example")
                        .create(actor: "seed", in: tx)
                }
            }
            done += size
            progress.update(first + done)
        }
        seeded = total
    }

    /// Calls `signupTrends` over the whole range `calls` times (after a few untimed calls) and
    /// returns the latencies in seconds. Checks the buckets add up to the seeded count.
    func latencies(calls: Int) async throws -> [Double] {
        let analytics = clients.analytics().monthly()
        let (from, to) = range
        for _ in 0..<10 { _ = try await analytics.signupTrends(from: from, to: to) }
        var samples: [Double] = []
        var total: Int64 = 0
        for _ in 0..<calls {
            samples.append(try await measure {
                total = try await analytics.signupTrends(from: from, to: to).reduce(0) { $0 + $1.count }
            })
        }
        guard total == Int64(seeded) else {
            throw BenchmarkError(message: "signupTrends counted \(total) clients, expected \(seeded)")
        }
        return samples
    }

    func close() async throws { try await database.close() }
}
