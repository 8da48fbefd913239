import Client
import Foundation
import HTTPTypes
import Suite
import SuiteCore
import SuiteHTTP
import SuiteStorage
import SuiteTestSupport
import Testing

/// What every route shares: the contract, request ids, 404 and 405, the body cap, health.
@Suite struct ConventionTests {
    /// The router serves exactly the document's operations, and nothing else.
    @Test func theRoutesAndTheDocumentNameTheSameEndpoints() async throws {
        try await Engine.sqlite.withAPI { api, suite in
            let served = Set(api.endpoints.map(\.description))  // the suite with every module, and metrics
            #expect(served == Contract.shared.endpoints)
        }
    }

    @Test func unknownRoutesAre404AndKnownPathsWithAnotherMethodAre405() async throws {
        try await Engine.sqlite.withAPI { api, _ in
            let unknown = try await api.call(.get, "/v1/nothing-here")
            #expect(unknown.status == 404 && unknown["code"] as? String == "route_not_found")
            let wrongMethod = try await api.call(.delete, "/v1/clients")
            #expect(wrongMethod.status == 405 && wrongMethod["code"] as? String == "method_not_allowed")
            #expect(wrongMethod.headers[.allow] == "POST, GET")
            let wrongOnItem = try await api.call(.put, "/v1/clients/CL-ANY")
            #expect(wrongOnItem.status == 405 && wrongOnItem.headers[.allow] == "GET, PATCH")
            let wrongOnKeys = try await api.call(.delete, "/v1/licences/keys")
            #expect(wrongOnKeys.status == 405 && wrongOnKeys.headers[.allow] == "GET")
        }
    }

    @Test func aBodyOverOneMebibyteIs413AndWritesNothing() async throws {
        try await Engine.sqlite.withAPI { api, suite in
            let big = "{\"name\": \"" + String(repeating: "a", count: 1 << 20) + "\", \"email\": \"a@b.example\"}"
            let answer = try await api.call(.post, "/v1/clients", raw: big)
            #expect(answer.status == 413 && answer["code"] as? String == "payload_too_large")
            #expect(try await suite.clients.query().fetch().items.isEmpty)
        }
    }

    @Test func everyAnswerCarriesARequestIdTheCallersWhenItIsSane() async throws {
        try await Engine.sqlite.withAPI { api, _ in
            var given = HTTPFields()
            given[.requestID] = "trace-42"
            let echoed = try await api.call(.get, "/health/live", headers: given)
            #expect(echoed.headers[.requestID] == "trace-42")
            let problem = try await api.call(.get, "/v1/clients/CL-NOPE", headers: given)
            #expect(problem.headers[.requestID] == "trace-42" && problem["request_id"] as? String == "trace-42")
            var insane = HTTPFields()
            insane[.requestID] = String(repeating: "x", count: 300)
            let made = try await api.call(.get, "/health/live", headers: insane)
            let id = try #require(made.headers[.requestID])
            #expect(!id.isEmpty && id.count < 300)
        }
    }

    @Test(arguments: Engine.allCases)
    func healthSaysLiveAndReadyAndTheDocumentIsServed(engine: Engine) async throws {
        try await engine.withAPI { api, _ in
            #expect(try await api.call(.get, "/health/live")["status"] as? String == "live")
            #expect(try await api.call(.get, "/health/ready")["status"] as? String == "ready")
            let document = try await api.call(.get, "/openapi.yaml")
            #expect(document.status == 200 && document.headers[.contentType] == "application/yaml")
            #expect(document.text == String(decoding: try OpenAPIDocument.data(), as: UTF8.self))
        }
    }
}
