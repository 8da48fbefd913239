import Client
import Crypto
import Foundation
import Suite
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing

/// Commands that do what the API does: metadata updates and single-amount invoices.
@Suite struct DockParityTests {
    @Test(arguments: Engine.allCases)
    func clientUpdateMergesMetadataRemovesNullKeysAndSealsSecrets(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let key = Data(repeating: 7, count: 32).base64EncodedString()
            let created = try dock.json("client", "create", "--name", "Acme", "--email", "a@acme.example",
                                        "--metadata", "segment=SMB", "--metadata", "seats=5") as? [String: Any]
            let refid = try #require(created?["refid"] as? String)

            let updated = try dock.json("client", "update", refid, "--metadata", "seats=40", "--metadata", "segment=null",
                                        "--metadata", "tier=\"gold\"") as? [String: Any]
            #expect(plain(updated) == ["seats": "40", "tier": "gold"])
            #expect(updated?["has_secret_metadata"] as? Bool == false)

            // A secret needs the key; without it the update is refused and nothing changes.
            let noKey = try dock.run("client", "update", refid, "--secret", "api_key=sk_live_1", "--metadata", "seats=1")
            #expect(noKey.status != 0 && noKey.stdout.isEmpty)
            #expect(!noKey.stderr.contains("sk_live_1") && noKey.stderr.hasPrefix("error: "))
            let unchanged = try dock.json("client", "show", refid) as? [String: Any]
            #expect(plain(unchanged) == ["seats": "40", "tier": "gold"])

            let sealed = try dock.run("client", "update", refid, "--secret", "api_key=sk_live_1", "--json",
                                      environment: ["CLIENT_METADATA_ENCRYPTION_KEY": key])
            #expect(sealed.status == 0, "\(sealed.stderr)")
            #expect(sealed.stdout.contains("\"has_secret_metadata\" : true") && !sealed.stdout.contains("sk_live_1"))

            let database = try SuiteDatabase.open(dock.location, drivers: Engine.drivers)
            let clients = Clients(database: database, configuration: try ClientConfiguration(metadataEncryptionKey: SymmetricKey(data: Data(repeating: 7, count: 32))))
            let secrets = try await clients.secretMetadata(of: Refid(rawValue: refid))
            let trail = try await clients.auditTrail(of: Refid(rawValue: refid)).map(\.event)
            try await database.close()
            #expect(secrets == ["api_key": "sk_live_1"])
            #expect(trail == ["created", "update_metadata", "update_metadata"])

            let empty = try dock.run("client", "update", refid)
            #expect(empty.status != 0 && empty.stderr.contains("give at least one --metadata or --secret"))
            let malformed = try dock.run("client", "update", refid, "--secret", "novalue")
            #expect(malformed.status != 0 && malformed.stderr.contains("--secret expects key=value"))
        }
    }

    @Test(arguments: Engine.allCases)
    func invoiceCreateTakesASingleAmountLikeTheBuilder(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let client = try dock.json("client", "create", "--name", "Acme", "--email", "a@acme.example") as? [String: Any]
            let acme = try #require(client?["refid"] as? String)
            let invoice = try dock.json("wave", "invoice", "create", "--client", acme, "--currency", "USD",
                                        "--amount", "12500", "--description", "Consulting, November") as? [String: Any]
            #expect(invoice?["total"] as? Int == 12_500)
            let lines = invoice?["lines"] as? [[String: Any]]
            #expect(lines?.count == 1 && lines?.first?["description"] as? String == "Consulting, November")
            #expect(lines?.first?["quantity"] as? Int == 1)

            let both = try dock.run("wave", "invoice", "create", "--client", acme, "--currency", "USD",
                                    "--amount", "100", "--line", "X:100")
            #expect(both.status != 0 && both.stderr.contains("give --amount or --line, not both"))
            let negative = try dock.run("wave", "invoice", "create", "--client", acme, "--currency", "USD", "--amount", "-5")
            #expect(negative.status != 0 && negative.stderr.hasPrefix("error: ") && negative.stdout.isEmpty)
            let invoices = try dock.json("wave", "invoice", "list", "--client", acme) as? [String: Any]
            #expect((invoices?["items"] as? [Any])?.count == 1)
        }
    }
}

    /// Every command that prints a result takes --json: the state changes print the changed
    /// model, the sweep its count and signing its token, each as the suite's one JSON shape.
    @Test(arguments: Engine.allCases)
    func everyCommandThatPrintsAResultTakesJSON(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let ally = try #require((try dock.json("ally", "create", "--user", "u-1", "--company", "Northwind") as? [String: Any])?["refid"] as? String)
            let suspended = try dock.json("ally", "suspend", ally, "--reason", "unpaid") as? [String: Any]
            #expect(suspended?["refid"] as? String == ally && suspended?["status"] as? String == "suspended")
            let reinstated = try dock.json("ally", "reinstate", ally) as? [String: Any]
            #expect(reinstated?["status"] as? String == "active" && reinstated?["id"] == nil)

            let client = try #require((try dock.json("client", "create", "--name", "Acme", "--email", "a@acme.example")
                as? [String: Any])?["refid"] as? String)
            #expect(try dock.run("client", "activate", client).status == 0)
            #expect(try dock.run("wave", "product", "create", "--name", "Pro", "--slug", "pro-1y", "--price", "4900", "--currency", "USD").status == 0)
            let minted = try dock.json("forge", "mint", "--product", "pro-1y", "--days", "30") as? [String: Any]
            let licence = try #require((minted?["licence"] as? [String: Any])?["refid"] as? String)
            let key = try #require(minted?["key"] as? String)
            #expect(try dock.run("forge", "activate", key, "--client", client).status == 0)

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let keyFile = directory.appendingPathComponent("signing.json").path
            #expect(try dock.run(["forge", "keygen", "--id", "k1", "--out", keyFile], database: false).status == 0)
            let signed = try dock.json("forge", "sign", licence, "--key-file", keyFile) as? [String: Any]
            #expect(signed?["licence"] as? String == licence && (signed?["token"] as? String)?.hasPrefix("CSL1.") == true)

            let renewed = try dock.json("forge", "renew", key, "--days", "10") as? [String: Any]
            #expect(renewed?["refid"] as? String == licence && renewed?["status"] as? String == "active" && renewed?["key"] == nil)
            let swept = try dock.json("forge", "sweep") as? [String: Any]
            #expect(swept?["marked_expired"] as? Int == 0)
            let revoked = try dock.json("forge", "revoke", licence, "--reason", "refund") as? [String: Any]
            #expect(revoked?["status"] as? String == "revoked")
        }
    }

/// A client's printed metadata, each value as text (JSON numbers come back as NSNumber).
private func plain(_ client: [String: Any]?) -> [String: String] {
    (client?["metadata"] as? [String: Any] ?? [:]).mapValues { "\($0)" }
}
