import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing

/// The one policy for unique-value races: concurrent writers of the same key all get the row the
/// winner wrote, and nothing is written twice.
@Suite struct UniqueRaceTests {
    @Test(arguments: Engine.allCases)
    func concurrentWritersOfOneKeyAllAnswerWithTheWinnersRow(engine: Engine) async throws {
        try await engine.withDatabase(inMemory: false) { database in
            try await database.write { tx in
                try tx.execute("CREATE TABLE race_orders (id \(raw: tx.dialect.autoIncrementPrimaryKey), order_key TEXT NOT NULL UNIQUE, owner TEXT NOT NULL)")
            }
            // Each writer looks the key up and inserts it when absent: between the two, another
            // writer can commit the key, which is exactly the race the policy settles.
            let owners = try await withThrowingTaskGroup(of: String.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        try await database.writeResolvingRace(onUnique: "order_key") { tx in
                            if let row = try tx.queryFirst("SELECT owner FROM race_orders WHERE order_key = 'order-42'") {
                                return try row.string("owner")
                            }
                            try tx.execute("INSERT INTO race_orders (order_key, owner) VALUES ('order-42', \("writer-\(writer)"))")
                            return "writer-\(writer)"
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            let rows = try await database.read { tx in try tx.query("SELECT owner FROM race_orders") }
            #expect(rows.count == 1)
            #expect(Set(owners).count == 1 && owners.count == 8)
            #expect(owners.first == (try rows.first?.string("owner")))

            // Another failure is not retried: the caller gets it, and nothing was written.
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                try await database.writeResolvingRace(onUnique: "order_key") { tx in
                    try tx.execute("INSERT INTO race_orders (order_key, owner) VALUES ('order-43', 'x')")
                    throw Refused()
                }
            }
            let after = try await database.read { tx in try tx.queryInt64("SELECT count(*) FROM race_orders") }
            #expect(after == 1)
        }
    }
}
