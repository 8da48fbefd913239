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
import Wave

/// Resellers and provisioning over HTTP, on both engines; every answer checked against openapi.yaml.
@Suite struct ResellerRouteTests {
    @Test(arguments: Engine.allCases)
    func anAdminRegistersCreditsSuspendsAndReinstatesAReseller(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let created = try await api.call(.post, "/v1/resellers", json: ["user_id": "u-1", "company": "Northwind", "tier": "gold"])
            #expect(created.status == 201 && created["balance"] as? Int == 0 && created["tier"] as? String == "gold")
            let refid = try #require(created["refid"] as? String)
            let credited = try await api.call(.post, "/v1/resellers/\(refid)/credits", json: ["amount": 1_000])
            #expect(credited["balance"] as? Int == 1_000 && credited["reseller"] as? String == refid)  // `dock ally show --json`'s shape
            let refused = try await api.call(.post, "/v1/resellers/\(refid)/credits", json: ["amount": -5])
            #expect(refused.status == 422)
            #expect(try await api.call(.post, "/v1/resellers/\(refid)/suspend", json: ["reason": "unpaid"])["status"] as? String == "suspended")
            #expect(try await api.call(.post, "/v1/resellers/\(refid)/suspend").status == 409)
            #expect(try await api.call(.post, "/v1/resellers/\(refid)/reinstate")["status"] as? String == "active")
            let history = try await api.call(.get, "/v1/resellers/\(refid)/history")
            #expect((history["items"] as? [[String: Any]])?.map { $0["amount"] as? Int } == [1_000])
            let listed = try await api.call(.get, "/v1/resellers")
            #expect((listed["items"] as? [[String: Any]])?.count == 1)
            let badTier = try await api.call(.post, "/v1/resellers", json: ["user_id": "u-2", "company": "X", "tier": "diamond"])
            #expect(badTier.status == 422)
            #expect(try await suite.allies.balance(Refid(rawValue: refid)) == 1_000)
        }
    }

    /// A reseller key provisions for its own clients with its credits, reads its own reseller,
    /// history and statistics, and gets "Reseller Not Found", word for word, for any other.
    @Test(arguments: Engine.allCases)
    func aResellerProvisionsForItsClientsAndSeesNoOtherReseller(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            _ = try await suite.products.create(name: "Pro", slug: "pro-1y", price: 500, currency: "USD", licenceDays: 365)
            let north = try await suite.allies.make().user("u-north").company("Northwind").create()
            let south = try await suite.allies.make().user("u-south").company("Southwind").create()
            try await suite.allies.addCredits(north.refid, 1_000)
            let client = try await suite.clients.make().name("Acme").email("a@acme.example").reseller(north.refid).create()
            let key = try await api.keys.create(.reseller(north.refid)).secret

            var headers = HTTPFields()
            headers[.idempotencyKey] = "batch-1"
            let body: [String: Any] = ["reseller": north.refid.rawValue, "clients": [client.refid.rawValue], "product": "pro-1y"]
            let provisioned = try await api.call(.post, "/v1/workflows/provision", json: body, headers: headers, key: key)
            #expect(provisioned.status == 201 && provisioned["cost"] as? Int == 500 && provisioned["balance_after"] as? Int == 500)
            let licences = try #require(provisioned["licences"] as? [[String: Any]])
            #expect(licences.count == 1 && (licences[0]["key"] as? String)?.isEmpty == false)
            let retried = try await api.call(.post, "/v1/workflows/provision", json: body, headers: headers, key: key)
            #expect(retried.headers[.idempotentReplayed] == "true" && retried.text == provisioned.text)
            #expect(try await suite.allies.balance(north.refid) == 500)

            var other = HTTPFields()
            other[.idempotencyKey] = "batch-2"
            let poach = try await api.call(.post, "/v1/workflows/provision",
                                           json: ["reseller": south.refid.rawValue, "clients": [client.refid.rawValue], "product": "pro-1y"],
                                           headers: other, key: key)
            let missing = try await api.call(.get, "/v1/resellers/\(south.refid)x")
            #expect(poach.status == 404 && poach["code"] as? String == missing["code"] as? String)
            let noKey = try await api.call(.post, "/v1/workflows/provision", json: body, key: key)
            #expect(noKey.status == 400)
            var third = HTTPFields()
            third[.idempotencyKey] = "batch-3"
            let short = try await api.call(.post, "/v1/workflows/provision", json: body, headers: third, key: key)
            #expect(short.status == 201)  // 500 left: exactly enough
            var fourth = HTTPFields()
            fourth[.idempotencyKey] = "batch-4"
            let broke = try await api.call(.post, "/v1/workflows/provision", json: body, headers: fourth, key: key)
            #expect(broke.status == 402 && broke["code"] as? String == "insufficient_credits")

            let mine = try await api.call(.get, "/v1/resellers/\(north.refid)", key: key)
            #expect(mine["balance"] as? Int == 0)
            let stats = try await api.call(.get, "/v1/resellers/\(north.refid)/stats", key: key)
            #expect(stats["credits_spent"] as? Int == 1_000 && stats["provisions"] as? Int == 2)
            let theirs = try await api.call(.get, "/v1/resellers/\(south.refid)", key: key)
            let absent = try await api.call(.get, "/v1/resellers/\(south.refid)")  // as admin: it exists
            #expect(absent.status == 200)
            let nothing = try await api.call(.get, "/v1/resellers/RS-NOPE")
            #expect(theirs.status == 404 && theirs["code"] as? String == nothing["code"] as? String)
            #expect((theirs["detail"] as? String)?.replacingOccurrences(of: south.refid.rawValue, with: "RS-NOPE") == nothing["detail"] as? String)
            #expect(try await api.call(.get, "/v1/resellers/\(south.refid)/history", key: key).status == 404)
            #expect(try await api.call(.post, "/v1/resellers/\(north.refid)/credits", json: ["amount": 5], key: key).status == 404)
            #expect(try await api.call(.get, "/v1/resellers", key: key).status == 404)
        }
    }
}
