import Ally
import Client
import Foundation
import HTTPTypes
import Suite
import SuiteCore
import SuiteHTTP
import SuiteStorage
import SuiteTestSupport
import Testing

/// API keys: 401 without a working one; a reseller key sees its own portfolio and nothing else,
/// exactly as if the rest did not exist; a verify key reaches no client route.
@Suite struct APIKeyTests {
    @Test(arguments: Engine.allCases)
    func aRequestWithoutAWorkingKeyIs401AndHealthNeedsNone(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let none = try await api.call(.get, "/v1/clients", key: .some(nil))
            #expect(none.status == 401 && none["code"] as? String == "unauthorized" && none.headers[.wwwAuthenticate] == "Bearer")
            let wrong = try await api.call(.post, "/v1/clients", json: ["name": "A", "email": "a@a.example"], key: "csk_not-a-key")
            #expect(wrong.status == 401 && wrong["detail"] as? String == "Unknown or revoked API key")
            #expect(try await api.call(.get, "/health/ready", key: .some(nil)).status == 200)
            #expect(try await api.call(.get, "/openapi.yaml", key: .some(nil)).status == 200)

            let made = try await api.keys.create(.admin, name: "short-lived")
            #expect(try await api.call(.get, "/v1/clients", key: made.secret).status == 200)
            let revoked = try await api.keys.revoke(made.key.refid)
            #expect(revoked.revokedAt != nil)
            #expect(try await api.call(.get, "/v1/clients", key: made.secret).status == 401)
            await #expect(throws: APIKeyError.self) { try await api.keys.revoke(made.key.refid) }
            #expect(try await suite.clients.query().fetch().items.isEmpty)  // nothing was written by the refused create
        }
    }

    @Test(arguments: Engine.allCases)
    func aResellerKeyReachesItsOwnPortfolioAndNothingElse(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let north = try await suite.allies.make().user("u-north").company("Northwind").create()
            let south = try await suite.allies.make().user("u-south").company("Southwind").create()
            let theirs = try await suite.clients.make().name("Theirs").email("t@south.example").reseller(south.refid).create()
            let standalone = try await suite.clients.make().name("Alone").email("a@alone.example").create()
            let key = try await api.keys.create(.reseller(north.refid), name: "northwind portal").secret

            let created = try await api.call(.post, "/v1/clients", json: ["name": "Ours", "email": "o@north.example"], key: key)
            #expect(created.status == 201 && created["reseller"] as? String == north.refid.rawValue)
            let ours = try #require(created["refid"] as? String)
            let listed = try await api.call(.get, "/v1/clients", key: key)
            #expect((listed["items"] as? [[String: Any]])?.compactMap { $0["refid"] as? String } == [ours])

            let missing = try await api.call(.get, "/v1/clients/CL-DOES-NOT-EXIST", key: key)
            for other in [theirs.refid.rawValue, standalone.refid.rawValue] {
                let hidden = try await api.call(.get, "/v1/clients/\(other)", key: key)
                #expect(hidden.status == 404 && hidden["code"] as? String == missing["code"] as? String)
                let moved = try await api.call(.post, "/v1/clients/\(other)/suspend", key: key)
                #expect(moved.status == 404)
                #expect(try await api.call(.get, "/v1/clients/\(other)/history", key: key).status == 404)
            }
            #expect(try await suite.clients.find(theirs.refid).status == theirs.status)  // untouched

            let poaching = try await api.call(.post, "/v1/clients", json: ["name": "X", "email": "x@x.example", "reseller": south.refid.rawValue],
                                              key: key)
            #expect(poaching.status == 422)
            let activated = try await api.call(.post, "/v1/clients/\(ours)/activate", key: key)
            #expect(activated.status == 200)
            let trail = try await suite.clients.auditTrail(of: Refid(rawValue: ours))
            #expect(trail.last?.actor.hasPrefix("apikey:AK-") == true)

            await #expect(throws: APIKeyError.self) { try await api.keys.create(.reseller(Refid(rawValue: "RS-NOPE"))) }
        }
    }

    @Test func aVerifyKeyReachesNoClientRoute() async throws {
        try await Engine.sqlite.withAPI { api, _ in
            let key = try await api.keys.create(.verify, name: "app").secret
            let answer = try await api.call(.get, "/v1/clients", key: key)
            #expect(answer.status == 404 && answer["code"] as? String == "route_not_found")
            #expect(try await api.call(.post, "/v1/clients", json: ["name": "A", "email": "a@a.example"], key: key).status == 404)
        }
    }

    @Test func keysAreListedWithoutSecretsAndStoredAsDigests() async throws {
        try await Engine.sqlite.withAPI { api, suite in
            let made = try await api.keys.create(.verify, name: "app")
            #expect(made.secret.hasPrefix("csk_") && made.secret.count > 40)
            let page = try await api.keys.list()
            #expect(page.items.map(\.name) == ["tests", "app"])
            let encoded = String(decoding: try SuiteJSON.encoder().encode(page), as: UTF8.self)
            #expect(!encoded.contains(made.secret) && encoded.contains("\"role\":\"verify\""))
            let stored = try await suite.database.read { tx in try tx.query("SELECT digest FROM http_api_keys").map { try $0.string("digest") } }
            #expect(stored.count == 2 && !stored.contains(made.secret) && stored.allSatisfy { $0.count == 64 })
        }
    }

    /// A key that worked is remembered only until the next commit anywhere: revoked through
    /// another `APIKeys` (as `dock apikey revoke` does from another process), it fails the very
    /// next time, on both engines; an unrelated commit drops the memory too, and a working key
    /// still works after it.
    @Test(arguments: Engine.allCases)
    func aRememberedKeyStopsWorkingOnTheNextRequestAfterItsRevocation(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let keys = APIKeys(database: suite.database)  // one instance, as the authenticator holds
            let made = try await api.keys.create(.verify, name: "app")
            let other = try await api.keys.create(.verify, name: "other")
            #expect(try await keys.authenticate(made.secret)?.refid == made.key.refid)
            #expect(try await keys.authenticate(made.secret)?.refid == made.key.refid)  // served from memory on SQLite
            _ = try await suite.clients.make().name("Acme").email("a@acme.example").create()  // an unrelated commit
            #expect(try await keys.authenticate(made.secret)?.refid == made.key.refid)
            try await APIKeys(database: suite.database).revoke(made.key.refid)
            #expect(try await keys.authenticate(made.secret) == nil)
            #expect(try await keys.authenticate(other.secret)?.refid == other.key.refid)
        }
    }
}
