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

            let process = Process()
            process.executableURL = builtProduct("dock")
            process.arguments = ["serve", "--port", "0", "--database", dock.location]
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            let reader = out.fileHandleForReading
            let firstLine = await Task.detached { () -> String in
                var text = ""
                while !text.contains("\n") {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
                return text
            }.value
            let base = try #require(firstLine.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init),
                                    "serve printed: \(firstLine)")

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

            process.terminate()  // SIGTERM
            let rest = await Task.detached { String(decoding: reader.readDataToEndOfFile(), as: UTF8.self) }.value
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
            #expect(rest.contains("ClientSuite stopped"))
        }
    }
}
