import Client
import Forge
import Foundation
import SuiteCore
import SuiteSQLite
import SuiteStorage

/// Forge on a SuiteSQLite file (WAL, synchronous=NORMAL), through the public API.
struct ForgeFigures {
    private let database: SQLiteDatabase
    private let licences: Licences
    private let client: Refid
    /// Keys of activated licences, for verification.
    private(set) var keys: [LicenceKey] = []

    init(path: String) async throws {
        database = try SQLiteDatabase(path: path, durability: .normal)
        try await Clients.install(on: database)
        try await Licences.install(on: database)
        let clients = Clients(database: database, configuration: try ClientConfiguration(defaultStatus: .active))
        client = try await clients.make().name("Benchmark Client").email("forge@bench.example").create().refid
        licences = Licences(database: database, clients: clients)
    }

    /// `count` calls of `make()…mintActivated(for:)` (mint plus activate in one transaction, the
    /// way a sale does), awaited one after the other. Returns operations per second.
    mutating func mintAndActivate(_ count: Int) async throws -> Double {
        let licences = licences, client = client
        var minted: [LicenceKey] = []
        minted.reserveCapacity(count)
        let seconds = try await measure {
            for _ in 0..<count {
                minted.append(try await licences.make().product("PRO").days(365).mintActivated(for: client).key)
            }
        }
        keys += minted
        return Double(count) / seconds
    }

    /// Diagnostic: `mint()` then `activate(_:for:)`, two transactions per licence.
    mutating func mintThenActivate(_ count: Int) async throws -> Double {
        let licences = licences, client = client
        var minted: [LicenceKey] = []
        minted.reserveCapacity(count)
        let seconds = try await measure {
            for _ in 0..<count {
                let licence = try await licences.make().product("PRO").days(365).mint()
                try await licences.activate(licence.licence.refid, for: client)
                minted.append(licence.key)
            }
        }
        keys += minted
        return Double(count) / seconds
    }

    /// `calls` online verifications of random known keys from `tasks` concurrent tasks (warmed
    /// first). Returns verifications per second and whether every answer was `.valid`.
    func verify(calls: Int, tasks: Int) async throws -> (perSecond: Double, allValid: Bool) {
        precondition(!keys.isEmpty, "mint licences first")
        let licences = licences, keys = keys
        for key in keys.prefix(1_000) { _ = try await licences.verify(key) }
        let perTask = calls / tasks
        var allValid = true
        let seconds = try await measure {
            allValid = try await withThrowingTaskGroup(of: Bool.self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        var valid = true
                        for index in 0..<perTask {
                            let key = keys[(index &* 7_919 &+ task &* 104_729) % keys.count]
                            valid = try await licences.verify(key).isValid && valid
                        }
                        return valid
                    }
                }
                return try await group.reduce(true) { $0 && $1 }
            }
        }
        return (Double(perTask * tasks) / seconds, allValid)
    }

    /// Online verification with nothing cached: one more licence is minted first (a commit moves
    /// the database's change counter, which empties the verification cache), then each of the
    /// first `count` known keys is verified once, on one task, so every call reads the database.
    /// Returns verifications per second and whether every answer was `.valid`.
    mutating func verifyCold(count: Int) async throws -> (perSecond: Double, allValid: Bool) {
        precondition(!keys.isEmpty, "mint licences first")
        keys.append(try await licences.make().product("PRO").days(365).mintActivated(for: client).key)
        let licences = licences, sample = Array(keys.prefix(count))
        var allValid = true
        let seconds = try await measure {
            for key in sample { allValid = try await licences.verify(key).isValid && allValid }
        }
        return (Double(sample.count) / seconds, allValid)
    }

    func close() async throws { try await database.close() }
}
