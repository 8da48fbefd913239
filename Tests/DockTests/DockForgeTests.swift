import Client
import Forge
import Foundation
import Suite
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing

@Suite struct DockForgeTests {
    @Test(arguments: Engine.allCases)
    func aLicenceIsMintedActivatedVerifiedAndRevokedFromTheCommandLine(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let client = try #require((try dock.json("client", "create", "--name", "Acme", "--email", "a@acme.example")
                as? [String: Any])?["refid"] as? String)
            #expect(try dock.run("client", "activate", client).status == 0)
            let unknownProduct = try dock.run("forge", "mint", "--product", "pro-1y")
            #expect(unknownProduct.status != 0 && unknownProduct.stderr.hasPrefix("error: Invalid Product"))  // Wave's catalogue decides
            #expect(try dock.run("wave", "product", "create", "--name", "Pro", "--slug", "pro-1y", "--price", "4900", "--currency", "USD",
                                 "--licence-days", "365").status == 0)
            let minted = try dock.json("forge", "mint", "--product", "pro-1y", "--days", "30", "--metadata", "seats=5") as? [String: Any]
            let mintedLicence = minted?["licence"] as? [String: Any]
            let refid = try #require(mintedLicence?["refid"] as? String), key = try #require(minted?["key"] as? String)
            #expect(refid.hasPrefix("LC-") && mintedLicence?["status"] as? String == "pending" && mintedLicence?["id"] == nil)
            let pending = try dock.run("forge", "verify", key)
            #expect(pending.status != 0 && pending.stdout.hasPrefix("pending"))
            let activated = try dock.json("forge", "activate", key.lowercased(), "--client", client) as? [String: Any]
            #expect(activated?["activated"] as? Int == 1)
            let again = try dock.run("forge", "activate", refid, "--client", client)
            #expect(again.status != 0 && again.stderr.contains("Licence Already Activated") && again.stderr.split(separator: "\n").count == 1)
            let valid = try dock.run("forge", "verify", key)
            #expect(valid.status == 0 && valid.stdout.hasPrefix("valid"))
            let shown = try dock.json("forge", "show", refid) as? [String: Any]
            #expect(shown?["client"] as? String == client && shown?["key"] == nil && (shown?["key_hint"] as? String)?.hasSuffix(key.suffix(5)) == true)
            #expect(try dock.run("forge", "renew", refid, "--days", "10").status == 0)
            #expect(try dock.run("forge", "revoke", refid, "--reason", "refund").status == 0)
            let result = try dock.run("forge", "verify", key, "--json")
            #expect(result.status != 0 && result.stdout.contains("\"code\" : \"revoked\""))
            let history = try dock.json("forge", "history", refid) as? [[String: Any]]
            #expect(history?.map { $0["event"] as? String } == ["minted", "activated", "renewed", "revoked"])
            let malformed = try dock.run("forge", "verify", "nonsense")
            #expect(malformed.status != 0 && malformed.stdout.hasPrefix("malformed"))
            let stats = try dock.json("forge", "analytics", "stats") as? [String: Any]
            #expect(stats?["total"] as? Int == 1 && (stats?["counts"] as? [String: Int])?["revoked"] == 1)
            let unknown = try dock.run("forge", "mint", "--product", "bad code!")
            #expect(unknown.status != 0 && unknown.stderr.hasPrefix("error: Invalid Product"))
            let list = try dock.json("forge", "list", "--client", client) as? [String: Any]
            #expect((list?["items"] as? [[String: Any]])?.count == 1)

            // Renew and revoke take the key as well as the refid, like activate.
            let second = try dock.json("forge", "mint", "--product", "pro-1y", "--days", "30", "--client", client) as? [String: Any]
            let secondRefid = try #require((second?["licence"] as? [String: Any])?["refid"] as? String), secondKey = try #require(second?["key"] as? String)
            #expect(try dock.run("forge", "activate", secondKey, "--client", client).status == 0)
            let renewed = try dock.run("forge", "renew", secondKey.lowercased(), "--days", "5")
            #expect(renewed.status == 0 && renewed.stdout.hasPrefix("\(secondRefid): active until"), "\(renewed.stderr)")
            #expect(try dock.run("forge", "revoke", secondKey, "--reason", "chargeback").stdout == "\(secondRefid): revoked\n")
            let secondHistory = try dock.json("forge", "history", secondRefid) as? [[String: Any]]
            #expect(secondHistory?.map { $0["event"] as? String } == ["minted", "activated", "renewed", "revoked"])
            for arguments in [["forge", "revoke", "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-AAAAA"], ["forge", "renew", "not a key", "--days", "1"]] {
                let missing = try dock.run(arguments)
                #expect(missing.status != 0 && missing.stderr == "error: Licence Not Found: no licence with this key\n", "\(missing.stderr)")
            }
        }
    }

    @Test func aSignedTokenVerifiesOfflineWithThePublicKeyAlone() async throws {
        try await withDock(.sqlite) { dock in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let keyFile = directory.appendingPathComponent("signing.json").path
            let generated = try dock.json(["forge", "keygen", "--id", "2026-11", "--out", keyFile], database: false) as? [String: Any]
            let publicKey = "2026-11:" + (try #require(generated?["public_key"] as? String))
            let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(try dock.run(["forge", "keygen", "--id", "again", "--out", keyFile], database: false).status != 0)  // never overwrites a key

            let client = try #require((try dock.json("client", "create", "--name", "Acme", "--email", "a@acme.example")
                as? [String: Any])?["refid"] as? String)
            #expect(try dock.run("client", "activate", client).status == 0)
            #expect(try dock.run("wave", "product", "create", "--name", "Pro", "--slug", "pro-1y", "--price", "4900", "--currency", "USD").status == 0)
            let mintedLicence = (try dock.json("forge", "mint", "--product", "pro-1y", "--days", "30") as? [String: Any])?["licence"]
            let refid = try #require((mintedLicence as? [String: Any])?["refid"] as? String)
            let pending = try dock.run("forge", "sign", refid, "--key-file", keyFile)
            #expect(pending.status != 0 && pending.stderr.contains("only an active licence"))
            #expect(try dock.run("forge", "activate", refid, "--client", client).status == 0)
            let signed = try dock.run("forge", "sign", refid, "--key-file", keyFile, "--valid-for-days", "7")
            let token = signed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(signed.status == 0 && token.hasPrefix("CSL1."))
            let verified = try dock.json(["forge", "verify-offline", token, "--public-key", publicKey], database: false) as? [String: Any]
            let claims = verified?["claims"] as? [String: Any]
            #expect(verified?["code"] as? String == "valid" && claims?["licence"] as? String == refid && claims?["client"] as? String == client)
            let tampered = try dock.run(["forge", "verify-offline", String(token.dropLast()) + (token.hasSuffix("A") ? "B" : "A"),
                                         "--public-key", publicKey], database: false)
            #expect(tampered.status != 0 && !tampered.stdout.hasPrefix("valid"))
            let otherKey = try dock.run(["forge", "verify-offline", token, "--public-key", "other:" + (generated?["public_key"] as? String ?? "")],
                                        database: false)
            #expect(otherKey.status != 0 && otherKey.stdout.hasPrefix("unknownKey"))
        }
    }

    /// Two `dock` processes race to activate the same 2,000 licences: exactly 2,000 activations.
    @Test(arguments: Engine.allCases)
    func twoProcessesActivatingTheSameLicencesActivateEachExactlyOnce(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let count = 2_000
            let client = try #require((try dock.json("client", "create", "--name", "Acme", "--email", "a@acme.example")
                as? [String: Any])?["refid"] as? String)
            let database = try SuiteDatabase.open(dock.location, drivers: Engine.drivers)
            let licences = Licences(database: database, clients: Clients(database: database))
            let minted = try await database.write { tx in
                try (0..<count).map { _ in try licences.make().product("PRO").days(30).mint(in: tx) }
            }
            // Half by refid, half by key: both paths race.
            let lines = minted.enumerated().map { $0.offset.isMultiple(of: 2) ? $0.element.licence.refid.rawValue : $0.element.key.rawValue }
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("licences-\(UUID().uuidString).txt")
            try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }

            let results = try await withThrowingTaskGroup(of: Dock.Result.self) { group in
                for _ in 0..<2 {
                    group.addTask { try dock.run("forge", "activate", "--file", file.path, "--client", client, "--json") }
                }
                return try await group.reduce(into: [Dock.Result]()) { $0.append($1) }
            }
            let summaries = try results.map { try JSONSerialization.jsonObject(with: Data($0.stdout.utf8)) as? [String: Any] }
            let activated = summaries.map { $0?["activated"] as? Int ?? -1 }, refused = summaries.map { $0?["refused"] as? Int ?? -1 }
            #expect(activated.reduce(0, +) == count, "\(results.map(\.stderr))")
            #expect(refused.reduce(0, +) == count)
            let active = try await database.read { tx in
                try tx.queryInt64("SELECT count(*) FROM forge_licences WHERE status = 'active' AND client_refid = \(client)")
            }
            let activations = try await database.read { tx in
                try tx.queryInt64("SELECT count(*) FROM forge_audit WHERE event = 'activated'")
            }
            #expect(active == Int64(count) && activations == Int64(count))
            try await database.close()
        }
    }
}
