import Client
import Foundation
import SuiteCore
import SuiteSQLite
import SuiteStorage

/// The Client module's public async API on a SuiteSQLite file (WAL, at the durability given):
/// one transaction per call, awaited one after the other — the same shape as the baseline.
struct ClientWrites {
    private let database: SQLiteDatabase
    private let clients: Clients
    /// Clients created so far (the next email index).
    private var createdCount = 0
    /// Created clients still pending, oldest first: what `activate` consumes.
    private var pending: [Refid] = []

    init(path: String, durability: SQLiteDatabase.Durability) async throws {
        database = try SQLiteDatabase(path: path, durability: durability)
        try await Clients.install(on: database)
        clients = Clients(database: database)
    }

    /// `PRAGMA journal_mode` and `PRAGMA synchronous` on the write connection.
    func settings() async throws -> (journalMode: String, synchronous: Int) {
        try await database.write { tx in
            (try tx.queryFirst("PRAGMA journal_mode")?.string("journal_mode") ?? "?",
             Int(try tx.queryInt64("PRAGMA synchronous") ?? -1))
        }
    }

    /// Creates `count` clients with `make()…create()` and returns the rate in operations per second.
    mutating func create(_ count: Int) async throws -> Double {
        let clients = clients
        let first = createdCount
        var refids: [Refid] = []
        refids.reserveCapacity(count)
        let seconds = try await measure {
            for index in first..<(first + count) {
                let client = try await clients.make()
                    .name("Benchmark Client \(index)")
                    .email("client-\(index)@bench.example")
                    .create()
                refids.append(client.refid)
            }
        }
        createdCount += count
        pending += refids
        return Double(count) / seconds
    }

    /// Activates the `count` oldest pending clients and returns the rate in operations per second.
    mutating func activate(_ count: Int) async throws -> Double {
        precondition(pending.count >= count, "create the clients before activating them")
        let clients = clients
        let batch = pending.prefix(count)
        let seconds = try await measure {
            for refid in batch { try await clients.activate(refid) }
        }
        pending.removeFirst(count)
        return Double(count) / seconds
    }

    func close() async throws { try await database.close() }
}
