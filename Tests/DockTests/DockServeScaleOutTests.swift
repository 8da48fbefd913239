import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SuiteTestSupport
import Testing

/// How users scale out: several stateless `dock serve` processes on one PostgreSQL database, over
/// real sockets. Concurrent provisioning through both spends every credit exactly once, never
/// overdraws, mints one licence per debit, and a retry sent to the other server replays the first
/// answer instead of spending again. PostgreSQL only: SQLite is one process by design.
@Suite struct DockServeScaleOutTests {
    @Test(.timeLimit(.minutes(2)))
    func twoServersOnOneDatabaseSpendEachCreditOnceAndReplayEachOthersRetries() async throws {
        try await withDock(.postgres) { dock in
            let initialCredits = 10_000, price = 500  // standard tier, no discount: exactly 20 provisions
            let admin = try #require((try dock.json("apikey", "create", "--admin", "--name", "ops") as? [String: Any])?["secret"] as? String)
            let reseller = try #require((try dock.json("ally", "create", "--user", "u-scale", "--company", "Northwind", "--tier", "standard")
                as? [String: Any])?["refid"] as? String)
            let credited = try dock.run("ally", "credit", reseller, String(initialCredits))
            #expect(credited.status == 0, "\(credited.stderr)")
            let resellerKey = try #require((try dock.json("apikey", "create", "--reseller", reseller, "--name", "northwind")
                as? [String: Any])?["secret"] as? String)
            let product = try #require((try dock.json("wave", "product", "create", "--name", "Pro", "--slug", "pro-scale", "--price", String(price),
                                                      "--currency", "USD", "--licence-days", "365") as? [String: Any])?["slug"] as? String)
            let clients = try (1...4).map { number in
                try #require((try dock.json("client", "create", "--name", "Client \(number)", "--email", "c\(number)@scale.example",
                                            "--reseller", reseller) as? [String: Any])?["refid"] as? String)
            }

            var servers: [DockServer] = []
            defer { for server in servers { server.terminateIfRunning() } }
            servers.append(try await DockServer.start(database: dock.location))
            servers.append(try await DockServer.start(database: dock.location))
            #expect(servers[0].url != servers[1].url)
            let bases = servers.map(\.url)

            let started = ContinuousClock.now
            let tallies = try await withThrowingTaskGroup(of: WorkerTally.self) { group in
                for worker in 0..<8 {
                    let provisioner = Provisioner(worker: worker, home: bases[worker % 2], other: bases[(worker + 1) % 2],
                                                  secret: worker.isMultiple(of: 2) ? admin : resellerKey, reseller: reseller,
                                                  client: clients[worker % clients.count], product: product)
                    group.addTask { try await provisioner.provisionUntilOutOfCredits() }
                }
                return try await group.reduce(into: [WorkerTally]()) { $0.append($1) }
            }
            let elapsed = ContinuousClock.now - started

            let answers = tallies.flatMap(\.answers)
            let successes = tallies.flatMap(\.successes)
            let replays = tallies.flatMap(\.replays)
            let refusals = tallies.map(\.refusals).reduce(0, +)
            print("scale-out: \(successes.count) × 201, \(refusals) × 402, \(replays.count) replays across servers, \(answers.count) requests in \(elapsed)")

            // Every request got a deliberate answer: no 5xx, nothing but 201 until the credits ran out, then 402.
            #expect(answers.filter { $0.status >= 500 }.isEmpty, "5xx: \(answers.filter { $0.status >= 500 }.map(\.summary))")
            #expect(tallies.flatMap(\.unexpected).isEmpty, "\(tallies.flatMap(\.unexpected).map(\.summary))")
            #expect(refusals == 8, "every worker ends on 402 insufficient_credits")
            #expect(tallies.flatMap(\.refusalCodes).allSatisfy { $0 == "insufficient_credits" }, "\(tallies.flatMap(\.refusalCodes))")
            #expect(successes.count == initialCredits / price)
            #expect(successes.filter { $0.server == 0 }.count > 0 && successes.filter { $0.server == 1 }.count > 0, "both servers provisioned")

            // Each debit saw its own balance: the balances after are exactly initial − k × cost, k = 1…successes.
            #expect(successes.allSatisfy { $0.cost == price && $0.isNew && $0.licences.count == 1 })
            #expect(successes.map(\.balanceAfter).sorted() == (0..<successes.count).map { initialCredits - ($0 + 1) * price }.sorted())
            #expect(successes.allSatisfy { $0.balanceAfter >= 0 }, "a balance went negative: \(successes.map(\.balanceAfter))")
            #expect(Set(successes.map(\.transfer)).count == successes.count)
            let minted = Set(successes.flatMap(\.licences))
            #expect(minted.count == successes.count)

            // A retry on the other server replays the first answer, byte for byte, and spends nothing.
            #expect(replays.count >= successes.count / 2)
            #expect(replays.contains { $0.first.status == 201 } && replays.contains { $0.first.status == 402 })
            for replay in replays {
                #expect(replay.again.server != replay.first.server)
                #expect(replay.again.replayed && !replay.first.replayed, "\(replay.again.summary)")
                #expect(replay.again.status == replay.first.status && replay.again.body == replay.first.body,
                        "first \(replay.first.summary), again \(replay.again.summary)")
            }

            // What was spent, seen from both servers and from the command line.
            let spent = successes.count * price
            let expectedBalance = initialCredits - spent
            for base in bases {
                let shown = try await getJSON(base, "/v1/resellers/\(reseller)", key: admin)
                #expect(shown?["balance"] as? Int == expectedBalance)
            }
            let own = try await getJSON(bases[1], "/v1/resellers/\(reseller)", key: resellerKey)
            #expect(own?["balance"] as? Int == expectedBalance)
            #expect((try dock.json("ally", "balance", reseller) as? [String: Any])?["balance"] as? Int == expectedBalance)
            #expect((try dock.json("ally", "show", reseller) as? [String: Any])?["balance"] as? Int == expectedBalance)
            let stats = try await getJSON(bases[0], "/v1/resellers/\(reseller)/stats", key: admin)
            #expect(stats?["credits_spent"] as? Int == spent && stats?["credits_added"] as? Int == initialCredits)
            #expect(stats?["provisions"] as? Int == successes.count)

            // The ledger: one top-up and one debit per success, no balance below zero, and the cached balances reconcile.
            let history = try await getJSON(bases[1], "/v1/resellers/\(reseller)/history?limit=500", key: admin)
            let entries = try #require(history?["items"] as? [[String: Any]])
            #expect(entries.count == successes.count + 1)
            #expect(entries.compactMap { $0["amount"] as? Int }.reduce(0, +) == expectedBalance)
            #expect(entries.allSatisfy { ($0["balance_after"] as? Int ?? -1) >= 0 })
            let reconciled = try dock.run("ally", "reconcile", "--json")
            #expect(reconciled.status == 0, "\(reconciled.stdout)\(reconciled.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(reconciled.stdout.utf8)) as? [String: Any]
            #expect(report?["is_clean"] as? Bool == true && (report?["mismatches"] as? [Any])?.isEmpty == true, "\(reconciled.stdout)")

            // One licence per success, and no other, for the reseller's clients.
            let listed = try await getJSON(bases[0], "/v1/licences?reseller=\(reseller)&limit=500", key: admin)
            let licences = try #require(listed?["items"] as? [[String: Any]])
            #expect(Set(licences.compactMap { $0["refid"] as? String }) == minted)
            #expect(licences.allSatisfy { $0["status"] as? String == "active" })
            let ownListed = try await getJSON(bases[1], "/v1/licences?limit=500", key: resellerKey)
            #expect((ownListed?["items"] as? [Any])?.count == successes.count)
            let forge = try dock.json("forge", "list", "--reseller", reseller, "--limit", "500") as? [String: Any]
            #expect((forge?["items"] as? [Any])?.count == successes.count)

            // SIGTERM: each server finishes, closes the database and exits 0.
            for server in servers {
                let stopped = await server.stop()
                #expect(stopped.status == 0, "\(server.url): \(stopped.errors)")
                #expect(stopped.output.contains("ClientSuite stopped"), "\(server.url): \(stopped.output)")
            }
        }
    }
}

// MARK: - Provisioning clients

/// One HTTP client that provisions through its home server until the credits run out, and sends
/// every other request again, with the same key, to the other server.
private struct Provisioner: Sendable {
    let worker: Int
    let home: String
    let other: String
    let secret: String
    let reseller: String
    let client: String
    let product: String
    /// A bound on the loop: the wallet pays for 20 provisions in all, so no worker comes near it.
    static let maximumAttempts = 60

    func provisionUntilOutOfCredits() async throws -> WorkerTally {
        var tally = WorkerTally()
        let body = try JSONSerialization.data(withJSONObject: ["reseller": reseller, "clients": [client], "product": product])
        for attempt in 1...Self.maximumAttempts {
            let key = "scale-\(worker)-\(attempt)-\(UUID().uuidString)"
            let first = try await post(home, body: body, key: key)
            tally.answers.append(first)
            switch first.status {
            case 201:
                tally.successes.append(try ProvisionedRun(first))
                if attempt.isMultiple(of: 2) { try await retryElsewhere(first, body: body, key: key, into: &tally) }
            case 402:
                tally.refusals += 1
                tally.refusalCodes.append((try? JSONSerialization.jsonObject(with: first.body) as? [String: Any])?["code"] as? String ?? "?")
                try await retryElsewhere(first, body: body, key: key, into: &tally)
                return tally
            default:
                tally.unexpected.append(first)
                return tally
            }
        }
        return tally
    }

    private func retryElsewhere(_ first: Answer, body: Data, key: String, into tally: inout WorkerTally) async throws {
        let again = try await post(other, body: body, key: key)
        tally.answers.append(again)
        tally.replays.append(Replay(first: first, again: again))
    }

    private func post(_ base: String, body: Data, key: String) async throws -> Answer {
        var request = URLRequest(url: URL(string: "\(base)/v1/workflows/provision")!)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(secret)", forHTTPHeaderField: "Authorization")
        request.setValue(key, forHTTPHeaderField: "Idempotency-Key")
        let (data, response) = try await scaleOutSession.data(for: request)
        let http = response as? HTTPURLResponse
        return Answer(server: base == home ? homeIndex : 1 - homeIndex, status: http?.statusCode ?? -1, body: data,
                      replayed: http?.value(forHTTPHeaderField: "Idempotent-Replayed") == "true")
    }

    /// Workers alternate servers: even workers live on the first, odd ones on the second.
    private var homeIndex: Int { worker % 2 }
}

/// What one worker saw.
private struct WorkerTally: Sendable {
    var answers: [Answer] = []
    var successes: [ProvisionedRun] = []
    var replays: [Replay] = []
    var refusals = 0
    var refusalCodes: [String] = []
    var unexpected: [Answer] = []
}

/// One HTTP answer, and which server (0 or 1) gave it.
private struct Answer: Sendable {
    let server: Int
    let status: Int
    let body: Data
    let replayed: Bool

    var summary: String { "server \(server): \(status)\(replayed ? " (replayed)" : "") \(String(decoding: body.prefix(300), as: UTF8.self))" }
}

/// A request sent first to one server and then, with the same key, to the other.
private struct Replay: Sendable {
    let first: Answer
    let again: Answer
}

/// The parts of a 201 from `POST /v1/workflows/provision` that the accounting checks.
private struct ProvisionedRun: Sendable {
    let server: Int
    let cost: Int
    let balanceAfter: Int
    let transfer: String
    let licences: [String]
    let isNew: Bool

    init(_ answer: Answer) throws {
        let json = try #require(try JSONSerialization.jsonObject(with: answer.body) as? [String: Any], "\(answer.summary)")
        server = answer.server
        cost = try #require(json["cost"] as? Int)
        balanceAfter = try #require(json["balance_after"] as? Int)
        transfer = try #require(json["transfer"] as? String)
        licences = (json["licences"] as? [[String: Any]] ?? []).compactMap { ($0["licence"] as? [String: Any])?["refid"] as? String }
        isNew = json["is_new"] as? Bool == true
    }
}

/// One session for every request, with a timeout, so that a stuck server fails the test instead of hanging it.
private let scaleOutSession: URLSession = {
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = 30
    configuration.httpMaximumConnectionsPerHost = 8
    return URLSession(configuration: configuration)
}()

private func getJSON(_ base: String, _ path: String, key: String) async throws -> [String: Any]? {
    var request = URLRequest(url: URL(string: base + path)!)
    request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
    let (data, response) = try await scaleOutSession.data(for: request)
    let status = (response as? HTTPURLResponse)?.statusCode ?? -1
    #expect(status == 200, "GET \(path): \(status) \(String(decoding: data.prefix(300), as: UTF8.self))")
    return try JSONSerialization.jsonObject(with: data) as? [String: Any]
}
