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

            let (shown, shownResponse) = try await URLSession.shared.data(from: URL(string: "\(base)/v1/clients/\(refid)")!)
            #expect((shownResponse as? HTTPURLResponse)?.statusCode == 200)
            #expect((try JSONSerialization.jsonObject(with: shown) as? [String: Any])?["email"] as? String == "a@acme.example")

            var request = URLRequest(url: URL(string: "\(base)/v1/clients")!)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(#"{"name": "Globex", "email": "ops@globex.example"}"#.utf8)
            let (_, createdResponse) = try await URLSession.shared.data(for: request)
            #expect((createdResponse as? HTTPURLResponse)?.statusCode == 201)
            #expect(try dock.clientCount() == 2)  // the CLI sees what HTTP wrote

            process.terminate()  // SIGTERM
            let rest = await Task.detached { String(decoding: reader.readDataToEndOfFile(), as: UTF8.self) }.value
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
            #expect(rest.contains("ClientSuite stopped"))
        }
    }
}
