import Ally
import Client
import Forge
import Foundation
import HTTPTypes
import Suite
import SuiteCore
import SuiteHTTP
import SuiteStorage
import SuiteTestSupport
import Testing
import Wave

/// The Forge module over HTTP, on both engines; every answer checked against openapi.yaml.
@Suite struct LicenceRouteTests {
    @Test(arguments: Engine.allCases)
    func aLicenceIsMintedActivatedVerifiedRenewedAndRevoked(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            _ = try await suite.products.create(name: "Pro", slug: "pro-1y", price: 4_900, currency: "USD", licenceDays: 365)
            let client = try await suite.clients.make().name("Acme").email("a@acme.example").create()
            _ = try await suite.clients.transition(.activate, client.refid)

            let minted = try await api.call(.post, "/v1/licences", json: ["product": "pro-1y", "days": 30, "metadata": ["seats": 5]])
            #expect(minted.status == 201)
            let licence = try #require(minted["licence"] as? [String: Any])
            let refid = try #require(licence["refid"] as? String), key = try #require(minted["key"] as? String)
            #expect(licence["status"] as? String == "pending" && licence["key"] == nil)

            let verifier = try await api.keys.create(.verify, name: "app").secret
            let pending = try await api.call(.post, "/v1/licences/verify", json: ["key": key], key: verifier)
            #expect(pending.status == 200 && pending["code"] as? String == "pending" && pending["is_valid"] as? Bool == false)

            let activated = try await api.call(.post, "/v1/licences/\(refid)/activate", json: ["client": client.refid.rawValue])
            #expect(activated.status == 200 && activated["status"] as? String == "active")
            let again = try await api.call(.post, "/v1/licences/\(refid)/activate", json: ["client": client.refid.rawValue])
            #expect(again.status == 409)
            let valid = try await api.call(.post, "/v1/licences/verify", json: ["key": key.lowercased()], key: verifier)
            #expect(valid["is_valid"] as? Bool == true && (valid["licence"] as? [String: Any])?["refid"] as? String == refid)
            // The same answer again is the same bytes (the route remembers their encoding).
            #expect(try await api.call(.post, "/v1/licences/verify", json: ["key": key], key: verifier).text == valid.text)
            let garbage = try await api.call(.post, "/v1/licences/verify", json: ["key": "nope"], key: verifier)
            #expect(garbage.status == 200 && garbage["code"] as? String == "malformed" && garbage["licence"] is NSNull)

            // A signed token verifies offline with the key set the server publishes.
            let keySet = try await api.call(.get, "/v1/licences/keys", key: verifier)
            let published = try #require((keySet["keys"] as? [[String: Any]])?.first)
            let publicKey = try LicencePublicKey(id: try #require(published["id"] as? String),
                                                 base64PublicKey: try #require(published["public_key"] as? String))
            let signed = try await api.call(.post, "/v1/licences/\(refid)/token", json: ["valid_for_days": 7])
            #expect(signed.status == 200 && signed["key_id"] as? String == "test-1")
            let token = try #require(signed["token"] as? String)
            #expect(OfflineLicenceVerifier(publicKeys: [publicKey]).verify(token).code == .valid)
            #expect(try await api.call(.post, "/v1/licences/\(refid)/token", key: verifier).status == 404)

            let renewed = try await api.call(.post, "/v1/licences/\(refid)/renew", json: ["days": 10])
            #expect(renewed.status == 200)
            // A changed licence is a new answer, never the remembered bytes of the old one.
            let afterRenewal = try await api.call(.post, "/v1/licences/verify", json: ["key": key], key: verifier)
            #expect(afterRenewal.text != valid.text && afterRenewal["code"] as? String == "valid")
            #expect((afterRenewal["licence"] as? [String: Any])?["expires_at"] as? String == renewed["expires_at"] as? String)
            let revoked = try await api.call(.post, "/v1/licences/\(refid)/revoke", json: ["reason": "refund"])
            #expect(revoked["status"] as? String == "revoked")
            #expect(try await api.call(.post, "/v1/licences/verify", json: ["key": key], key: verifier)["code"] as? String == "revoked")

            let history = try await api.call(.get, "/v1/licences/\(refid)/history")
            #expect((history["items"] as? [[String: Any]])?.map { $0["event"] as? String ?? "?" } == ["minted", "activated", "renewed", "revoked"])
            let listed = try await api.call(.get, "/v1/licences?status=revoked")
            #expect((listed["items"] as? [[String: Any]])?.compactMap { $0["refid"] as? String } == [refid])
            #expect(try await suite.licences.find(Refid(rawValue: refid)).status == .revoked)

            // A verify key reaches verification only.
            #expect(try await api.call(.get, "/v1/licences/\(refid)", key: verifier).status == 404)
            #expect(try await api.call(.post, "/v1/licences", json: ["product": "pro-1y"], key: verifier).status == 404)
            let unknownProduct = try await api.call(.post, "/v1/licences", json: ["product": "nope"])
            #expect(unknownProduct.status == 422)
        }
    }

    /// A reseller key reads its reseller's licences; any other is "Licence Not Found", word for
    /// word as for a refid that does not exist; it mints, changes and verifies nothing.
    @Test(arguments: Engine.allCases)
    func aResellerKeySeesItsOwnLicencesOnly(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            _ = try await suite.products.create(name: "Pro", slug: "pro-1y", price: 4_900, currency: "USD", licenceDays: 365)
            let north = try await suite.allies.make().user("u-north").company("Northwind").create()
            try await suite.allies.addCredits(north.refid, 10_000)
            let ours = try await suite.clients.make().name("Ours").email("o@north.example").reseller(north.refid).create()
            let provisioned = try await suite.workflows.provision(reseller: north.refid, clients: [ours.refid], product: "pro-1y",
                                                                   idempotencyKey: "batch-1")
            let theirs = try await suite.licences.make().product("pro-1y").mint()
            let key = try await api.keys.create(.reseller(north.refid)).secret

            let mine = try #require(provisioned.licences.first?.licence.refid.rawValue)
            let listed = try await api.call(.get, "/v1/licences", key: key)
            #expect((listed["items"] as? [[String: Any]])?.compactMap { $0["refid"] as? String } == [mine])
            #expect(try await api.call(.get, "/v1/licences/\(mine)", key: key).status == 200)
            let hidden = try await api.call(.get, "/v1/licences/\(theirs.licence.refid)", key: key)
            let missing = try await api.call(.get, "/v1/licences/LC-DOES-NOT-EXIST")
            #expect(hidden.status == 404 && hidden["code"] as? String == missing["code"] as? String)
            #expect(hidden["detail"] as? String == missing["detail"] as? String)
            #expect(try await api.call(.post, "/v1/licences/\(mine)/revoke", key: key).status == 404)
            #expect(try await api.call(.post, "/v1/licences/verify", json: ["key": theirs.key.rawValue], key: key).status == 404)
            #expect(try await suite.licences.find(Refid(rawValue: mine)).status == .active)
        }
    }
}
