import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SuiteTestSupport
import Testing

/// `dock serve` as a user runs it: it prints its URL, answers HTTP on the same database the other
/// commands use, and on SIGTERM finishes, closes the database and exits 0.
@Suite struct DockServeTests {
    @Test(arguments: Engine.allCases)
    func serveAnswersOverHTTPAndStopsGracefullyOnSIGTERM(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let created = try dock.json("client", "create", "--name", "Acme", "--email", "a@acme.example") as? [String: Any]
            let refid = try #require(created?["refid"] as? String)
            let made = try dock.json("apikey", "create", "--admin", "--name", "ops") as? [String: Any]
            let secret = try #require(made?["secret"] as? String)
            let keyRefid = try #require((made?["key"] as? [String: Any])?["refid"] as? String)
            let verify = try #require((try dock.json("apikey", "create", "--verify") as? [String: Any])?["secret"] as? String)
            #expect(try dock.run("apikey", "create", "--admin", "--verify").stderr.contains("exactly one of"))
            let listed = try dock.run("apikey", "list")
            #expect(listed.status == 0 && listed.stdout.contains(keyRefid) && !listed.stdout.contains(secret))

            let server = try await DockServer.start(database: dock.location)
            defer { server.terminateIfRunning() }
            let base = server.url

            func get(_ path: String, key: String?) async throws -> (Data, Int) {
                var request = URLRequest(url: URL(string: base + path)!)
                if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
                let (data, response) = try await URLSession.shared.data(for: request)
                return (data, (response as? HTTPURLResponse)?.statusCode ?? -1)
            }
            #expect(try await get("/v1/clients/\(refid)", key: nil).1 == 401)
            #expect(try await get("/v1/clients/\(refid)", key: verify).1 == 404)
            let (shown, status) = try await get("/v1/clients/\(refid)", key: secret)
            #expect(status == 200)
            #expect((try JSONSerialization.jsonObject(with: shown) as? [String: Any])?["email"] as? String == "a@acme.example")

            var request = URLRequest(url: URL(string: "\(base)/v1/clients")!)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue("Bearer \(secret)", forHTTPHeaderField: "Authorization")
            request.httpBody = Data(#"{"name": "Globex", "email": "ops@globex.example"}"#.utf8)
            let (_, createdResponse) = try await URLSession.shared.data(for: request)
            #expect((createdResponse as? HTTPURLResponse)?.statusCode == 201)
            #expect(try dock.clientCount() == 2)  // the CLI sees what HTTP wrote
            #expect(try dock.run("apikey", "revoke", keyRefid).stdout == "\(keyRefid): revoked\n")
            #expect(try await get("/v1/clients/\(refid)", key: secret).1 == 401)  // the running server sees the revocation

            let stopped = await server.stop()  // SIGTERM
            #expect(stopped.status == 0, "\(stopped.errors)")
            #expect(stopped.output.contains("ClientSuite stopped"))
        }
    }
}
