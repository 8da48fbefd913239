import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Suite
import SuiteStorage
import SuiteTestSupport
import Synchronization
import Testing

/// A server killed mid-write (SIGKILL, as a crash or an OOM kill would) loses no write it
/// answered: sixteen clients create customers over HTTP at once, so on SQLite the writes share
/// commits (group commit); every customer answered 201 is in the database afterwards, with its
/// audit entry, exactly once, and nothing is there that nobody asked for.
@Suite struct DockServeCrashFaultTests {
    @Test(.timeLimit(.minutes(2)), arguments: Engine.allCases)
    func aKilledServerKeepsEveryCustomerItAnswered(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let admin = try #require((try dock.json("apikey", "create", "--admin", "--name", "ops") as? [String: Any])?["secret"] as? String)
            let server = try await DockServer.start(database: dock.location)
            defer { server.terminateIfRunning() }
            let tally = Tally()
            let session = URLSession(configuration: .ephemeral)

            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        for number in 0..<10_000 {
                            let email = "w\(worker)-\(number)@crash.example"
                            var request = URLRequest(url: URL(string: "\(server.url)/v1/clients")!)
                            request.httpMethod = "POST"
                            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                            request.setValue("Bearer \(admin)", forHTTPHeaderField: "Authorization")
                            request.httpBody = Data(#"{"name": "Crash \#(worker)-\#(number)", "email": "\#(email)"}"#.utf8)
                            tally.asked.add(1, ordering: .relaxed)
                            guard let (data, response) = try? await session.data(for: request) else { return }  // the server is gone
                            let status = (response as? HTTPURLResponse)?.statusCode
                            #expect(status == 201, "\(String(decoding: data, as: UTF8.self))")
                            let refid = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["refid"] as? String
                            tally.answered.withLock { $0[email] = refid }
                        }
                    }
                }
                // Kill it once it has answered 1,500, in the middle of the stream.
                group.addTask {
                    while tally.answered.withLock({ $0.count }) < 1_500 { try await Task.sleep(for: .milliseconds(5)) }
                    kill(server.process.processIdentifier, SIGKILL)
                }
                try await group.waitForAll()
            }
            let acknowledged = tally.answered.withLock { $0 }
            #expect(acknowledged.count >= 1_500)
            #expect(acknowledged.values.allSatisfy { $0.hasPrefix("CL-") }, "every 201 carried a refid")

            // Opened again, as the next start would: every answered customer is there once, with its audit entry.
            let database = try SuiteDatabase.open(dock.location, drivers: Engine.drivers)
            let rows = try await database.read { tx in
                try tx.query("""
                    SELECT c.refid, c.email, (SELECT count(*) FROM client_audit a WHERE a.client_id = c.id) AS audited
                    FROM client_clients c WHERE c.email LIKE \("%@crash.example") LIMIT 200000
                    """)
            }
            try await database.close()
            var stored: [String: (refid: String, audited: Int64)] = [:]
            for row in rows { stored[try row.string("email")] = (try row.string("refid"), try row.int64("audited")) }
            print("crash (\(engine)): \(acknowledged.count) customers answered 201 before SIGKILL, \(stored.count) stored")
            #expect(stored.count == rows.count, "no email twice")
            for (email, refid) in acknowledged {
                #expect(stored[email]?.refid == refid, "\(email) was answered 201 as \(refid) but is \(String(describing: stored[email]))")
                #expect(stored[email]?.audited == 1)
            }
            // A customer the server committed but had not answered yet may be there; nothing else is.
            #expect(stored.count <= tally.asked.load(ordering: .relaxed))
        }
    }
}

/// What the crash test's workers saw.
private final class Tally: Sendable {
    /// email → refid, for every 201.
    let answered = Mutex<[String: String]>([:])
    /// Requests sent.
    let asked = Atomic<Int>(0)
}
