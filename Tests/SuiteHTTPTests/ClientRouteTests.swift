import Client
import Foundation
import HTTPTypes
import Suite
import SuiteCore
import SuiteHTTP
import SuiteStorage
import SuiteTestSupport
import Testing

/// The Client module over HTTP, on both engines. Every answer is also checked against openapi.yaml.
@Suite struct ClientRouteTests {
    @Test(arguments: Engine.allCases)
    func aClientIsCreatedReadListedChangedAndMovedThroughItsLifecycle(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let created = try await api.call(.post, "/v1/clients",
                                             json: ["name": "Acme", "email": "billing@acme.example", "user_id": "u-7",
                                                    "metadata": ["segment": "SMB", "seats": 5]])
            #expect(created.status == 201)
            let refid = try #require(created["refid"] as? String)
            #expect(refid.hasPrefix("CL-") && created["status"] as? String == "pending" && created["id"] == nil)
            #expect(created["user_id"] as? String == "u-7" && created["has_secret_metadata"] as? Bool == false)

            let shown = try await api.call(.get, "/v1/clients/\(refid)")
            #expect(shown.status == 200 && shown["email"] as? String == "billing@acme.example")
            #expect(try await suite.clients.find(.init(rawValue: refid)).name == "Acme")  // the same row, through the library

            let changed = try await api.call(.patch, "/v1/clients/\(refid)", json: ["metadata": ["seats": 40, "segment": NSNull()]])
            #expect(changed.status == 200 && (changed["metadata"] as? [String: Any])?.keys.sorted() == ["seats"])

            #expect(try await api.call(.post, "/v1/clients/\(refid)/activate").status == 200)
            let suspended = try await api.call(.post, "/v1/clients/\(refid)/suspend", json: ["reason": "unpaid"])
            #expect(suspended.status == 200 && suspended["status"] as? String == "suspended")
            let denied = try await api.call(.post, "/v1/clients/\(refid)/activate")
            #expect(denied.status == 409 && denied["code"] as? String == "status_transition_denied")
            #expect(denied.headers[.contentType] == "application/problem+json")

            let history = try await api.call(.get, "/v1/clients/\(refid)/history")
            let events = (history["items"] as? [[String: Any]])?.map { $0["event"] as? String ?? "?" }
            #expect(events == ["created", "update_metadata", "activate", "suspend"])
            #expect((history["items"] as? [[String: Any]])?.last?["reason"] as? String == "unpaid")
        }
    }

    @Test(arguments: Engine.allCases)
    func listsArePagesWithACursorAndFilters(engine: Engine) async throws {
        try await engine.withAPI { api, _ in
            var refids: [String] = []
            for index in 0..<5 {
                let created = try await api.call(.post, "/v1/clients", json: ["name": "C\(index)", "email": "c\(index)@example.com"])
                refids.append(try #require(created["refid"] as? String))
            }
            _ = try await api.call(.post, "/v1/clients/\(refids[1])/activate")
            var seen: [String] = []
            var uri = "/v1/clients?limit=2"
            while true {
                let page = try await api.call(.get, uri)
                #expect(page.status == 200)
                seen += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["refid"] as? String }
                guard let next = page["next_cursor"] as? String else { break }
                uri = "/v1/clients?limit=2&after=\(next)"
            }
            #expect(seen == refids)
            let active = try await api.call(.get, "/v1/clients?status=active")
            #expect((active["items"] as? [[String: Any]])?.compactMap { $0["refid"] as? String } == [refids[1]])
            let badStatus = try await api.call(.get, "/v1/clients?status=happy")
            #expect(badStatus.status == 422 && badStatus["code"] as? String == "validation")
            let badLimit = try await api.call(.get, "/v1/clients?limit=9999")
            #expect(badLimit.status == 422)
        }
    }

    /// Bad input is a problem with the library's code and one clear line, and writes nothing.
    @Test(arguments: Engine.allCases)
    func badInputIsAProblemThatWritesNothing(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let missing = try await api.call(.post, "/v1/clients", json: ["name": "Acme"])
            #expect(missing.status == 400 && missing["code"] as? String == "malformed_json" && missing["detail"] as? String == "Missing field: email")
            let malformed = try await api.call(.post, "/v1/clients", raw: "{\"name\": ")
            #expect(malformed.status == 400 && malformed["detail"] as? String == "The body is not valid JSON")
            let wrongType = try await api.call(.post, "/v1/clients", json: ["name": 7, "email": "a@b.example"])
            #expect(wrongType.status == 400 && wrongType["detail"] as? String == "Wrong type for name")
            let invalid = try await api.call(.post, "/v1/clients", json: ["name": "Acme", "email": "not an email"])
            #expect(invalid.status == 422 && (invalid["detail"] as? String)?.isEmpty == false)
            _ = try await api.call(.post, "/v1/clients", json: ["name": "Acme", "email": "a@acme.example"])
            let duplicate = try await api.call(.post, "/v1/clients", json: ["name": "Other", "email": "A@acme.example"])
            #expect(duplicate.status == 409 && duplicate["code"] as? String == "duplicate_email")
            let unknown = try await api.call(.get, "/v1/clients/CL-NOPE")
            #expect(unknown.status == 404 && (unknown["code"] as? String)?.hasSuffix("not_found") == true)
            for answer in [missing, malformed, wrongType, invalid, duplicate, unknown] {
                let detail = answer["detail"] as? String ?? ""
                #expect(!detail.contains("SELECT") && !detail.contains("Error(") && !detail.contains("\n"), "\(detail)")
            }
            #expect(try await suite.clients.query().fetch().items.count == 1)
        }
    }
}
