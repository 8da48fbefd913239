import Ally
import Client
import Foundation
import Logging
import HTTPTypes
import Suite
import SuiteCore
import SuiteHTTP
import SuiteStorage
import SuiteTestSupport
import Testing
import Wave

/// `Idempotency-Key` with Stripe's semantics, on both engines.
@Suite struct IdempotencyHeaderTests {
    @Test(arguments: Engine.allCases)
    func aRetryReplaysTheFirstAnswerAndAnotherBodyIsAConflict(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let body: [String: Any] = ["name": "Acme", "email": "a@acme.example"]
            let first = try await api.call(.post, "/v1/clients", json: body, headers: keyed("order-1"))
            #expect(first.status == 201 && first.headers[.idempotentReplayed] == nil)
            let again = try await api.call(.post, "/v1/clients", json: body, headers: keyed("order-1"))
            #expect(again.status == 201 && again.headers[.idempotentReplayed] == "true" && again.text == first.text)
            let other = try await api.call(.post, "/v1/clients", json: ["name": "Acme", "email": "b@acme.example"], headers: keyed("order-1"))
            #expect(other.status == 422 && other["code"] as? String == "idempotency_conflict")
            #expect(try await suite.clients.query().fetch().items.count == 1)

            // A JSON body counts by its value: other key order and spacing is the same request.
            var json = keyed("order-3")
            json[.contentType] = "application/json"
            let spaced = try await api.call(.post, "/v1/clients", raw: #"{"name": "Zed", "email": "z@zed.example"}"#, headers: json)
            let reordered = try await api.call(.post, "/v1/clients", raw: #"{"email":"z@zed.example","name":"Zed"}"#, headers: json)
            #expect(spaced.status == 201 && reordered.headers[.idempotentReplayed] == "true" && reordered["refid"] as? String == spaced["refid"] as? String)

            // A refusal is an answer too: its retry replays it, and writes nothing.
            let invalid: [String: Any] = ["name": "Bad", "email": "not an email"]
            let refused = try await api.call(.post, "/v1/clients", json: invalid, headers: keyed("order-2"))
            let replayed = try await api.call(.post, "/v1/clients", json: invalid, headers: keyed("order-2"))
            #expect(refused.status == 422 && replayed.status == 422 && replayed.headers[.idempotentReplayed] == "true", "\(refused.text) / \(replayed.text)")

            // Keys belong to the API key that sent them.
            let second = try await api.keys.create(.admin, name: "second").secret
            let elsewhere = try await api.call(.post, "/v1/clients", json: ["name": "Other", "email": "o@other.example"],
                                               headers: keyed("order-1"), key: second)
            #expect(elsewhere.status == 201 && elsewhere.headers[.idempotentReplayed] == nil)

            let badKey = try await api.call(.post, "/v1/clients", json: body, headers: keyed(String(repeating: "k", count: 201)))
            #expect(badKey.status == 400 && (badKey["detail"] as? String)?.hasPrefix("Invalid Idempotency-Key") == true)
            #expect(try await suite.clients.query().fetch().items.count == 3)
        }
    }

    /// While the first request with a key runs, another with the same key is a 409; a request
    /// whose server died is run again after five minutes.
    @Test(arguments: Engine.allCases)
    func aKeyStillRunningIs409(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let admin = try #require(try await api.keys.authenticate(api.admin))
            let body = Data(#"{"name":"Acme","email":"a@acme.example"}"#.utf8)
            let key = try #require(IdempotencyKey("slow-1"))
            let store = IdempotentRequests(database: suite.database)
            let fingerprint = IdempotentRequests.fingerprint(method: .post, uri: "/v1/clients", body: body)
            guard case .run = try await store.start(owner: admin.refid, key: key, fingerprint: fingerprint) else {
                Issue.record("the first start did not claim the key")
                return
            }
            var headers = keyed("slow-1")
            headers[.contentType] = "application/json"
            let busy = try await api.call(.post, "/v1/clients", raw: String(decoding: body, as: UTF8.self), headers: headers)
            #expect(busy.status == 409 && busy["code"] as? String == "idempotency_in_progress")
            #expect(try await suite.clients.query().fetch().items.isEmpty)
        }
    }

    /// An answer is kept 24 hours: the sweeper prunes older ones and keeps newer, and a key whose
    /// answer is past the retention may be used afresh, even for another request.
    @Test(arguments: Engine.allCases)
    func answersAreKeptADayThenSweptAndTheKeyIsFreeAgain(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let admin = try #require(try await api.keys.authenticate(api.admin))
            let clock = ManualWallClock(now: Date())
            let store = IdempotentRequests(database: suite.database, clock: clock)
            func answer(_ key: String, _ body: String) async throws -> IdempotentRequests.Start {
                let fingerprint = IdempotentRequests.fingerprint(method: .post, uri: "/v1/clients", body: Data(body.utf8))
                let start = try await store.start(owner: admin.refid, key: try #require(IdempotencyKey(key)), fingerprint: fingerprint)
                if case .run(let claim) = start {
                    try await store.finish(owner: admin.refid, key: try #require(IdempotencyKey(key)), claim: claim, status: 201,
                                           contentType: "application/json", body: body)
                }
                return start
            }
            _ = try await answer("old", "{\"n\":1}")
            clock.advance(by: 23 * 3_600)
            _ = try await answer("new", "{\"n\":2}")
            #expect(try await answer("old", "{\"n\":1}") == .replay(status: 201, contentType: "application/json", body: "{\"n\":1}"))
            clock.advance(by: 2 * 3_600)  // "old" is 25 hours old, "new" 2
            let sweeper = IdempotencySweeper(store: store, logger: Logger(label: "test"))
            #expect(await sweeper.sweepOnce() == 1)
            #expect(try await answer("new", "{\"n\":2}") == .replay(status: 201, contentType: "application/json", body: "{\"n\":2}"))
            guard case .run = try await answer("old", "{\"n\":3}") else { Issue.record("a key past its day was not free again"); return }
            clock.advance(by: 25 * 3_600)
            // Past its day, a key is free again even before a sweep, for another request too.
            guard case .run = try await answer("new", "{\"n\":4}") else { Issue.record("an expired key was refused"); return }
        }
    }

    /// Eight retries at once with one key: exactly one runs; the others replay it or are told it
    /// is still running. One client exists.
    @Test(arguments: Engine.allCases)
    func concurrentRetriesWithOneKeyRunOnce(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let statuses = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let answer = try await api.call(.post, "/v1/clients", json: ["name": "Acme", "email": "a@acme.example"],
                                                        headers: keyed("burst"))
                        return (answer.status, answer.headers[.idempotentReplayed] == "true")
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == (201, false) }.count == 1)
            #expect(statuses.allSatisfy { $0 == (201, false) || $0 == (201, true) || $0.0 == 409 }, "\(statuses)")
            #expect(try await suite.clients.query().fetch().items.count == 1)
        }
    }

    /// Provisioning keeps its answer in its own transaction (one commit, no claim): eight twins at
    /// once with one key spend the credits once, and every one answers the first answer, byte for
    /// byte, the others marked replayed; another body with the key is a conflict; a refusal (402)
    /// is kept and replayed too, even after credits arrive.
    @Test(arguments: Engine.allCases)
    func provisioningTwinsWithOneKeySpendOnceAndAnswerAlike(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            _ = try await suite.products.create(name: "Pro", slug: "pro", price: 500, currency: "USD")
            let reseller = try await suite.allies.make().user("u-1").company("North").create()
            try await suite.allies.addCredits(reseller.refid, 1_000)
            let client = try await suite.clients.make().name("Acme").email("a@acme.example").reseller(reseller.refid).create()
            let body: [String: Any] = ["reseller": reseller.refid.rawValue, "clients": [client.refid.rawValue], "product": "pro"]
            let text = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
            let answers = try await withThrowingTaskGroup(of: (status: Int, text: String, replayed: Bool).self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var headers = keyed("twins")
                        headers[.contentType] = "application/json"
                        let answer = try await api.call(.post, "/v1/workflows/provision", raw: text, headers: headers)
                        return (answer.status, answer.text, answer.headers[.idempotentReplayed] == "true")
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.status == 201 && $0.text == answers[0].text }, "\(answers.map(\.status))")
            #expect(answers.filter { !$0.replayed }.count == 1)
            #expect(try await suite.allies.balance(reseller.refid) == 500)
            var other = body
            other["product"] = "pro-2"
            #expect(try await api.call(.post, "/v1/workflows/provision", json: other, headers: keyed("twins")).status == 422)

            #expect(try await api.call(.post, "/v1/workflows/provision", json: body, headers: keyed("second")).status == 201)
            let refused = try await api.call(.post, "/v1/workflows/provision", json: body, headers: keyed("third"))
            #expect(refused.status == 402 && refused["code"] as? String == "insufficient_credits")
            try await suite.allies.addCredits(reseller.refid, 1_000)
            let again = try await api.call(.post, "/v1/workflows/provision", json: body, headers: keyed("third"))
            #expect(again.status == 402 && again.text == refused.text && again.headers[.idempotentReplayed] == "true")
            #expect(try await suite.allies.balance(reseller.refid) == 1_000)
        }
    }
}
